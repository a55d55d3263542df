//! `{"eventType": "...", ...fields, "messageId": "<uuid>", "timestamp": "..."}`.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A payload type that travels on one topic under one `eventType`.
pub trait Message: Serialize + DeserializeOwned + Send + Sync {
    const EVENT_TYPE: &'static str;
    const TOPIC: &'static str;
    /// The partition key (`bookingId`, `userId` or `eventId`, per the contract).
    fn key(&self) -> String;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope<T> {
    pub event_type: String,
    #[serde(flatten)]
    pub payload: T,
    pub message_id: Uuid,
    #[serde(with = "crate::time::millis")]
    pub timestamp: DateTime<Utc>,
}

impl<T: Message> Envelope<T> {
    pub fn new(payload: T) -> Self {
        Self {
            event_type: T::EVENT_TYPE.to_owned(),
            payload,
            message_id: Uuid::new_v4(),
            timestamp: crate::time::now(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Ping {
        booking_id: String,
        seat_ids: Vec<String>,
    }

    impl Message for Ping {
        const EVENT_TYPE: &'static str = "ping.sent";
        const TOPIC: &'static str = "test.ping";
        fn key(&self) -> String {
            self.booking_id.clone()
        }
    }

    #[test]
    fn envelope_is_flat_json() -> anyhow::Result<()> {
        let env = Envelope::new(Ping {
            booking_id: "b1".into(),
            seat_ids: vec!["s1".into()],
        });
        let value = serde_json::to_value(&env)?;
        assert_eq!(value["eventType"], "ping.sent");
        assert_eq!(value["bookingId"], "b1");
        assert_eq!(value["seatIds"][0], "s1");
        assert_eq!(value["messageId"], env.message_id.to_string());
        let ts = value["timestamp"].as_str().unwrap_or_default();
        assert!(ts.ends_with('Z') && ts.len() == 24, "{ts}");
        let back: Envelope<Ping> = serde_json::from_value(value)?;
        assert_eq!(back, env);
        Ok(())
    }
}
