//! `notification-service` serves the API and sends the mails its consumer receives.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ticketflow_common::{healthcheck, server, telemetry};
use ticketflow_notification::config::DEFAULT_PORT;
use ticketflow_notification::{run, Config, SERVICE};

/// The e-mails of sign-up and bookings. Serves the API on PORT (3006).
#[derive(Parser)]
#[command(name = "notification-service", version)]
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
    run(config, listener, server::shutdown_token()).await
}
