//! `user-service` serves the API; `user-service seed-users` creates the demo accounts.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use ticketflow_common::{config, healthcheck, server, telemetry};
use ticketflow_user::config::DEFAULT_PORT;
use ticketflow_user::{seed_database, Config, SERVICE};

/// Accounts, login and JWTs. Without a command, serves the API on PORT (3001).
#[derive(Parser)]
#[command(name = "user-service", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Exit 0 when this service answers `GET /health/ready` on its own port (readiness: every
    /// dependency answers); for container probes.
    Healthcheck,
    /// Create the demo accounts (idempotent; never promotes an account it cannot verify).
    SeedUsers,
}

#[tokio::main]
async fn main() -> ExitCode {
    let result = match Cli::parse().command {
        None => serve().await,
        Some(Command::SeedUsers) => seed().await,
        Some(Command::Healthcheck) => {
            return healthcheck::run(SERVICE, DEFAULT_PORT, "/health/ready")
        }
    };
    server::exit_code(SERVICE, result)
}

async fn serve() -> anyhow::Result<()> {
    let _telemetry = telemetry::init(SERVICE)?;
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
