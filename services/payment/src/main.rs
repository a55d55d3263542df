//! `payment-service` serves the API and runs the mock payment provider's consumer.

use std::process::ExitCode;

use clap::Parser;
use ticketflow_common::{server, telemetry};
use ticketflow_payment::{run, Config, SERVICE};

/// Payments of bookings through a mock provider. Serves the API on PORT (3005).
#[derive(Parser)]
#[command(name = "payment-service", version)]
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
    run(config, listener, server::shutdown_token()).await
}
