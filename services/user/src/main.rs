//! `user-service` serves the API; `user-service seed-users` creates the demo accounts.

use std::process::ExitCode;
use std::time::Duration;

use ticketflow_common::{config, server, telemetry};
use ticketflow_user::{seed_database, Config};

const USAGE: &str = "usage: user-service [seed-users]";

#[tokio::main]
async fn main() -> ExitCode {
    let _telemetry = match telemetry::init(ticketflow_user::app::SERVICE) {
        Ok(t) => t,
        Err(err) => {
            eprintln!("user-service: {err:#}");
            return ExitCode::FAILURE;
        }
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] => serve().await,
        ["seed-users"] => seed().await,
        ["-h" | "--help" | "help"] => {
            eprintln!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("user-service: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let listener = server::bind(config.port).await?;
    ticketflow_user::run(config, listener, server::shutdown_token()).await
}

#[allow(clippy::print_stdout)]
async fn seed() -> anyhow::Result<()> {
    let url = config::required("USER_DB_URL")?;
    for outcome in seed_database(&url, Duration::from_secs(60)).await? {
        println!("{outcome}");
    }
    Ok(())
}
