//! The consumer runner: up to [`ConsumerConfig::concurrency`] messages at a time per consumer
//! (one by default), one at a time per key in order; an offset stored only after the handler
//! succeeded (or the message was dead-lettered) for it and every earlier message of its
//! partition; bounded retries with backoff, then `<topic>.DLT` so a poison message never
//! blocks its partition.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::future::Future;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use futures::stream::{FuturesUnordered, StreamExt};
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
    /// Messages handled at once (at least 1; 1 by default): messages of one key (across the
    /// consumer's topics) are still handled one at a time in the order received, and an
    /// offset is stored only once every message before it in its partition is done. A handler that runs with
    /// more than 1 must be safe for messages of different keys at the same time (as with
    /// several replicas).
    pub concurrency: usize,
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
            concurrency: 1,
        }
    }

    /// See [`concurrency`](Self::concurrency).
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
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

    // What is held: messages being handled (`running`), messages waiting behind an earlier one
    // of their key (`waiting`; a key present there is busy), and per partition the offsets
    // received and not yet stored (`open`: offset → done), so the stored offset never passes
    // a message still being handled.
    let limit = config.concurrency.max(1);
    let mut running = FuturesUnordered::new();
    let mut waiting: HashMap<KeyOf, VecDeque<Received>> = HashMap::new();
    let mut open: HashMap<(String, i32), BTreeMap<i64, bool>> = HashMap::new();
    let mut held = 0_usize;
    let mut stopping = false;
    let handle = |received: Received| {
        let (config, handler, producer, shutdown) = (&config, &handler, &producer, &shutdown);
        async move {
            let keep_going =
                handle_one(config, handler, producer, &received.delivery, shutdown).await;
            (received, keep_going)
        }
    };
    loop {
        if stopping && running.is_empty() {
            break;
        }
        tokio::select! {
            biased;
            () = shutdown.cancelled(), if !stopping => {
                stopping = true;
            }
            Some((received, keep_going)) = running.next(), if !running.is_empty() => {
                held -= 1;
                let (received, keep_going): (Received, bool) = (received, keep_going);
                if !keep_going {
                    // Shutdown during a retry or a dead-lettering: its offset stays unstored.
                    stopping = true;
                    continue;
                }
                let slot = (received.wire_topic.clone(), received.delivery.partition);
                if let Some(offsets) = open.get_mut(&slot) {
                    offsets.insert(received.delivery.offset, true);
                    let mut last_done = None;
                    while let Some(entry) = offsets.first_entry() {
                        if !*entry.get() {
                            break;
                        }
                        last_done = Some(entry.remove_entry().0);
                    }
                    if let Some(offset) = last_done {
                        if let Err(err) = consumer.store_offset(&slot.0, slot.1, offset) {
                            // Only possible after losing the partition in a rebalance; the new
                            // owner redelivers.
                            tracing::warn!(error = %err, "could not store offset");
                        }
                    }
                }
                let key = received.key_of();
                match waiting.get_mut(&key).and_then(VecDeque::pop_front) {
                    Some(next) if !stopping => running.push(handle(next)),
                    _ => {
                        waiting.remove(&key);
                    }
                }
            }
            msg = consumer.recv(), if !stopping && held < limit => {
                let msg = match msg {
                    Ok(msg) => msg,
                    Err(err) => {
                        tracing::warn!(error = %err, "Kafka receive failed");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                        continue;
                    }
                };
                let received = Received {
                    delivery: Delivery::from_message(&msg, &config.topic_prefix),
                    wire_topic: msg.topic().to_owned(),
                };
                drop(msg);
                open.entry((received.wire_topic.clone(), received.delivery.partition))
                    .or_default()
                    .insert(received.delivery.offset, false);
                held += 1;
                match waiting.entry(received.key_of()) {
                    Entry::Occupied(mut queue) => queue.get_mut().push_back(received),
                    Entry::Vacant(slot) => {
                        slot.insert(VecDeque::new());
                        running.push(handle(received));
                    }
                }
            }
        }
    }

    if let Err(err) = consumer.commit_consumer_state(CommitMode::Sync) {
        tracing::debug!(error = %err, "final offset commit had nothing to do or failed");
    }
    consumer.unsubscribe();
    tracing::info!(group = %config.group_id, "consumer stopped");
    Ok(())
}

/// A message taken off the wire, with the topic name offsets are stored under.
struct Received {
    delivery: Delivery,
    wire_topic: String,
}

/// Messages of one key are handled one at a time, in the order received, across the
/// consumer's topics (a booking's `seats.locked` and `payment.processed` share its id as key:
/// handled in turn, as by a runner taking one message at a time); messages without a key, in
/// order within their partition.
type KeyOf = String;

impl Received {
    fn key_of(&self) -> KeyOf {
        match &self.delivery.key {
            Some(key) => format!("key {key}"),
            None => format!("partition {} {}", self.wire_topic, self.delivery.partition),
        }
    }
}

/// Handles one message in its span and request context: attempts, dead-lettering, metrics.
/// `false` when shutdown came first (its offset must not be stored).
async fn handle_one<H, Fut>(
    config: &ConsumerConfig,
    handler: &H,
    producer: &Producer,
    delivery: &Delivery,
    shutdown: &CancellationToken,
) -> bool
where
    H: Fn(Delivery) -> Fut,
    Fut: Future<Output = Result<(), HandlerError>>,
{
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
    // The whole handling of one message (attempts, dead-lettering) runs inside its span and
    // context; a span guard held across these awaits would attach to whatever else the thread
    // ran meanwhile.
    let handling = async {
        let label = match attempt(config, handler, delivery, shutdown).await {
            Outcome::Handled => "handled",
            Outcome::Stopped => return false,
            Outcome::DeadLetter { error, attempts } => {
                if !dead_letter(producer, delivery, &error, attempts, shutdown).await {
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
        true
    };
    tracing::Instrument::instrument(ctx.scope(handling), span).await
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
