//! `event-service` serves the API; `event-service seed [--file PATH]` loads the demo catalogue.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use ticketflow_common::{healthcheck, server, telemetry};
use ticketflow_event::config::DEFAULT_PORT;
use ticketflow_event::seed::{self, Catalogue};
use ticketflow_event::{connect_store, run, Config, SERVICE};
use tokio_util::sync::CancellationToken;

/// The events and venues catalogue. Without a command, serves the API on PORT (3002).
#[derive(Parser)]
#[command(name = "event-service", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Exit 0 when this service answers `GET /health/ready` on its own port (readiness: every
    /// dependency answers); for container probes.
    Healthcheck,
    /// Insert the demo venues and events that are missing.
    Seed {
        /// A catalogue file (default: the one built into the binary, infra/seed/catalogue.json).
        #[arg(long)]
        file: Option<PathBuf>,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let result = match Cli::parse().command {
        None => serve().await,
        Some(Command::Seed { file }) => seed(file).await,
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
    run(config, listener, server::shutdown_token()).await
}

async fn seed(file: Option<PathBuf>) -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let catalogue = match &file {
        Some(path) => Catalogue::parse(
            &std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?,
        )?,
        None => Catalogue::builtin()?,
    };
    // Give a just-started MongoDB a little time, then give up with a clear message.
    let give_up = CancellationToken::new();
    let timer = give_up.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(30)).await;
        timer.cancel();
    });
    let store = connect_store(&config, &give_up)
        .await
        .ok_or_else(|| anyhow::anyhow!("MongoDB at MONGODB_URL did not answer within 30 s"))?;
    store.ensure_indexes().await?;
    let producer = ticketflow_event::producer(&config)?;
    let report = seed::seed(
        &store,
        &producer,
        &catalogue,
        chrono::Utc::now().date_naive(),
    )
    .await?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "venues: {} created, {} already there; events: {} created, {} already there; \
         event.created: {} published, {} pending",
        report.venues_created,
        report.venues_existing,
        report.events_created,
        report.events_existing,
        report.messages_published,
        report.messages_pending,
    )?;
    if report.messages_pending > 0 {
        writeln!(
            out,
            "warning: Kafka did not take {} message(s); a running event-service publishes them",
            report.messages_pending
        )?;
    }
    Ok(())
}
