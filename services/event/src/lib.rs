//! event-service: the events and venues catalogue (MongoDB), publishing
//! `ticketflow.event.created` through an in-document outbox and keeping `available_seats` in
//! step with `ticketflow.seats.availability`.

pub mod app;
pub mod cache;
pub mod config;
pub mod domain;
pub mod error;
pub mod messaging;
pub mod posters;
pub mod routes;
pub mod seed;
pub mod service;
pub mod state;
pub mod store;
pub mod view;

use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use ticketflow_common::kafka::Producer;
use ticketflow_common::{retry, server};

pub use config::Config;

/// The name this service reports in health, logs and traces.
pub const SERVICE: &str = "event-service";

use crate::messaging::{availability, Relay};
use crate::state::AppState;
use crate::store::Store;

/// How long shutdown waits for in-flight publications.
const DRAIN_LIMIT: Duration = Duration::from_secs(10);

/// Serves HTTP on `listener` until `shutdown` fires. `/health` answers at once; MongoDB is
/// connected (and indexed) in the background with retries, the outbox relay and the
/// `seats.availability` consumer start once it answers, and all of them stop on `shutdown`.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let producer = producer(&config)?;
    let state = AppState::new(producer.clone(), config.identity_key.clone());
    let background = shutdown.child_token();
    let worker = tokio::spawn(start_store(
        config,
        state.clone(),
        producer,
        background.clone(),
    ));
    let served = server::serve(listener, app::router(state.clone()), shutdown).await;
    // Let publications started by the last requests finish (the relay covers any that don't).
    if !state.drain(DRAIN_LIMIT).await {
        tracing::warn!("shutdown: some event.created publications did not finish; the relay will");
    }
    background.cancel();
    if let Err(err) = worker.await {
        tracing::warn!(error = %err, "background task ended abnormally");
    }
    served
}

/// The producer for `config`'s broker, under its `KAFKA_TOPIC_PREFIX`.
pub fn producer(config: &Config) -> anyhow::Result<Producer> {
    Ok(Producer::new(&config.kafka_bootstrap)?.with_topic_prefix(&config.kafka_topic_prefix))
}

/// Connects with retry and backoff (until `shutdown`), or `None` if shut down first.
pub async fn connect_store(config: &Config, shutdown: &CancellationToken) -> Option<Store> {
    retry::until_ok("connecting to MongoDB", shutdown, || async {
        let store = Store::connect(config.mongodb_url.expose(), &config.mongodb_db).await?;
        store.ping().await?;
        anyhow::Ok(store)
    })
    .await
}

async fn start_store(
    config: Config,
    state: AppState,
    producer: Producer,
    shutdown: CancellationToken,
) {
    let Some(store) = connect_store(&config, &shutdown).await else {
        return;
    };
    state.set_store(store.clone());
    tracing::info!(database = %config.mongodb_db, "MongoDB connected");
    let indexes = tokio::spawn(ensure_indexes(store.clone(), shutdown.clone()));
    let consumer = tokio::spawn(availability::consume(
        availability::consumer_config(&config),
        store.clone(),
        producer.clone(),
        shutdown.clone(),
    ));
    Relay::new(store, producer, config.relay_interval, config.outbox_grace)
        .run(shutdown)
        .await;
    let _ = indexes.await;
    if let Err(err) = consumer.await {
        tracing::warn!(error = %err, "seats.availability consumer ended abnormally");
    }
}

async fn ensure_indexes(store: Store, shutdown: CancellationToken) {
    let created = retry::until_ok("creating MongoDB indexes", &shutdown, || async {
        store.ensure_indexes().await.map_err(anyhow::Error::from)
    })
    .await;
    if created.is_some() {
        tracing::info!("MongoDB indexes ready");
    }
}
