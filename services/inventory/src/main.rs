//! `inventory-service` serves the API and consumes the seat topics.

use std::process::ExitCode;

use clap::Parser;
use ticketflow_common::{server, telemetry};
use ticketflow_inventory::{Config, SERVICE};

/// Seat maps, seat locks and the live seat stream. Serves on PORT (3004).
#[derive(Parser)]
#[command(name = "inventory-service", version)]
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
    ticketflow_inventory::run(config, listener, server::shutdown_token()).await
}
