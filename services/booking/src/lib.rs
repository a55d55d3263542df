//! TicketFlow booking-service: bookings and the choreographed booking saga (PostgreSQL,
//! transactional outbox).

pub mod app;
pub mod catalogue;
pub mod config;
pub mod domain;
pub mod error;
pub mod messaging;
pub mod routes;
pub mod service;
pub mod state;
pub mod store;
pub mod view;

use std::time::Duration;

use anyhow::Context;
use ticketflow_common::kafka::Producer;
use ticketflow_common::outbox::Relay;
use ticketflow_common::pg::{self, Database};
use ticketflow_common::{retry, server};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use config::Config;
pub use state::AppState;

/// The name this service reports in health, logs and traces.
pub const SERVICE: &str = "booking-service";

/// How long shutdown waits for the background work to finish what it is doing.
const BACKGROUND_DRAIN: Duration = Duration::from_secs(10);

/// Serves on `listener` until `shutdown` fires. HTTP (and `/health`) is up at once; the schema
/// is applied in the background with retries, then the consumer, the outbox relay and the
/// timeout sweeper start.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    config.check_time_limits()?;
    let pool = pg::lazy_pool(config.database_url.expose(), config.db_max_connections)
        .context("BOOKING_DB_URL")?;
    let producer =
        Producer::new(&config.kafka_bootstrap)?.with_topic_prefix(&config.kafka_topic_prefix);
    let state = AppState::new(Database::new(pool.clone()), &config)?;
    let background = shutdown.child_token();
    let mut worker = tokio::spawn(start(config, state.clone(), producer, background.clone()));

    let served = server::serve(listener, app::router(state), shutdown).await;

    background.cancel();
    if tokio::time::timeout(BACKGROUND_DRAIN, &mut worker)
        .await
        .is_err()
    {
        tracing::warn!("background work did not stop in time");
        worker.abort();
    }
    pool.close().await;
    served
}

async fn start(config: Config, state: AppState, producer: Producer, shutdown: CancellationToken) {
    let pool = state.database.pool().clone();
    let migrated =
        retry::until_ok("applying the schema", &shutdown, || store::migrate(&pool)).await;
    if migrated.is_none() {
        return;
    }
    state.database.mark_schema_ready();
    tracing::info!("schema ready, starting consumer, relay and timeout sweeper");
    let consumer = messaging::consume(&config, state.clone(), producer.clone(), shutdown.clone());
    tokio::join!(
        consumer,
        Relay::new(pool, producer).run(shutdown.clone()),
        retry::sweep_every(
            "booking timeout sweep",
            state.sweep_interval,
            &shutdown,
            || { service::time_out(&state) }
        ),
    );
}
