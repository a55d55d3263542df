//! `inventory-service` serves the API and consumes the seat topics.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ticketflow_common::{healthcheck, server, telemetry};
use ticketflow_inventory::config::DEFAULT_PORT;
use ticketflow_inventory::{Config, SERVICE};

/// Seat maps, seat locks and the live seat stream. Serves on PORT (3004).
#[derive(Parser)]
#[command(name = "inventory-service", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Exit 0 when this service answers `GET /health/ready` on its own port (readiness: every
    /// dependency answers); for container probes.
    Healthcheck,
}

#[tokio::main]
async fn main() -> ExitCode {
    match Cli::parse().command {
        None => server::exit_code(SERVICE, serve().await),
        Some(Command::Healthcheck) => healthcheck::run(SERVICE, DEFAULT_PORT, "/health/ready"),
    }
}

async fn serve() -> anyhow::Result<()> {
    let _telemetry = telemetry::init(SERVICE)?;
    let config = Config::from_env()?;
    let listener = server::bind(config.port).await?;
    ticketflow_inventory::run(config, listener, server::shutdown_token()).await
}
