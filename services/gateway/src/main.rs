//! `gateway` serves on `PORT` (3000) until SIGTERM/Ctrl-C.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ticketflow_common::{healthcheck, server, telemetry};
use ticketflow_gateway::config::DEFAULT_PORT;
use ticketflow_gateway::{Config, SERVICE};

/// The single public entry point: verifies JWTs and proxies `/api/*` to the services.
#[derive(Parser)]
#[command(name = "gateway", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Exit 0 when the gateway answers `GET /health` on PORT (its readiness is on the internal
    /// METRICS_PORT); for container probes.
    Healthcheck,
}

#[tokio::main]
async fn main() -> ExitCode {
    match Cli::parse().command {
        None => server::exit_code(SERVICE, serve().await),
        Some(Command::Healthcheck) => healthcheck::run(SERVICE, DEFAULT_PORT, "/health"),
    }
}

async fn serve() -> anyhow::Result<()> {
    let _telemetry = telemetry::init(SERVICE)?;
    let config = Config::from_env()?;
    let listener = server::bind(config.port).await?;
    ticketflow_gateway::run(config, listener, server::shutdown_token()).await
}
