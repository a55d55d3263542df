//! `booking-service` serves the API and runs its part of the booking saga.

use std::process::ExitCode;

use clap::Parser;
use ticketflow_booking::{Config, SERVICE};
use ticketflow_common::{server, telemetry};

/// Bookings and the booking saga. Serves on PORT (3003).
#[derive(Parser)]
#[command(name = "booking-service", version)]
struct Cli {}

#[tokio::main]
async fn main() -> ExitCode {
    let Cli {} = Cli::parse();
    server::exit_code(SERVICE, serve().await)
}

async fn serve() -> anyhow::Result<()> {
    let _telemetry = telemetry::init(SERVICE)?;
    let config = Config::from_env()?;
    let listener = server::bind(config.port).await?;
    ticketflow_booking::run(config, listener, server::shutdown_token()).await
}
