//! `gateway` serves on `PORT` (3000) until SIGTERM/Ctrl-C.

use std::process::ExitCode;

use clap::Parser;
use ticketflow_common::{server, telemetry};
use ticketflow_gateway::{Config, SERVICE};

/// The single public entry point: verifies JWTs and proxies `/api/*` to the services.
#[derive(Parser)]
#[command(name = "gateway", version)]
struct Cli {}

#[tokio::main]
async fn main() -> ExitCode {
    Cli::parse();
    server::exit_code(SERVICE, serve().await)
}

async fn serve() -> anyhow::Result<()> {
    let _telemetry = telemetry::init(SERVICE)?;
    let config = Config::from_env()?;
    let listener = server::bind(config.port).await?;
    ticketflow_gateway::run(config, listener, server::shutdown_token()).await
}
