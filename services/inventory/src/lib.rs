//! TicketFlow inventory-service: seat maps, the seat lock (a Redis gate in front of
//! PostgreSQL, which decides), availability and live seat changes.

pub mod app;
pub mod config;
pub mod domain;
pub mod error;
pub mod gate;
pub mod inventory;
pub mod live;
pub mod messaging;
pub mod routes;
pub mod state;
pub mod store;

use std::time::Duration;

use anyhow::Context;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use ticketflow_common::kafka::Producer;
use ticketflow_common::outbox::Relay;
use ticketflow_common::pg::{self, Database};
use ticketflow_common::{retry, server};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use config::Config;
pub use state::AppState;

/// The name this service reports in health, logs and traces.
pub const SERVICE: &str = "inventory-service";

/// How long a Redis command may take before the lock goes on without the gate.
const REDIS_TIMEOUT: Duration = Duration::from_secs(2);
/// How long shutdown waits for the background work to finish what it is doing.
const BACKGROUND_DRAIN: Duration = Duration::from_secs(10);

/// Serves on `listener` until `shutdown` fires. HTTP (and `/health`) is up at once; the schema
/// is applied and Redis connected in the background with retries; once the schema is in
/// place the consumer, the outbox relay, the sweeper and the live change follower start.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let pool = pg::lazy_pool(config.database_url.expose(), config.db_max_connections)
        .context("INVENTORY_DB_URL")?;
    let redis = redis::Client::open(config.redis_url.expose()).context("REDIS_URL")?;
    let producer =
        Producer::new(&config.kafka_bootstrap)?.with_topic_prefix(&config.kafka_topic_prefix);
    let background = shutdown.child_token();
    let state = AppState::new(Database::new(pool.clone()), &config, background.clone());

    let tasks = TaskTracker::new();
    tasks.spawn(connect_gate(redis, state.clone(), background.clone()));
    tasks.spawn(start(config, state.clone(), producer, background.clone()));
    tasks.close();

    let served = server::serve(listener, app::router(state), shutdown).await;

    background.cancel();
    if tokio::time::timeout(BACKGROUND_DRAIN, tasks.wait())
        .await
        .is_err()
    {
        tracing::warn!("background work did not stop in time");
    }
    pool.close().await;
    served
}

async fn connect_gate(redis: redis::Client, state: AppState, shutdown: CancellationToken) {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(REDIS_TIMEOUT)
        .set_response_timeout(REDIS_TIMEOUT);
    let connected = retry::until_ok("connecting to Redis", &shutdown, || {
        let (redis, config) = (redis.clone(), config.clone());
        async move { Ok(ConnectionManager::new_with_config(redis, config).await?) }
    })
    .await;
    if let Some(manager) = connected {
        state.set_gate(gate::Gate::new(manager));
        tracing::info!("Redis seat gate connected");
    }
}

/// Applies the schema (retrying until it works or shutdown), then runs the consumer, the
/// outbox relay, the sweeper and the live change follower until shutdown.
async fn start(config: Config, state: AppState, producer: Producer, shutdown: CancellationToken) {
    let pool = state.database.pool().clone();
    let migrated =
        retry::until_ok("applying the schema", &shutdown, || store::migrate(&pool)).await;
    if migrated.is_none() {
        return;
    }
    state.database.mark_schema_ready();
    tracing::info!("schema ready, starting consumer, relay, sweeper and live change follower");
    let consumer = messaging::consume(&config, state.clone(), producer.clone(), shutdown.clone());
    tokio::join!(
        consumer,
        Relay::new(pool.clone(), producer).run(shutdown.clone()),
        retry::sweep_every("seat sweep", state.sweep_interval, &shutdown, || {
            inventory::sweep(&state)
        }),
        state.live.clone().follow(pool, shutdown.clone()),
    );
}
