//! The consumer: `event.created` → seats, `booking.initiated` → lock, `seats.confirm` →
//! reserve, `seats.release` → free. Every handler is idempotent (by `messageId` and by
//! state), so redelivery changes nothing.

use ticketflow_common::kafka::messages::{
    BookingInitiated, EventCreated, SeatsConfirm, SeatsRelease,
};
use ticketflow_common::kafka::{
    self as kafka, topics, ConsumerConfig, Delivery, HandlerError, Producer,
};
use tokio_util::sync::CancellationToken;

use crate::config::{Config, CONSUMER_GROUP};
use crate::inventory;
use crate::state::AppState;

/// The topics inventory-service consumes.
pub const CONSUMED: [&str; 4] = [
    topics::EVENT_CREATED,
    topics::BOOKING_INITIATED,
    topics::SEATS_CONFIRM,
    topics::SEATS_RELEASE,
];

/// Consumes until `shutdown`.
pub async fn consume(
    config: &Config,
    state: AppState,
    producer: Producer,
    shutdown: CancellationToken,
) {
    // Bookings are independent: several at once, each booking's messages in order (seat
    // locks are atomic per seat, as with several replicas).
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
    match delivery.topic.as_str() {
        topics::EVENT_CREATED => {
            let message = delivery.envelope::<EventCreated>()?;
            inventory::create_seats(state, &message.payload).await?;
        }
        topics::BOOKING_INITIATED => {
            let message = delivery.envelope::<BookingInitiated>()?;
            let answer = inventory::lock(state, message.message_id, &message.payload).await?;
            tracing::info!(booking_id = %message.payload.booking_id, ?answer, "booking.initiated handled");
        }
        topics::SEATS_CONFIRM => {
            let message = delivery.envelope::<SeatsConfirm>()?;
            inventory::confirm(state, message.message_id, &message.payload).await?;
        }
        topics::SEATS_RELEASE => {
            let message = delivery.envelope::<SeatsRelease>()?;
            inventory::release(state, message.message_id, &message.payload).await?;
        }
        other => {
            return Err(HandlerError::Poison(anyhow::anyhow!(
                "inventory-service does not consume {other}"
            )))
        }
    }
    Ok(())
}
