//! `ticketflow.event.created` through an outbox kept inside the event document.
//!
//! MongoDB (and FerretDB) give us no multi-document transaction, so the message is written
//! in the same `insert` as the event: if the insert fails there is no message, if it
//! succeeds the message is durable. The request that created the event publishes it right
//! away and then removes it; the relay republishes whatever is still pending after a grace
//! period (process crashed, Kafka down). Delivery is at least once; the `messageId` is fixed
//! at creation, so consumers recognise a repeat. Publishing and relaying are
//! `ticketflow_common::mongo`'s; claiming and clearing stay with the store (under its update
//! locks), through [`OutboxStore`].

pub mod availability;

use anyhow::Context;
use ticketflow_common::kafka::messages::EventCreated;
use ticketflow_common::kafka::Producer;
use ticketflow_common::mongo::{self, OutboxStore, Pending};
use uuid::Uuid;

use crate::domain::money;
use crate::store::{self, BsonDateTime, EventDoc, OutboxHeader, OutboxMessage, Store};

/// Republishes event documents' messages that stayed pending longer than the grace period.
pub type Relay = mongo::Relay<Store>;

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
    let message = mongo::OutboxMessage::new(payload)?;
    Ok(OutboxMessage {
        id: message.id,
        topic: message.topic,
        key: message.key,
        payload: message.payload,
        headers: message
            .headers
            .into_iter()
            .map(|h| OutboxHeader {
                name: h.name,
                value: h.value,
            })
            .collect(),
    })
}

/// The messages `event` carries, in common's terms (`None`: nothing pending).
fn pending(event: &EventDoc) -> Option<Pending> {
    let since = event.outbox_pending_since?;
    let messages = event
        .outbox
        .iter()
        .map(|m| mongo::OutboxMessage {
            id: m.id.clone(),
            topic: m.topic.clone(),
            key: m.key.clone(),
            payload: m.payload.clone(),
            headers: m
                .headers
                .iter()
                .map(|h| mongo::OutboxHeader {
                    name: h.name.clone(),
                    value: h.value.clone(),
                })
                .collect(),
        })
        .collect();
    Some(Pending {
        id: event.id.clone(),
        since,
        messages,
    })
}

/// Publishes the messages `event` carries (in order), then removes them from the document.
/// Returns how many were sent. A failure leaves them pending for the relay.
pub async fn publish_pending(
    store: &Store,
    producer: &Producer,
    event: &EventDoc,
) -> anyhow::Result<usize> {
    match pending(event) {
        Some(pending) => mongo::publish_pending(store, producer, &pending).await,
        None => Ok(0),
    }
}

/// The event store's claim and clear, under its per-event update locks.
impl OutboxStore for Store {
    async fn claim_due(
        &self,
        cutoff: BsonDateTime,
        now: BsonDateTime,
    ) -> Result<Option<Pending>, mongodb::error::Error> {
        Ok(self
            .claim_pending(cutoff, now)
            .await?
            .as_ref()
            .and_then(pending))
    }

    async fn clear(&self, id: &str, since: BsonDateTime) -> Result<bool, mongodb::error::Error> {
        self.clear_outbox(id, since).await
    }
}

/// `outbox_pending_since` for a document being created now.
pub fn pending_since(now: &chrono::DateTime<chrono::Utc>) -> BsonDateTime {
    store::bson_time(now)
}
