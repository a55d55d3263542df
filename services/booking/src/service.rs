//! The operations of booking-service: create, read, cancel (called by the routes), and the
//! saga's inputs (called by the message handlers and the timeout sweeper). Every change of a
//! booking commits together with the messages it causes (the outbox).

use chrono::Utc;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use ticketflow_common::kafka::messages::{
    BookingCancelled, BookingConfirmed, BookingFailed, BookingInitiated, PaymentRequested,
    SeatsConfirm, SeatsRelease,
};
use ticketflow_common::money::to_major;
use ticketflow_common::{outbox, AuthUser, Role};
use uuid::Uuid;

use crate::domain::saga::{self, Effect, Input, Status, Step};
use crate::error::BookingError;
use crate::state::AppState;
use crate::store::bookings::{self, Booking};

/// `GET /api/bookings/my` answers at most this many (the newest).
pub const MY_BOOKINGS_LIMIT: i64 = 100;
/// Timed-out bookings one sweep fails at most; the next sweep takes the rest.
const TIMEOUT_BATCH: i64 = 100;

/// A create request once its shape is valid.
#[derive(Debug, Clone)]
pub struct NewBooking {
    pub event_id: Uuid,
    pub seat_ids: Vec<Uuid>,
    /// `Idempotency-Key`: a retry with the same key returns the same booking.
    pub idempotency_key: Option<String>,
}

impl NewBooking {
    /// What the idempotency key stands for: the event and the set of seats.
    fn fingerprint(&self) -> String {
        let mut seats = self.seat_ids.clone();
        seats.sort_unstable();
        let mut hash = Sha256::new();
        hash.update(self.event_id.as_bytes());
        for seat in seats {
            hash.update(seat.as_bytes());
        }
        hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Creates a `PENDING` booking and sends `booking.initiated`; with an idempotency key it
/// returns the booking made earlier with that key (or `IdempotencyKeyReused` if that one was
/// for other seats).
pub async fn create(
    state: &AppState,
    caller: &AuthUser,
    request: NewBooking,
) -> Result<Booking, BookingError> {
    let pool = state.db()?;
    let fingerprint = request.fingerprint();
    if let Some(key) = &request.idempotency_key {
        let mut conn = pool.acquire().await?;
        if let Some(existing) = bookings::find_by_key(&mut conn, caller.id, key).await? {
            return same_request(existing, &fingerprint);
        }
    }
    let event = state.catalogue.event(request.event_id).await?;
    let now = Utc::now();
    if event.date <= now {
        return Err(BookingError::EventAlreadyStarted);
    }
    let seats = i64::try_from(request.seat_ids.len()).unwrap_or(i64::MAX);
    let timeout = chrono::Duration::from_std(state.booking_timeout)
        .map_err(|e| BookingError::Other(e.into()))?;
    let booking = Booking {
        id: Uuid::new_v4(),
        user_id: caller.id,
        user_email: caller.email.clone(),
        event_id: request.event_id,
        event_name: event.name,
        event_date: event.date,
        venue_name: event.venue_name,
        seat_ids: request.seat_ids,
        seat_labels: Vec::new(),
        step: Step::AwaitingSeats,
        total_minor: event.price_minor.saturating_mul(seats),
        currency: event.currency,
        payment_id: None,
        failure_reason: None,
        idempotency_key: request.idempotency_key,
        request_hash: fingerprint.clone(),
        expires_at: now + timeout,
        created_at: now,
        updated_at: now,
        confirmed_at: None,
        cancelled_at: None,
    };
    let mut tx = pool.begin().await?;
    if !bookings::insert(&mut tx, &booking).await? {
        // A concurrent request with the same key got there first.
        let key = booking.idempotency_key.as_deref().unwrap_or_default();
        let existing = bookings::find_by_key(&mut tx, caller.id, key)
            .await?
            .ok_or(BookingError::NotFound)?;
        tx.commit().await?;
        return same_request(existing, &fingerprint);
    }
    outbox::enqueue(
        &mut tx,
        BookingInitiated {
            booking_id: booking.id,
            user_id: booking.user_id,
            user_email: booking.user_email.clone(),
            event_id: booking.event_id,
            event_name: booking.event_name.clone(),
            seat_ids: booking.seat_ids.clone(),
            total_amount: to_major(booking.total_minor),
            currency: booking.currency.clone(),
        },
    )
    .await?;
    tx.commit().await?;
    metrics::counter!("bookings_created_total").increment(1);
    Ok(booking)
}

fn same_request(existing: Booking, fingerprint: &str) -> Result<Booking, BookingError> {
    if existing.request_hash == fingerprint {
        Ok(existing)
    } else {
        Err(BookingError::IdempotencyKeyReused)
    }
}

/// The booking if the caller owns it (or is an admin); `NotFound` otherwise, so another
/// user's booking is indistinguishable from none.
pub async fn get(state: &AppState, caller: &AuthUser, id: Uuid) -> Result<Booking, BookingError> {
    let booking = bookings::find(state.db()?, id)
        .await?
        .ok_or(BookingError::NotFound)?;
    if booking.user_id != caller.id && caller.role != Role::Admin {
        return Err(BookingError::NotFound);
    }
    Ok(booking)
}

pub async fn mine(
    state: &AppState,
    caller: &AuthUser,
    status: Option<Status>,
) -> Result<Vec<Booking>, BookingError> {
    Ok(bookings::of_user(state.db()?, caller.id, status, MY_BOOKINGS_LIMIT).await?)
}

/// The owner cancels: pending or confirmed only, and a confirmed booking not within the
/// cancellation window of its event. Releases the seats; payment-service refunds.
pub async fn cancel(
    state: &AppState,
    caller: &AuthUser,
    id: Uuid,
) -> Result<Booking, BookingError> {
    let mut tx = state.db()?.begin().await?;
    let mut booking = bookings::lock(&mut tx, id)
        .await?
        .filter(|b| b.user_id == caller.id)
        .ok_or(BookingError::NotFound)?;
    if !saga::cancellable(booking.step) {
        return Err(BookingError::NotCancellable);
    }
    let window = chrono::Duration::hours(state.cancellation_window_hours);
    if booking.step == Step::Confirmed && booking.event_date - Utc::now() < window {
        return Err(BookingError::WindowExpired(state.cancellation_window_hours));
    }
    apply(&mut tx, &mut booking, &Input::Cancel).await?;
    tx.commit().await?;
    Ok(booking)
}

/// What a saga message says about a booking.
pub struct Message {
    pub message_id: Uuid,
    pub booking_id: Uuid,
    pub input: Input,
    /// `seats.locked` names the seats for people.
    pub seat_labels: Option<Vec<String>>,
    /// `payment.processed` names the payment.
    pub payment_id: Option<Uuid>,
}

/// Applies a saga message once (its `messageId` is recorded with the change).
pub async fn handle(state: &AppState, message: Message) -> Result<(), BookingError> {
    let mut tx = state.db()?.begin().await?;
    if !outbox::first_delivery(&mut tx, message.message_id).await? {
        tx.commit().await?;
        return Ok(());
    }
    let Some(mut booking) = bookings::lock(&mut tx, message.booking_id).await? else {
        tracing::warn!(booking_id = %message.booking_id, "message for an unknown booking ignored");
        tx.commit().await?;
        return Ok(());
    };
    if let Some(labels) = message.seat_labels {
        if booking.step == Step::AwaitingSeats {
            booking.seat_labels = labels;
        }
    }
    if let Some(payment_id) = message.payment_id {
        booking.payment_id.get_or_insert(payment_id);
    }
    apply(&mut tx, &mut booking, &message.input).await?;
    tx.commit().await?;
    Ok(())
}

/// Fails the pending bookings past their deadline (one batch); returns how many.
pub async fn time_out(state: &AppState) -> Result<usize, BookingError> {
    let mut tx = state.db()?.begin().await?;
    let due = bookings::timed_out(&mut tx, TIMEOUT_BATCH).await?;
    for id in &due {
        if let Some(mut booking) = bookings::lock(&mut tx, *id).await? {
            apply(&mut tx, &mut booking, &Input::Timeout).await?;
        }
    }
    tx.commit().await?;
    if !due.is_empty() {
        metrics::counter!("bookings_timed_out_total").increment(due.len() as u64);
        tracing::info!(bookings = due.len(), "pending bookings timed out");
    }
    Ok(due.len())
}

/// Runs `input` through the saga on the locked `booking`, saves it and queues the messages.
async fn apply(
    conn: &mut PgConnection,
    booking: &mut Booking,
    input: &Input,
) -> Result<(), BookingError> {
    let transition = saga::next(booking.step, input);
    if let Some(next) = transition.next {
        booking.step = next;
        let now = Utc::now();
        match next {
            Step::Confirmed => booking.confirmed_at = Some(now),
            Step::Cancelled => booking.cancelled_at = Some(now),
            _ => {}
        }
        if let Some(reason) = transition.failure_reason {
            booking.failure_reason = Some(reason);
        }
        metrics::counter!("booking_saga_transitions_total", "to" => next.as_str()).increment(1);
    }
    bookings::save(conn, booking).await?;
    for effect in &transition.effects {
        send(conn, booking, effect).await?;
    }
    Ok(())
}

async fn send(conn: &mut PgConnection, b: &Booking, effect: &Effect) -> Result<(), BookingError> {
    match effect {
        Effect::RequestPayment => {
            outbox::enqueue(
                conn,
                PaymentRequested {
                    booking_id: b.id,
                    user_id: b.user_id,
                    amount: to_major(b.total_minor),
                    currency: b.currency.clone(),
                },
            )
            .await?;
        }
        Effect::PublishConfirmed => {
            outbox::enqueue(
                conn,
                BookingConfirmed {
                    booking_id: b.id,
                    user_id: b.user_id,
                    user_email: b.user_email.clone(),
                    event_id: b.event_id,
                    event_name: b.event_name.clone(),
                    event_date: ticketflow_common::time::rfc3339(&b.event_date),
                    venue_name: b.venue_name.clone(),
                    seat_ids: b.seat_ids.clone(),
                    seat_labels: b.seat_labels.clone(),
                    total_amount: to_major(b.total_minor),
                    currency: b.currency.clone(),
                },
            )
            .await?;
        }
        Effect::ConfirmSeats => {
            outbox::enqueue(
                conn,
                SeatsConfirm {
                    booking_id: b.id,
                    event_id: b.event_id,
                    seat_ids: b.seat_ids.clone(),
                },
            )
            .await?;
        }
        Effect::PublishFailed => {
            outbox::enqueue(
                conn,
                BookingFailed {
                    booking_id: b.id,
                    user_id: b.user_id,
                    user_email: b.user_email.clone(),
                    event_id: b.event_id,
                    event_name: b.event_name.clone(),
                    reason: b.failure_reason.clone().unwrap_or_default(),
                },
            )
            .await?;
        }
        Effect::PublishCancelled => {
            outbox::enqueue(
                conn,
                BookingCancelled {
                    booking_id: b.id,
                    user_id: b.user_id,
                    user_email: b.user_email.clone(),
                    event_id: b.event_id,
                    event_name: b.event_name.clone(),
                    seat_ids: b.seat_ids.clone(),
                    seat_labels: b.seat_labels.clone(),
                    total_amount: to_major(b.total_minor),
                    currency: b.currency.clone(),
                },
            )
            .await?;
        }
        Effect::ReleaseSeats => {
            outbox::enqueue(
                conn,
                SeatsRelease {
                    booking_id: b.id,
                    event_id: b.event_id,
                    seat_ids: b.seat_ids.clone(),
                },
            )
            .await?;
        }
    }
    Ok(())
}
