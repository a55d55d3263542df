//! An idempotent, keyed producer that stamps `traceparent` and `x-request-id` headers.

use std::time::Duration;

use anyhow::Context;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;

use super::envelope::{Envelope, Message};
use crate::context::{self, RequestContext};

pub const HEADER_TRACEPARENT: &str = "traceparent";
pub const HEADER_REQUEST_ID: &str = "x-request-id";

/// How long a send may wait for the broker before it is reported failed.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct Producer {
    inner: FutureProducer,
    /// Put before every topic name on the wire (see [`super::topics::prefixed`]).
    topic_prefix: std::sync::Arc<str>,
}

impl Producer {
    pub fn new(bootstrap: &str) -> anyhow::Result<Self> {
        let inner = super::client_config(bootstrap)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("linger.ms", "2")
            .set("compression.type", "lz4")
            .set(
                "message.timeout.ms",
                DELIVERY_TIMEOUT.as_millis().to_string(),
            )
            .create()
            .context("creating Kafka producer")?;
        Ok(Self {
            inner,
            topic_prefix: std::sync::Arc::from(""),
        })
    }

    /// The same producer, sending to `<prefix><topic>` (`KAFKA_TOPIC_PREFIX`).
    pub fn with_topic_prefix(mut self, prefix: &str) -> Self {
        self.topic_prefix = std::sync::Arc::from(prefix);
        self
    }

    /// Sends bytes as they are to `topic` (a contract name; the prefix is added here),
    /// waiting for the broker's acknowledgement.
    pub async fn send_raw(
        &self,
        topic: &str,
        key: Option<&str>,
        payload: &[u8],
        headers: &[(String, Vec<u8>)],
    ) -> anyhow::Result<()> {
        let mut owned = OwnedHeaders::new_with_capacity(headers.len());
        for (name, value) in headers {
            owned = owned.insert(Header {
                key: name,
                value: Some(value),
            });
        }
        let wire_topic = super::topics::prefixed(&self.topic_prefix, topic);
        let mut record = FutureRecord::to(&wire_topic)
            .payload(payload)
            .headers(owned);
        if let Some(key) = key {
            record = record.key(key);
        }
        self.inner
            .send(record, Timeout::After(DELIVERY_TIMEOUT))
            .await
            .map_err(|(err, _)| anyhow::anyhow!("publishing to {wire_topic}: {err}"))?;
        metrics::counter!("kafka_messages_produced_total", "topic" => topic.to_owned())
            .increment(1);
        Ok(())
    }

    /// Wraps `payload` in a new envelope, publishes it on its topic under its key with the
    /// current request's correlation headers, and returns the envelope sent.
    pub async fn publish<M: Message>(&self, payload: M) -> anyhow::Result<Envelope<M>> {
        let envelope = Envelope::new(payload);
        let bytes = serde_json::to_vec(&envelope)?;
        let key = envelope.payload.key();
        self.send_raw(M::TOPIC, Some(&key), &bytes, &correlation_headers())
            .await?;
        Ok(envelope)
    }
}

/// `traceparent` and `x-request-id` of the current request, or fresh ones outside a request.
pub fn correlation_headers() -> Vec<(String, Vec<u8>)> {
    let ctx = RequestContext::current().unwrap_or_else(|| RequestContext {
        request_id: uuid::Uuid::new_v4().to_string(),
        traceparent: context::new_traceparent(),
    });
    vec![
        (HEADER_TRACEPARENT.to_owned(), ctx.traceparent.into_bytes()),
        (HEADER_REQUEST_ID.to_owned(), ctx.request_id.into_bytes()),
    ]
}
