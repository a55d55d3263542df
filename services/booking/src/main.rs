//! `booking-service` serves the API and runs its part of the booking saga.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ticketflow_booking::config::DEFAULT_PORT;
use ticketflow_booking::{Config, SERVICE};
use ticketflow_common::{healthcheck, server, telemetry};

/// Bookings and the booking saga. Serves on PORT (3003).
#[derive(Parser)]
#[command(name = "booking-service", version)]
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
    ticketflow_booking::run(config, listener, server::shutdown_token()).await
}
