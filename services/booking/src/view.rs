//! A booking as clients see it.

use serde::Serialize;
use ticketflow_common::money::to_major;
use ticketflow_common::time::rfc3339;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::saga::{Status, Step};
use crate::store::bookings::Booking;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BookingView {
    pub id: Uuid,
    pub user_id: Uuid,
    pub event_id: Uuid,
    pub event_name: String,
    /// RFC 3339 UTC with milliseconds and `Z`.
    pub event_date: String,
    pub venue_name: String,
    pub seat_ids: Vec<Uuid>,
    /// `A7`, … once the seats are held (empty before).
    pub seat_labels: Vec<String>,
    /// `PENDING` until the saga ends; clients poll until it is not.
    pub status: Status,
    /// The saga's finer position (`AWAITING_SEATS`, `AWAITING_PAYMENT`, …).
    pub step: Step,
    /// Major units.
    pub total_amount: f64,
    pub currency: String,
    pub payment_id: Option<Uuid>,
    /// `SEATS_UNAVAILABLE`, `PAYMENT_FAILED` or `TIMEOUT` for a failed booking.
    pub failure_reason: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub confirmed_at: Option<String>,
    pub cancelled_at: Option<String>,
}

impl From<&Booking> for BookingView {
    fn from(b: &Booking) -> Self {
        Self {
            id: b.id,
            user_id: b.user_id,
            event_id: b.event_id,
            event_name: b.event_name.clone(),
            event_date: rfc3339(&b.event_date),
            venue_name: b.venue_name.clone(),
            seat_ids: b.seat_ids.clone(),
            seat_labels: b.seat_labels.clone(),
            status: b.status(),
            step: b.step,
            total_amount: to_major(b.total_minor),
            currency: b.currency.clone(),
            payment_id: b.payment_id,
            failure_reason: b.failure_reason.clone(),
            created_at: rfc3339(&b.created_at),
            updated_at: rfc3339(&b.updated_at),
            confirmed_at: b.confirmed_at.as_ref().map(rfc3339),
            cancelled_at: b.cancelled_at.as_ref().map(rfc3339),
        }
    }
}

/// The answer to a create: the booking plus `bookingId` and a message (clients read either id).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedView {
    #[serde(flatten)]
    pub booking: BookingView,
    pub booking_id: Uuid,
    pub message: String,
}
