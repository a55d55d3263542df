//! The consumer: `seats.locked`, `seats.lock-failed` and `payment.processed` move bookings
//! through the saga (`service::handle`), each once per `messageId`.

use ticketflow_common::kafka::messages::{
    PaymentProcessed, SeatsLockFailed, SeatsLocked, PAYMENT_SUCCESS,
};
use ticketflow_common::kafka::{
    self as kafka, topics, ConsumerConfig, Delivery, HandlerError, Producer,
};
use tokio_util::sync::CancellationToken;

use crate::config::{Config, CONSUMER_GROUP};
use crate::domain::saga::Input;
use crate::service::{self, Message};
use crate::state::AppState;

/// The topics booking-service consumes.
pub const CONSUMED: [&str; 3] = [
    topics::SEATS_LOCKED,
    topics::SEATS_LOCK_FAILED,
    topics::PAYMENT_PROCESSED,
];

pub async fn consume(
    config: &Config,
    state: AppState,
    producer: Producer,
    shutdown: CancellationToken,
) {
    // Bookings are independent: several at once, each booking's messages in order.
    let consumer = ConsumerConfig::new(&config.kafka_bootstrap, CONSUMER_GROUP, &CONSUMED)
        .with_topic_prefix(&config.kafka_topic_prefix)
        .with_concurrency(ticketflow_common::kafka::SAGA_CONCURRENCY);
    let handler = move |delivery: Delivery| {
        let state = state.clone();
        async move { handle(&state, &delivery).await }
    };
    kafka::consume(consumer, producer, handler, shutdown).await;
}

async fn handle(state: &AppState, delivery: &Delivery) -> Result<(), HandlerError> {
    let message = match delivery.topic.as_str() {
        topics::SEATS_LOCKED => {
            let m = delivery.envelope::<SeatsLocked>()?;
            Message {
                message_id: m.message_id,
                booking_id: m.payload.booking_id,
                input: Input::SeatsLocked,
                seat_labels: Some(m.payload.seat_labels),
                payment_id: None,
            }
        }
        topics::SEATS_LOCK_FAILED => {
            let m = delivery.envelope::<SeatsLockFailed>()?;
            Message {
                message_id: m.message_id,
                booking_id: m.payload.booking_id,
                input: Input::SeatsLockFailed {
                    reason: m.payload.reason,
                },
                seat_labels: None,
                payment_id: None,
            }
        }
        topics::PAYMENT_PROCESSED => {
            let m = delivery.envelope::<PaymentProcessed>()?;
            let input = if m.payload.status == PAYMENT_SUCCESS {
                Input::PaymentSucceeded
            } else {
                Input::PaymentFailed {
                    reason: m.payload.reason.unwrap_or_default(),
                }
            };
            Message {
                message_id: m.message_id,
                booking_id: m.payload.booking_id,
                input,
                seat_labels: None,
                payment_id: Some(m.payload.payment_id),
            }
        }
        other => {
            return Err(HandlerError::Poison(anyhow::anyhow!(
                "booking-service does not consume {other}"
            )))
        }
    };
    service::handle(state, message).await?;
    Ok(())
}
