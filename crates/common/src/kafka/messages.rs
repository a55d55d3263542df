//! The Kafka message payloads, one struct per `eventType`. Producer and consumers share
//! these types, so a field renamed here is renamed on both ends of the wire.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::envelope::Message;
use super::topics;

macro_rules! message {
    ($ty:ident, $event_type:literal, $topic:expr, $key:ident) => {
        impl Message for $ty {
            const EVENT_TYPE: &'static str = $event_type;
            const TOPIC: &'static str = $topic;
            fn key(&self) -> String {
                self.$key.to_string()
            }
        }
    };
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRegistered {
    pub user_id: Uuid,
    pub email: String,
    pub name: String,
}
message!(
    UserRegistered,
    "user.registered",
    topics::USER_REGISTERED,
    user_id
);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventCreated {
    pub event_id: Uuid,
    pub name: String,
    pub total_seats: u32,
    /// RFC 3339, UTC, millisecond precision.
    pub date: String,
    /// Major units, at most 2 decimals.
    pub price: f64,
    pub currency: String,
    pub venue_id: Uuid,
}
message!(
    EventCreated,
    "event.created",
    topics::EVENT_CREATED,
    event_id
);
