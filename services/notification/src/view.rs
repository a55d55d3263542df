//! The `Notification` JSON.

use serde::Serialize;
use utoipa::ToSchema;

use crate::store::{Metadata, NotificationDoc};

/// A notification as its recipient sees it. Timestamps are RFC 3339, UTC, milliseconds, `Z`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationView {
    pub id: String,
    /// `WELCOME`, `BOOKING_CONFIRMED`, `BOOKING_FAILED` or `BOOKING_CANCELLED`.
    #[serde(rename = "type")]
    pub kind: String,
    pub recipient_email: String,
    pub subject: String,
    /// `PENDING` (recorded, being sent or retried), `SENT` or `FAILED`.
    pub status: String,
    /// The last attempt's error, `null` when it was sent.
    pub error: Option<String>,
    /// What the mail was about: `messageId` (the triggering message), and for bookings
    /// `eventId`, `eventName`, `seatLabels`, `totalAmount`, `currency`, … as they apply.
    #[schema(value_type = Object)]
    pub metadata: Metadata,
    pub booking_id: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
}

impl From<&NotificationDoc> for NotificationView {
    fn from(n: &NotificationDoc) -> Self {
        let stamp = |at: mongodb::bson::DateTime| {
            let at =
                chrono::DateTime::from_timestamp_millis(at.timestamp_millis()).unwrap_or_default();
            ticketflow_common::time::rfc3339(&at)
        };
        Self {
            id: n.id.clone(),
            kind: n.kind.clone(),
            recipient_email: n.recipient_email.clone(),
            subject: n.subject.clone(),
            status: n.status.clone(),
            error: if n.status == crate::store::SENT {
                None
            } else {
                n.error.clone()
            },
            metadata: n.metadata.clone(),
            booking_id: n.booking_id.clone(),
            created_at: stamp(n.created_at),
            sent_at: n.sent_at.map(stamp),
        }
    }
}
