//! notification-service: the e-mails people keep. It turns `user.registered` and the booking
//! saga's endings into mails (askama templates, HTML and plain text, a calendar file with a
//! confirmation), sends each at most once per triggering message over SMTP (lettre), stores
//! every attempt in MongoDB and shows people their recent notifications.

pub mod app;
pub mod config;
pub mod error;
pub mod mail;
pub mod mailer;
pub mod messaging;
pub mod notifications;
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
pub const SERVICE: &str = "notification-service";

use crate::mail::Presentation;
use crate::mailer::Mailer;
use crate::state::AppState;
use crate::store::Store;

/// SMTP commands an attempt may need at most (EHLO, AUTH, MAIL, RCPT, DATA, body), each
/// bounded by `SMTP_TIMEOUT_MS`: a claim older than that many timeouts is a dead attempt's.
const COMMANDS_PER_ATTEMPT: u32 = 6;

/// Serves HTTP on `listener` until `shutdown` fires. `/health` answers at once; MongoDB is
/// connected and indexed in the background with retries; the consumer starts once the unique
/// index on `message_id` exists (it is what keeps a message from being mailed twice), and
/// stops on `shutdown`.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let state = AppState::new(
        config.identity_key.clone(),
        Mailer::new(&config.smtp)?,
        Presentation {
            timezone: config.timezone,
            public_url: config.public_url.clone(),
        },
        config.smtp.max_attempts as usize,
        config.smtp.timeout * COMMANDS_PER_ATTEMPT,
    );
    // Dead letters only: nothing else is published.
    let producer =
        Producer::new(&config.kafka_bootstrap)?.with_topic_prefix(&config.kafka_topic_prefix);
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
    messaging::consume(
        messaging::consumer_config(&config),
        state,
        producer,
        shutdown,
    )
    .await;
}
