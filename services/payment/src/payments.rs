//! The operations: charge a requested payment once per booking, refund or void when a
//! booking ends, and the reads behind the routes. They fail with [`PaymentError`].
//!
//! **One payment per booking, ever.** The unique index on `booking_id` decides, not a check
//! before the insert: the mock charge is decided first and stored in one insert together with
//! its `payment.processed` (the in-document outbox); whoever loses the insert race, or finds
//! the booking paid already, republishes the stored outcome and discards its own. The mock
//! charge has no side effect until stored; a real provider would take `booking_id` as its
//! idempotency key, so a discarded attempt could not charge twice either.
//!
//! **A booking that ended first.** `booking.failed`/`booking.cancelled` and
//! `payment.requested` are different topics, so a booking's ending can be handled before its
//! payment request. An ending that finds no payment inserts a *void* payment (status
//! `FAILED`, reason [`VOID_REASON`]) under the same unique index, so the later request finds
//! the booking settled and answers `FAILED` without charging.

use chrono::{DateTime, Utc};
use ticketflow_common::kafka::messages::{
    PaymentProcessed, PaymentRequested, PAYMENT_FAILED, PAYMENT_SUCCESS,
};
use ticketflow_common::mongo::{self, OutboxMessage};
use ticketflow_common::AuthUser;
use uuid::Uuid;

use crate::error::PaymentError;
use crate::state::AppState;
use crate::store::{self, bson_time, PaymentDoc, Store, FAILED, REFUNDED, SUCCESS};

/// `reason` of a payment voided by its booking's end before any charge.
pub const VOID_REASON: &str = "Booking ended before payment";
/// The largest amount accepted, in minor units. A booking's total is several seat prices, so
/// `money::MAX_PRICE_MINOR` (one price) is not its bound; beyond this `f64` stops being exact
/// in cents.
const MAX_AMOUNT_MINOR: i64 = 1_000_000_000_000;

pub use ticketflow_common::money::to_major;

/// What handling one `payment.requested` did.
#[derive(Debug)]
pub enum Processed {
    /// This call charged and stored the payment.
    Charged(PaymentDoc),
    /// The booking had a payment (or a void) already: its stored outcome was republished.
    Repeated(PaymentDoc),
}

/// What handling one booking ending did.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// A `SUCCESS` payment became `REFUNDED`.
    Refunded,
    /// Nothing to do: the payment is `FAILED` or `REFUNDED` already.
    Settled,
    /// No payment existed: a void one now keeps the booking from ever being charged.
    Voided,
}

/// A requested amount (major units, at most 2 decimals, like every price: see
/// `ticketflow_common::money::to_minor`) in minor units.
pub fn to_minor(amount: f64) -> Result<i64, PaymentError> {
    let scaled = amount * 100.0;
    let minor = scaled.round();
    let exact = (scaled - minor).abs() <= 1e-6;
    if !amount.is_finite() || minor < 0.0 || minor > MAX_AMOUNT_MINOR as f64 || !exact {
        return Err(PaymentError::Invalid(format!(
            "amount {amount} is not a payable amount (0 or more, at most 2 decimals)"
        )));
    }
    Ok(minor as i64)
}

/// Handles one `payment.requested`: charges unless the booking has a payment, stores the
/// outcome with its `payment.processed` and publishes it (the relay retries a failed send);
/// a repeat republishes the stored outcome (an error then: worth retrying).
pub async fn process(
    state: &AppState,
    request: &PaymentRequested,
) -> Result<Processed, PaymentError> {
    let store = state.store()?;
    let amount_minor = to_minor(request.amount)?;
    let booking_id = request.booking_id.to_string();
    if let Some(existing) = store.by_booking(&booking_id).await? {
        republish(state, &existing, request).await?;
        return Ok(Processed::Repeated(existing));
    }
    let charge = state.provider.charge().await;
    let now = ticketflow_common::time::now();
    let mut payment = PaymentDoc {
        id: Uuid::new_v4().to_string(),
        booking_id: booking_id.clone(),
        user_id: request.user_id.to_string(),
        amount_minor,
        currency: request.currency.clone(),
        status: if charge.success { SUCCESS } else { FAILED }.to_owned(),
        reason: charge.reason,
        provider_ref: Some(charge.provider_ref),
        created_at: bson_time(&now),
        updated_at: bson_time(&now),
        processed_at: Some(bson_time(&now)),
        refunded_at: None,
        void: false,
        outbox: Vec::new(),
        outbox_pending_since: Some(bson_time(&now)),
    };
    payment.outbox = vec![OutboxMessage::new(processed(&payment, Some(request))?)?];
    match store.insert(&payment).await.map_err(PaymentError::from) {
        Ok(()) => {}
        Err(PaymentError::AlreadyPaid) => {
            // Another delivery (or a booking ending) stored first: its outcome stands.
            let existing = store
                .by_booking(&booking_id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("duplicate booking_id but no payment found"))?;
            republish(state, &existing, request).await?;
            return Ok(Processed::Repeated(existing));
        }
        Err(err) => return Err(err),
    }
    metrics::counter!("payments_processed_total", "status" => payment.status.clone()).increment(1);
    tracing::info!(
        payment_id = %payment.id, booking_id = %booking_id, status = %payment.status,
        "payment processed"
    );
    if let Some(pending) = payment.pending() {
        if let Err(err) = mongo::publish_pending(store, &state.producer, &pending).await {
            tracing::warn!(
                error = format!("{err:#}"),
                "payment.processed not published yet; the relay will retry"
            );
        }
    }
    Ok(Processed::Charged(payment))
}

/// Publishes a settled booking's outcome again: its pending message if it still has one,
/// else a new message from the stored state.
async fn republish(
    state: &AppState,
    existing: &PaymentDoc,
    request: &PaymentRequested,
) -> Result<(), PaymentError> {
    let store = state.store()?;
    if let Some(pending) = existing.pending() {
        mongo::publish_pending(store, &state.producer, &pending).await?;
    } else {
        state
            .producer
            .publish(processed(existing, Some(request))?)
            .await?;
    }
    tracing::info!(
        payment_id = %existing.id, booking_id = %existing.booking_id, status = %existing.status,
        "payment.requested repeated: stored outcome republished, nothing charged"
    );
    Ok(())
}

/// The `payment.processed` of a stored payment. `status` reports the charge: `SUCCESS` for a
/// payment charged (even if refunded since), `FAILED` otherwise. A void payment knows no
/// amount of its own: the request's is reported.
pub fn processed(
    payment: &PaymentDoc,
    request: Option<&PaymentRequested>,
) -> Result<PaymentProcessed, PaymentError> {
    let charged = payment.status == SUCCESS || payment.status == REFUNDED;
    let (amount, currency) = match request {
        Some(request) if payment.void => (request.amount, request.currency.clone()),
        _ => (to_major(payment.amount_minor), payment.currency.clone()),
    };
    Ok(PaymentProcessed {
        booking_id: parse(&payment.booking_id)?,
        payment_id: parse(&payment.id)?,
        status: if charged {
            PAYMENT_SUCCESS
        } else {
            PAYMENT_FAILED
        }
        .to_owned(),
        amount,
        currency,
        reason: payment.reason.clone(),
    })
}

fn parse(id: &str) -> Result<Uuid, PaymentError> {
    Uuid::parse_str(id).map_err(|e| PaymentError::Other(anyhow::anyhow!("stored id {id}: {e}")))
}

/// A booking ended (`booking.failed` or `booking.cancelled`): refund its `SUCCESS` payment,
/// leave any other alone, or void the booking when no payment exists yet. Idempotent.
pub async fn end_booking(
    store: &Store,
    booking_id: Uuid,
    user_id: Uuid,
    amount: Option<(f64, &str)>,
) -> Result<Ended, PaymentError> {
    let booking_id = booking_id.to_string();
    // Each round either decides or lost a race that settled the booking: a second round sees
    // the winner. Three rounds are plenty.
    for _ in 0..3 {
        let now = ticketflow_common::time::now();
        if let Some(payment) = store.by_booking(&booking_id).await? {
            if payment.status == SUCCESS && store.refund(&payment.id, bson_time(&now)).await? {
                metrics::counter!("payments_refunded_total").increment(1);
                tracing::info!(payment_id = %payment.id, %booking_id, "payment refunded");
                return Ok(Ended::Refunded);
            }
            return Ok(Ended::Settled);
        }
        let void = void_payment(&booking_id, user_id, amount, &now)?;
        match store.insert(&void).await.map_err(PaymentError::from) {
            Ok(()) => {
                tracing::info!(payment_id = %void.id, %booking_id, "booking ended before payment: voided");
                return Ok(Ended::Voided);
            }
            Err(PaymentError::AlreadyPaid) => continue,
            Err(err) => return Err(err),
        }
    }
    Err(PaymentError::Other(anyhow::anyhow!(
        "booking {booking_id}: payment kept changing while ending it"
    )))
}

fn void_payment(
    booking_id: &str,
    user_id: Uuid,
    amount: Option<(f64, &str)>,
    now: &DateTime<Utc>,
) -> Result<PaymentDoc, PaymentError> {
    let (amount_minor, currency) = match amount {
        Some((amount, currency)) => (to_minor(amount)?, currency.to_owned()),
        None => (0, String::new()),
    };
    Ok(PaymentDoc {
        id: Uuid::new_v4().to_string(),
        booking_id: booking_id.to_owned(),
        user_id: user_id.to_string(),
        amount_minor,
        currency,
        status: FAILED.to_owned(),
        reason: Some(VOID_REASON.to_owned()),
        provider_ref: None,
        created_at: bson_time(now),
        updated_at: bson_time(now),
        processed_at: None,
        refunded_at: None,
        void: true,
        outbox: Vec::new(),
        outbox_pending_since: None,
    })
}

/// The payment `id` if `caller` may see it (its owner or an admin); `NotFound` otherwise,
/// also for a malformed id.
pub async fn get(store: &Store, caller: &AuthUser, id: &str) -> Result<PaymentDoc, PaymentError> {
    let id = canonical(id)?;
    visible(store.by_id(&id).await?, caller)
}

/// The payment of booking `booking_id`, under the same rule as [`get`].
pub async fn of_booking(
    store: &Store,
    caller: &AuthUser,
    booking_id: &str,
) -> Result<PaymentDoc, PaymentError> {
    let booking_id = canonical(booking_id)?;
    visible(store.by_booking(&booking_id).await?, caller)
}

fn canonical(raw: &str) -> Result<String, PaymentError> {
    Uuid::parse_str(raw)
        .map(|id| id.to_string())
        .map_err(|_| PaymentError::NotFound)
}

fn visible(payment: Option<PaymentDoc>, caller: &AuthUser) -> Result<PaymentDoc, PaymentError> {
    payment
        .filter(|p| caller.is_admin() || p.user_id == caller.id.to_string())
        .ok_or(PaymentError::NotFound)
}

/// `store::chrono_time`, for views.
pub fn time(at: store::BsonDateTime) -> DateTime<Utc> {
    store::chrono_time(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_become_minor_units() {
        assert_eq!(to_minor(150.5).ok(), Some(15050));
        assert_eq!(to_minor(0.1 + 0.2).ok(), Some(30));
        assert_eq!(to_minor(0.0).ok(), Some(0));
        assert!(to_minor(-0.01).is_err());
        assert!(to_minor(f64::NAN).is_err());
        assert!(to_minor(f64::INFINITY).is_err());
        assert!(to_minor(1e13).is_err());
        assert!(to_minor(10.005).is_err());
        // A total of several maximal prices is still payable.
        assert_eq!(to_minor(2_500_000.0).ok(), Some(250_000_000));
        assert_eq!(to_major(15050), 150.5);
    }
}
