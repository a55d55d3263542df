//! `gateway`: loads the configuration, then serves on `PORT` (3000) until SIGTERM/Ctrl-C.

use ticketflow_common::{server, telemetry};
use ticketflow_gateway::Config;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("gateway: {err}");
            std::process::exit(1);
        }
    };
    let _telemetry = telemetry::init("gateway")?;
    let listener = server::bind(config.port).await?;
    ticketflow_gateway::run(config, listener, server::shutdown_token()).await
}
