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

/// booking-service asks inventory to lock `seat_ids` of `event_id` for `booking_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BookingInitiated {
    pub booking_id: Uuid,
    pub user_id: Uuid,
    pub user_email: String,
    pub event_id: Uuid,
    pub event_name: String,
    pub seat_ids: Vec<Uuid>,
    /// Major units, at most 2 decimals.
    pub total_amount: f64,
    pub currency: String,
}
message!(
    BookingInitiated,
    "booking.initiated",
    topics::BOOKING_INITIATED,
    booking_id
);

/// Every requested seat is held for the booking until `lock_expires_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeatsLocked {
    pub booking_id: Uuid,
    pub event_id: Uuid,
    pub seat_ids: Vec<Uuid>,
    /// `A1`, `A2`, … in the order of `seat_ids`.
    pub seat_labels: Vec<String>,
    /// RFC 3339, UTC, millisecond precision.
    pub lock_expires_at: String,
}
message!(
    SeatsLocked,
    "seats.locked",
    topics::SEATS_LOCKED,
    booking_id
);

/// `reason` of [`SeatsLockFailed`]; the only one the contract knows.
pub const SEATS_UNAVAILABLE: &str = "SEATS_UNAVAILABLE";

/// None of the requested seats were locked: `conflicting_seat_ids` could not be had.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeatsLockFailed {
    pub booking_id: Uuid,
    pub event_id: Uuid,
    pub reason: String,
    pub conflicting_seat_ids: Vec<Uuid>,
}
message!(
    SeatsLockFailed,
    "seats.lock-failed",
    topics::SEATS_LOCK_FAILED,
    booking_id
);

/// The booking is paid: its held seats become `RESERVED`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeatsConfirm {
    pub booking_id: Uuid,
    pub event_id: Uuid,
    pub seat_ids: Vec<Uuid>,
}
message!(
    SeatsConfirm,
    "seats.confirm",
    topics::SEATS_CONFIRM,
    booking_id
);

/// The booking failed or was cancelled: whatever it holds becomes `AVAILABLE`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeatsRelease {
    pub booking_id: Uuid,
    pub event_id: Uuid,
    pub seat_ids: Vec<Uuid>,
}
message!(
    SeatsRelease,
    "seats.release",
    topics::SEATS_RELEASE,
    booking_id
);

/// An event's seat counts after a change; `version` grows with every change, so a consumer
/// keeps the highest it has seen and ignores older or repeated ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeatsAvailability {
    pub event_id: Uuid,
    pub total: i64,
    pub available: i64,
    pub locked: i64,
    pub reserved: i64,
    pub version: i64,
}
message!(
    SeatsAvailability,
    "seats.availability",
    topics::SEATS_AVAILABILITY,
    event_id
);

/// booking-service asks payment-service to charge `amount` for `booking_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRequested {
    pub booking_id: Uuid,
    pub user_id: Uuid,
    /// Major units, at most 2 decimals.
    pub amount: f64,
    pub currency: String,
}
message!(
    PaymentRequested,
    "payment.requested",
    topics::PAYMENT_REQUESTED,
    booking_id
);

/// `status` of [`PaymentProcessed`].
pub const PAYMENT_SUCCESS: &str = "SUCCESS";
pub const PAYMENT_FAILED: &str = "FAILED";

/// The outcome of a charge: `status` is `SUCCESS` or `FAILED` (then `reason` says why).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentProcessed {
    pub booking_id: Uuid,
    pub payment_id: Uuid,
    pub status: String,
    pub amount: f64,
    pub currency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}
message!(
    PaymentProcessed,
    "payment.processed",
    topics::PAYMENT_PROCESSED,
    booking_id
);

/// A booking is paid and its seats are reserved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BookingConfirmed {
    pub booking_id: Uuid,
    pub user_id: Uuid,
    pub user_email: String,
    pub event_id: Uuid,
    pub event_name: String,
    /// RFC 3339, UTC, millisecond precision.
    pub event_date: String,
    pub venue_name: String,
    pub seat_ids: Vec<Uuid>,
    pub seat_labels: Vec<String>,
    pub total_amount: f64,
    pub currency: String,
}
message!(
    BookingConfirmed,
    "booking.confirmed",
    topics::BOOKING_CONFIRMED,
    booking_id
);

/// A booking ended without seats: `reason` is e.g. `SEATS_UNAVAILABLE`, `PAYMENT_FAILED`,
/// `TIMEOUT`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BookingFailed {
    pub booking_id: Uuid,
    pub user_id: Uuid,
    pub user_email: String,
    pub event_id: Uuid,
    pub event_name: String,
    pub reason: String,
}
message!(
    BookingFailed,
    "booking.failed",
    topics::BOOKING_FAILED,
    booking_id
);

/// The owner cancelled the booking; its seats are released and any charge refunded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BookingCancelled {
    pub booking_id: Uuid,
    pub user_id: Uuid,
    pub user_email: String,
    pub event_id: Uuid,
    pub event_name: String,
    pub seat_ids: Vec<Uuid>,
    pub seat_labels: Vec<String>,
    pub total_amount: f64,
    pub currency: String,
}
message!(
    BookingCancelled,
    "booking.cancelled",
    topics::BOOKING_CANCELLED,
    booking_id
);
