//! payment-service: a mock payment provider behind the booking saga. It charges each booking
//! at most once (`ticketflow.payment.requested` → `ticketflow.payment.processed`, through an
//! in-document outbox), refunds when a booking fails or is cancelled, and serves the payments
//! to their owners.

pub mod app;
pub mod config;
pub mod error;
pub mod messaging;
pub mod payments;
pub mod provider;
pub mod routes;
pub mod state;
pub mod store;
pub mod view;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use ticketflow_common::kafka::Producer;
use ticketflow_common::{retry, server};

pub use config::Config;

/// The name this service reports in health, logs and traces.
pub const SERVICE: &str = "payment-service";

use crate::messaging::Relay;
use crate::provider::MockProvider;
use crate::state::AppState;
use crate::store::Store;

/// Serves HTTP on `listener` until `shutdown` fires. `/health` answers at once; MongoDB is
/// connected and indexed in the background with retries; the outbox relay and the consumer
/// start once the unique index on `booking_id` exists (it is what keeps a booking from being
/// charged twice), and all of them stop on `shutdown`.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let producer = producer(&config)?;
    let provider = MockProvider::new(config.success_rate, config.delay);
    let state = AppState::new(producer.clone(), config.identity_key.clone(), provider);
    let background = shutdown.child_token();
    let worker = tokio::spawn(start_store(
        config,
        state.clone(),
        producer,
        background.clone(),
    ));
    let served = server::serve(listener, app::router(state), shutdown).await;
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

async fn start_store(
    config: Config,
    state: AppState,
    producer: Producer,
    shutdown: CancellationToken,
) {
    let Some(store) = retry::until_ok("connecting to MongoDB", &shutdown, || async {
        let store = Store::connect(config.mongodb_url.expose(), &config.mongodb_db).await?;
        store.ping().await?;
        anyhow::Ok(store)
    })
    .await
    else {
        return;
    };
    state.set_store(store.clone());
    tracing::info!(database = %config.mongodb_db, "MongoDB connected");
    let indexed = retry::until_ok("creating MongoDB indexes", &shutdown, || async {
        store.ensure_indexes().await.map_err(anyhow::Error::from)
    })
    .await;
    if indexed.is_none() {
        return;
    }
    tracing::info!("MongoDB indexes ready");
    let consumer = tokio::spawn(messaging::consume(
        messaging::consumer_config(&config),
        state,
        producer.clone(),
        shutdown.clone(),
    ));
    Relay::new(store, producer, config.relay_interval, config.outbox_grace)
        .run(shutdown)
        .await;
    if let Err(err) = consumer.await {
        tracing::warn!(error = %err, "payment consumer ended abnormally");
    }
}
