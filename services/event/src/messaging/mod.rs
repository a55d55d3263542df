//! `ticketflow.event.created` through an outbox kept inside the event document.
//!
//! MongoDB (and FerretDB) give us no multi-document transaction, so the message is written
//! in the same `insert` as the event: if the insert fails there is no message, if it
//! succeeds the message is durable. The request that created the event publishes it right
//! away and then removes it; the relay republishes whatever is still pending after a grace
//! period (process crashed, Kafka down). Delivery is at least once; the `messageId` is fixed
//! at creation, so consumers recognise a repeat.

pub mod availability;

use std::time::Duration;

use anyhow::Context;
use ticketflow_common::kafka::messages::EventCreated;
use ticketflow_common::kafka::{correlation_headers, Envelope, Message, Producer};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::domain::money;
use crate::store::{self, BsonDateTime, EventDoc, OutboxHeader, OutboxMessage, Store};

/// Documents one relay pass handles at most before sleeping again.
const MAX_PER_PASS: usize = 100;

/// The `event.created` message for a new event document (not yet stored).
pub fn event_created(event: &EventDoc) -> anyhow::Result<OutboxMessage> {
    let payload = EventCreated {
        event_id: Uuid::parse_str(&event.id).context("event id")?,
        name: event.name.clone(),
        total_seats: u32::try_from(event.total_seats).context("total_seats")?,
        date: ticketflow_common::time::rfc3339(&store::chrono_time(event.date)),
        price: money::to_major(event.price_minor),
        currency: event.currency.clone(),
        venue_id: Uuid::parse_str(&event.venue_id).context("venue id")?,
    };
    let key = payload.key();
    let envelope = Envelope::new(payload);
    Ok(OutboxMessage {
        id: envelope.message_id.to_string(),
        topic: EventCreated::TOPIC.to_owned(),
        key,
        payload: serde_json::to_string(&envelope)?,
        headers: correlation_headers()
            .into_iter()
            .map(|(name, value)| OutboxHeader {
                name,
                value: String::from_utf8_lossy(&value).into_owned(),
            })
            .collect(),
    })
}

/// Publishes the messages `event` carries (in order), then removes them from the document.
/// Returns how many were sent. A failure leaves them pending for the relay.
pub async fn publish_pending(
    store: &Store,
    producer: &Producer,
    event: &EventDoc,
) -> anyhow::Result<usize> {
    let Some(pending_since) = event.outbox_pending_since else {
        return Ok(0);
    };
    for message in &event.outbox {
        let headers: Vec<(String, Vec<u8>)> = message
            .headers
            .iter()
            .map(|h| (h.name.clone(), h.value.clone().into_bytes()))
            .collect();
        producer
            .send_raw(
                &message.topic,
                Some(&message.key),
                message.payload.as_bytes(),
                &headers,
            )
            .await?;
        tracing::info!(
            topic = %message.topic,
            key = %message.key,
            message_id = %message.id,
            "published"
        );
    }
    store
        .clear_outbox(&event.id, pending_since)
        .await
        .context("clearing published outbox")?;
    Ok(event.outbox.len())
}

/// Republishes messages that stayed pending longer than `grace`.
#[derive(Clone)]
pub struct Relay {
    store: Store,
    producer: Producer,
    interval: Duration,
    grace: Duration,
}

impl Relay {
    pub fn new(store: Store, producer: Producer, interval: Duration, grace: Duration) -> Self {
        Self {
            store,
            producer,
            interval,
            grace,
        }
    }

    /// Polls every `interval` until `shutdown` fires. Errors are logged, never fatal.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                result = self.publish_due() => match result {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(messages = n, "outbox relay republished pending messages"),
                    Err(err) => tracing::warn!(error = format!("{err:#}"), "outbox relay pass failed"),
                },
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(self.interval) => {}
            }
        }
    }

    /// One pass: claims and publishes due documents one by one; stops at the first failure
    /// (the claimed document's lease runs out after `grace`, then it is tried again).
    pub async fn publish_due(&self) -> anyhow::Result<usize> {
        let mut sent = 0;
        for _ in 0..MAX_PER_PASS {
            let now = ticketflow_common::time::now();
            let grace = chrono::Duration::from_std(self.grace).unwrap_or_default();
            let cutoff = store::bson_time(&(now - grace));
            let Some(event) = self
                .store
                .claim_pending(cutoff, store::bson_time(&now))
                .await?
            else {
                break;
            };
            sent += publish_pending(&self.store, &self.producer, &event).await?;
        }
        Ok(sent)
    }
}

/// `outbox_pending_since` for a document being created now.
pub fn pending_since(now: &chrono::DateTime<chrono::Utc>) -> BsonDateTime {
    store::bson_time(now)
}
