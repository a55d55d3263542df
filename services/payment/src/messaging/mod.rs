//! The consumer (group `payment-service`): `payment.requested` → charge once per booking,
//! `booking.failed` / `booking.cancelled` → refund or void. Every handler is idempotent by
//! state (see `payments`), so redelivery changes nothing. `payment.processed` leaves through
//! the in-document outbox (`ticketflow_common::mongo`), relayed by [`Relay`].

use ticketflow_common::kafka::messages::{BookingCancelled, BookingFailed, PaymentRequested};
use ticketflow_common::kafka::{
    self as kafka, topics, ConsumerConfig, Delivery, HandlerError, Producer,
};
use tokio_util::sync::CancellationToken;

use crate::config::{Config, CONSUMER_GROUP};
use crate::error::PaymentError;
use crate::payments::{self, Processed};
use crate::state::AppState;
use crate::store::Store;

/// The topics payment-service consumes.
pub const CONSUMED: [&str; 3] = [
    topics::PAYMENT_REQUESTED,
    topics::BOOKING_FAILED,
    topics::BOOKING_CANCELLED,
];

/// Republishes payment documents' messages that stayed pending past the grace period.
pub type Relay = ticketflow_common::mongo::Relay<Store>;

/// The runner's settings: [`CONSUMED`] and the group, under the configured prefix.
pub fn consumer_config(config: &Config) -> ConsumerConfig {
    // One charge per booking, several bookings at once.
    ConsumerConfig::new(&config.kafka_bootstrap, CONSUMER_GROUP, &CONSUMED)
        .with_topic_prefix(&config.kafka_topic_prefix)
        .with_concurrency(ticketflow_common::kafka::SAGA_CONCURRENCY)
}

/// Consumes until `shutdown`. `producer` (carrying the same prefix) takes dead letters.
pub async fn consume(
    config: ConsumerConfig,
    state: AppState,
    producer: Producer,
    shutdown: CancellationToken,
) {
    let handler = move |delivery: Delivery| {
        let state = state.clone();
        async move { handle(&state, &delivery).await }
    };
    kafka::consume(config, producer, handler, shutdown).await;
}

async fn handle(state: &AppState, delivery: &Delivery) -> Result<(), HandlerError> {
    match delivery.topic.as_str() {
        topics::PAYMENT_REQUESTED => {
            let message = delivery.envelope::<PaymentRequested>()?;
            let outcome = payments::process(state, &message.payload)
                .await
                .map_err(handler_error)?;
            if let Processed::Repeated(payment) = outcome {
                tracing::debug!(message_id = %message.message_id, payment_id = %payment.id, "repeat request");
            }
        }
        topics::BOOKING_FAILED => {
            let message = delivery.envelope::<BookingFailed>()?;
            let booking = &message.payload;
            let store = state.store().map_err(handler_error)?;
            let ended = payments::end_booking(store, booking.booking_id, booking.user_id, None)
                .await
                .map_err(handler_error)?;
            tracing::info!(booking_id = %booking.booking_id, ?ended, "booking.failed handled");
        }
        topics::BOOKING_CANCELLED => {
            let message = delivery.envelope::<BookingCancelled>()?;
            let booking = &message.payload;
            let store = state.store().map_err(handler_error)?;
            let amount = Some((booking.total_amount, booking.currency.as_str()));
            let ended = payments::end_booking(store, booking.booking_id, booking.user_id, amount)
                .await
                .map_err(handler_error)?;
            tracing::info!(booking_id = %booking.booking_id, ?ended, "booking.cancelled handled");
        }
        other => {
            return Err(HandlerError::Poison(anyhow::anyhow!(
                "payment-service does not consume {other}"
            )))
        }
    }
    Ok(())
}

/// An invalid message is dead-lettered at once; anything else is worth retrying.
fn handler_error(err: PaymentError) -> HandlerError {
    match err {
        PaymentError::Invalid(_) => HandlerError::Poison(err.into()),
        other => HandlerError::Transient(other.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_and_topics_follow_the_prefix() {
        let mut config = Config::for_test(
            "mongodb://h",
            "db",
            "k:9092",
            "",
            ticketflow_common::auth::test_identity_key(),
        );
        let plain = consumer_config(&config);
        assert_eq!(plain.group_id, "payment-service");
        assert_eq!(plain.topics, CONSUMED.map(str::to_owned).to_vec());
        config.kafka_topic_prefix = "t1.".to_owned();
        let prefixed = consumer_config(&config);
        assert_eq!(prefixed.group_id, "t1.payment-service");
        assert_eq!(prefixed.topic_prefix, "t1.");
    }
}
