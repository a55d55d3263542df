//! `with-env [--root DIR] COMMAND [ARGS...]`: runs COMMAND with the project's env files loaded
//! (`.env.example` → `.env` → `.env.local` under DIR, default the current directory; later
//! files win, variables already set in the environment — even to "" — win over all files).
//! `scripts/with-env.sh` builds and runs it.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1).peekable();
    let mut root = PathBuf::from(".");
    if args.peek().is_some_and(|a| a == "--root") {
        args.next();
        match args.next() {
            Some(dir) => root = PathBuf::from(dir),
            None => return usage(),
        }
    }
    if args.peek().is_some_and(|a| a == "--") {
        args.next();
    }
    let Some(program) = args.next() else {
        return usage();
    };
    let values = match ticketflow_envfile::load(&root) {
        Ok(values) => values,
        Err(err) => {
            eprintln!("with-env: {err}");
            return ExitCode::from(2);
        }
    };
    let mut command = Command::new(&program);
    command.args(args);
    for (name, value) in values {
        if std::env::var_os(&name).is_none() {
            command.env(name, value);
        }
    }
    run(command, &program)
}

fn usage() -> ExitCode {
    eprintln!("usage: with-env [--root DIR] COMMAND [ARGS...]");
    ExitCode::from(2)
}

#[cfg(unix)]
fn run(mut command: Command, program: &OsString) -> ExitCode {
    use std::os::unix::process::CommandExt;
    // Only returns on failure.
    let err = command.exec();
    eprintln!("with-env: cannot run {}: {err}", program.to_string_lossy());
    ExitCode::from(127)
}

#[cfg(not(unix))]
fn run(mut command: Command, program: &OsString) -> ExitCode {
    match command.status() {
        Ok(status) => ExitCode::from(status.code().unwrap_or(1).clamp(0, 255) as u8),
        Err(err) => {
            eprintln!("with-env: cannot run {}: {err}", program.to_string_lossy());
            ExitCode::from(127)
        }
    }
}
