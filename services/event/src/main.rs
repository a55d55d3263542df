//! `event-service` serves the API; `event-service seed [--file PATH]` loads the demo catalogue.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use ticketflow_common::kafka::Producer;
use ticketflow_common::{server, telemetry};
use ticketflow_event::seed::{self, Catalogue};
use ticketflow_event::{connect_store, run, Config};
use tokio_util::sync::CancellationToken;

const USAGE: &str = "usage: event-service            serve the API (PORT, default 3002)
       event-service seed [--file PATH]
                            insert the demo venues and events that are missing
                            (default: the catalogue built into the binary,
                            infra/seed/catalogue.json)";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None => serve().await,
        Some("seed") => match seed_file(&args[1..]) {
            Ok(file) => seed_command(file).await,
            Err(message) => {
                eprintln!("{message}\n{USAGE}");
                ExitCode::from(2)
            }
        },
        Some("-h" | "--help" | "help") => {
            eprintln!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("unknown command {other:?}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn load_config() -> Result<Config, ExitCode> {
    Config::from_env().map_err(|err| {
        eprintln!("event-service: {err}");
        ExitCode::from(1)
    })
}

async fn serve() -> ExitCode {
    let _telemetry = match telemetry::init("event-service") {
        Ok(t) => t,
        Err(err) => {
            eprintln!("event-service: {err:#}");
            return ExitCode::from(1);
        }
    };
    let config = match load_config() {
        Ok(c) => c,
        Err(code) => return code,
    };
    let listener = match server::bind(config.port).await {
        Ok(l) => l,
        Err(err) => {
            eprintln!("event-service: {err:#}");
            return ExitCode::from(1);
        }
    };
    match run(config, listener, server::shutdown_token()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "event-service stopped");
            ExitCode::from(1)
        }
    }
}

fn seed_file(args: &[String]) -> Result<Option<String>, String> {
    match args {
        [] => Ok(None),
        [flag, path] if flag == "--file" => Ok(Some(path.clone())),
        [one] if one.starts_with("--file=") => Ok(Some(one["--file=".len()..].to_owned())),
        _ => Err(format!("unexpected arguments: {}", args.join(" "))),
    }
}

async fn seed_command(file: Option<String>) -> ExitCode {
    match seed_inner(file).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("event-service seed failed: {err:#}");
            ExitCode::from(1)
        }
    }
}

async fn seed_inner(file: Option<String>) -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let catalogue = match &file {
        Some(path) => Catalogue::parse(
            &std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("reading {path}: {e}"))?,
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
    let producer = Producer::new(&config.kafka_bootstrap)?;
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
