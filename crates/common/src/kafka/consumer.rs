//! The consumer runner: one message at a time per consumer, offset stored only after the
//! handler succeeded (or the message was dead-lettered), bounded retries with backoff, then
//! `<topic>.DLT` so a poison message never blocks its partition.

use std::future::Future;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Headers};
use rdkafka::Message as _;
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

use super::envelope::Envelope;
use super::producer::{Producer, HEADER_REQUEST_ID, HEADER_TRACEPARENT};
use super::topics;
use crate::context::RequestContext;

#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    pub bootstrap: String,
    pub group_id: String,
    /// Contract names; subscribed as `<topic_prefix><topic>`.
    pub topics: Vec<String>,
    /// `KAFKA_TOPIC_PREFIX` (see [`topics::prefixed`]); the producer given to
    /// [`run_consumer`] must carry the same one, since dead letters go through it.
    pub topic_prefix: String,
    /// Attempts per message before it is dead-lettered (at least 1).
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl ConsumerConfig {
    pub fn new(bootstrap: &str, group_id: &str, topics: &[&str]) -> Self {
        Self {
            bootstrap: bootstrap.to_owned(),
            group_id: group_id.to_owned(),
            topics: topics.iter().map(|t| (*t).to_owned()).collect(),
            topic_prefix: String::new(),
            max_attempts: 5,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
        }
    }

    /// Under `KAFKA_TOPIC_PREFIX`: the topics and the group id both get the prefix, so
    /// fleets (or tests) sharing a broker share neither messages nor offsets.
    pub fn with_topic_prefix(mut self, prefix: &str) -> Self {
        self.topic_prefix = prefix.to_owned();
        self.group_id = topics::prefixed(prefix, &self.group_id);
        self
    }
}

/// One received message, owned so a handler can keep it across awaits and retries.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<String>,
    pub payload: Bytes,
    pub headers: Vec<(String, Vec<u8>)>,
}

impl Delivery {
    /// `topic_prefix` is taken off the topic name: handlers see contract names.
    fn from_message(msg: &BorrowedMessage<'_>, topic_prefix: &str) -> Self {
        let headers = msg
            .headers()
            .map(|hs| {
                hs.iter()
                    .map(|h| {
                        (
                            h.key.to_owned(),
                            h.value.map(<[u8]>::to_vec).unwrap_or_default(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        Self {
            topic: msg
                .topic()
                .strip_prefix(topic_prefix)
                .unwrap_or(msg.topic())
                .to_owned(),
            partition: msg.partition(),
            offset: msg.offset(),
            key: msg.key().map(|k| String::from_utf8_lossy(k).into_owned()),
            payload: Bytes::copy_from_slice(msg.payload().unwrap_or_default()),
            headers,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
    }

    /// Parses the payload; a message that does not parse can never succeed, so it is poison.
    pub fn envelope<T: DeserializeOwned>(&self) -> Result<Envelope<T>, HandlerError> {
        serde_json::from_slice(&self.payload).map_err(|e| {
            HandlerError::Poison(anyhow::anyhow!(
                "undecodable message on {}: {e}",
                self.topic
            ))
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Worth retrying (a dependency is down, a conflict, a timeout).
    #[error("{0:#}")]
    Transient(anyhow::Error),
    /// Will never succeed (bad payload, broken invariant): dead-letter at once.
    #[error("{0:#}")]
    Poison(anyhow::Error),
}

impl From<anyhow::Error> for HandlerError {
    fn from(err: anyhow::Error) -> Self {
        Self::Transient(err)
    }
}

#[cfg(feature = "postgres")]
impl From<sqlx::Error> for HandlerError {
    fn from(err: sqlx::Error) -> Self {
        Self::Transient(err.into())
    }
}

enum Outcome {
    Handled,
    DeadLetter { error: String, attempts: u32 },
    Stopped,
}

/// [`run_consumer`] until `shutdown`, started again with backoff whenever it cannot start
/// (a broker that is not up yet), so a service outlives a late or restarted broker.
pub async fn consume<H, Fut>(
    config: ConsumerConfig,
    producer: Producer,
    handler: H,
    shutdown: CancellationToken,
) where
    H: Fn(Delivery) -> Fut + Clone + Send + Sync,
    Fut: Future<Output = Result<(), HandlerError>> + Send,
{
    let what = format!("consuming {}", config.topics.join(", "));
    crate::retry::until_ok(&what, &shutdown, || {
        run_consumer(
            config.clone(),
            producer.clone(),
            handler.clone(),
            shutdown.clone(),
        )
    })
    .await;
}

/// Consumes `config.topics` until `shutdown` fires, calling `handler` for every message.
pub async fn run_consumer<H, Fut>(
    config: ConsumerConfig,
    producer: Producer,
    handler: H,
    shutdown: CancellationToken,
) -> anyhow::Result<()>
where
    H: Fn(Delivery) -> Fut + Send + Sync,
    Fut: Future<Output = Result<(), HandlerError>> + Send,
{
    let consumer: StreamConsumer = super::client_config(&config.bootstrap)
        .set("group.id", &config.group_id)
        .set("enable.auto.commit", "true")
        .set("auto.commit.interval.ms", "500")
        // Offsets are stored by hand once a message is fully dealt with.
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "10000")
        .set("heartbeat.interval.ms", "1000")
        .create()
        .context("creating Kafka consumer")?;
    let wire_topics: Vec<String> = config
        .topics
        .iter()
        .map(|topic| topics::prefixed(&config.topic_prefix, topic))
        .collect();
    let topic_refs: Vec<&str> = wire_topics.iter().map(String::as_str).collect();
    consumer
        .subscribe(&topic_refs)
        .with_context(|| format!("subscribing to {topic_refs:?}"))?;
    tracing::info!(group = %config.group_id, topics = ?config.topics, "consumer started");

    loop {
        let msg = tokio::select! {
            _ = shutdown.cancelled() => break,
            msg = consumer.recv() => msg,
        };
        let msg = match msg {
            Ok(msg) => msg,
            Err(err) => {
                tracing::warn!(error = %err, "Kafka receive failed");
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(Duration::from_millis(500)) => continue,
                }
            }
        };
        let delivery = Delivery::from_message(&msg, &config.topic_prefix);
        let incoming_traceparent = delivery.header(HEADER_TRACEPARENT);
        let mut ctx =
            RequestContext::from_incoming(delivery.header(HEADER_REQUEST_ID), incoming_traceparent);
        let span = tracing::info_span!(
            "message",
            topic = %delivery.topic,
            partition = delivery.partition,
            offset = delivery.offset,
            request_id = %ctx.request_id,
        );
        ctx.link(&span, incoming_traceparent);
        // The whole handling of one message (attempts, dead-lettering, offset) runs inside its
        // span and context; a span guard held across these awaits would attach to whatever
        // else the thread ran meanwhile.
        let handling = async {
            let label = match attempt(&config, &handler, &delivery, &shutdown).await {
                Outcome::Handled => "handled",
                Outcome::Stopped => return false,
                Outcome::DeadLetter { error, attempts } => {
                    if !dead_letter(&producer, &delivery, &error, attempts, &shutdown).await {
                        return false;
                    }
                    "dead_lettered"
                }
            };
            metrics::counter!(
                "kafka_messages_consumed_total",
                "topic" => delivery.topic.clone(),
                "outcome" => label,
            )
            .increment(1);
            if let Err(err) = consumer.store_offset_from_message(&msg) {
                // Only possible after losing the partition in a rebalance; the new owner
                // redelivers.
                tracing::warn!(error = %err, "could not store offset");
            }
            true
        };
        let keep_going = tracing::Instrument::instrument(ctx.scope(handling), span).await;
        if !keep_going {
            break;
        }
    }

    if let Err(err) = consumer.commit_consumer_state(CommitMode::Sync) {
        tracing::debug!(error = %err, "final offset commit had nothing to do or failed");
    }
    consumer.unsubscribe();
    tracing::info!(group = %config.group_id, "consumer stopped");
    Ok(())
}

async fn attempt<H, Fut>(
    config: &ConsumerConfig,
    handler: &H,
    delivery: &Delivery,
    shutdown: &CancellationToken,
) -> Outcome
where
    H: Fn(Delivery) -> Fut,
    Fut: Future<Output = Result<(), HandlerError>>,
{
    let mut backoff = config.initial_backoff;
    let max_attempts = config.max_attempts.max(1);
    for attempt in 1..=max_attempts {
        let err = match handler(delivery.clone()).await {
            Ok(()) => return Outcome::Handled,
            Err(HandlerError::Poison(err)) => {
                tracing::error!(error = format!("{err:#}"), "poison message");
                return Outcome::DeadLetter {
                    error: format!("{err:#}"),
                    attempts: attempt,
                };
            }
            Err(HandlerError::Transient(err)) => err,
        };
        tracing::warn!(
            attempt,
            max_attempts,
            error = format!("{err:#}"),
            "handler failed"
        );
        if attempt == max_attempts {
            return Outcome::DeadLetter {
                error: format!("{err:#}"),
                attempts: attempt,
            };
        }
        tokio::select! {
            _ = shutdown.cancelled() => return Outcome::Stopped,
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(config.max_backoff);
    }
    Outcome::Stopped
}

/// Publishes the original message to `<topic>.DLT` with its headers plus the failure; keeps
/// trying until the broker takes it. `false` when shutdown came first (offset not stored).
async fn dead_letter(
    producer: &Producer,
    delivery: &Delivery,
    error: &str,
    attempts: u32,
    shutdown: &CancellationToken,
) -> bool {
    let dlt = topics::dead_letter(&delivery.topic);
    let mut headers = delivery.headers.clone();
    headers.extend([
        ("x-dlt-error".to_owned(), error.as_bytes().to_vec()),
        (
            "x-dlt-original-topic".to_owned(),
            delivery.topic.clone().into_bytes(),
        ),
        (
            "x-dlt-original-partition".to_owned(),
            delivery.partition.to_string().into_bytes(),
        ),
        (
            "x-dlt-original-offset".to_owned(),
            delivery.offset.to_string().into_bytes(),
        ),
        (
            "x-dlt-attempts".to_owned(),
            attempts.to_string().into_bytes(),
        ),
    ]);
    loop {
        match producer
            .send_raw(&dlt, delivery.key.as_deref(), &delivery.payload, &headers)
            .await
        {
            Ok(()) => {
                metrics::counter!("kafka_messages_dead_lettered_total", "topic" => delivery.topic.clone())
                    .increment(1);
                tracing::error!(dlt = %dlt, "message dead-lettered");
                return true;
            }
            Err(err) => {
                tracing::error!(error = format!("{err:#}"), dlt = %dlt, "dead-lettering failed, retrying");
                tokio::select! {
                    _ = shutdown.cancelled() => return false,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    }
}
