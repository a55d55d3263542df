//! TicketFlow user-service: registration, login, JWT issuing and
//! `ticketflow.user.registered` through a transactional outbox.

pub mod accounts;
pub mod app;
pub mod config;
pub mod domain;
pub mod error;
pub mod password;
pub mod routes;
pub mod seed;
pub mod state;
pub mod store;

use std::time::Duration;

use anyhow::Context;
use sqlx::PgPool;
use ticketflow_common::kafka::Producer;
use ticketflow_common::outbox::Relay;
use ticketflow_common::pg::{self, Database};
use ticketflow_common::{retry, server};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use config::Config;
pub use seed::{seed_database, seed_users, SeedOutcome, SeedStatus};
pub use state::AppState;

/// The name this service reports in health, logs and traces.
pub const SERVICE: &str = "user-service";

/// How long shutdown waits for the outbox relay to finish its batch.
const BACKGROUND_DRAIN: Duration = Duration::from_secs(5);

/// Serves on `listener` until `shutdown` fires. HTTP (and `/health`) is up at once; the schema
/// is applied in the background with retries, after which store-backed routes answer and the
/// outbox relay starts publishing.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let pool = pg::lazy_pool(config.database_url.expose(), config.db_max_connections)
        .context("USER_DB_URL")?;
    let producer = Producer::new(&config.kafka_bootstrap)?;
    let state = AppState::new(Database::new(pool.clone()), &config);

    let background = shutdown.child_token();
    let mut prepare = tokio::spawn(prepare(
        pool.clone(),
        producer,
        state.clone(),
        background.clone(),
    ));

    let served = server::serve(listener, app::router(state), shutdown).await;

    background.cancel();
    if tokio::time::timeout(BACKGROUND_DRAIN, &mut prepare)
        .await
        .is_err()
    {
        tracing::warn!("outbox relay did not stop in time, abandoning its batch");
        prepare.abort();
    }
    pool.close().await;
    served
}

/// Applies the schema (retrying with backoff until it works or shutdown), marks the service
/// ready, then runs the outbox relay until shutdown.
async fn prepare(pool: PgPool, producer: Producer, state: AppState, shutdown: CancellationToken) {
    let migrated =
        retry::until_ok("applying the schema", &shutdown, || store::migrate(&pool)).await;
    if migrated.is_none() {
        return;
    }
    state.database.mark_schema_ready();
    if let Err(err) = state.passwords.warm_up().await {
        tracing::warn!(
            error = format!("{err:#}"),
            "could not prepare the dummy password hash"
        );
    }
    tracing::info!("schema ready, starting outbox relay");
    Relay::new(pool, producer).run(shutdown).await;
}
