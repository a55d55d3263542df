//! The consumer (group `notification-service`): `user.registered`, `booking.confirmed`,
//! `booking.failed`, `booking.cancelled` → one mail each (see `notifications`). Nothing is
//! published; a mail that cannot be sent goes to `<topic>.DLT` with its error.

use ticketflow_common::kafka::{self, topics, ConsumerConfig, Delivery, HandlerError, Producer};
use tokio_util::sync::CancellationToken;

use crate::config::{Config, CONSUMER_GROUP};
use crate::error::NotificationError;
use crate::notifications::{self, Delivered, Notice};
use crate::state::AppState;

/// The topics notification-service consumes.
pub const CONSUMED: [&str; 4] = [
    topics::USER_REGISTERED,
    topics::BOOKING_CONFIRMED,
    topics::BOOKING_FAILED,
    topics::BOOKING_CANCELLED,
];

/// The runner's settings: [`CONSUMED`] and the group, under the configured prefix. SMTP
/// retries are the runner's: its backoff is `SMTP_RETRY_MS` … `SMTP_RETRY_MAX_MS`, and it
/// allows two attempts more than `SMTP_MAX_ATTEMPTS`, so the handler (which counts the
/// sending attempts in the record) is the one that gives up and stores `FAILED`.
pub fn consumer_config(config: &Config) -> ConsumerConfig {
    let mut consumer = ConsumerConfig::new(&config.kafka_bootstrap, CONSUMER_GROUP, &CONSUMED)
        .with_topic_prefix(&config.kafka_topic_prefix);
    consumer.max_attempts = config.smtp.max_attempts + 2;
    consumer.initial_backoff = config.smtp.retry_initial;
    consumer.max_backoff = config.smtp.retry_max;
    consumer
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
    let p = &state.presentation;
    let notice = match delivery.topic.as_str() {
        topics::USER_REGISTERED => Notice::welcome(&delivery.envelope()?, p),
        topics::BOOKING_CONFIRMED => Notice::confirmed(&delivery.envelope()?, p),
        topics::BOOKING_FAILED => Notice::failed(&delivery.envelope()?, p),
        topics::BOOKING_CANCELLED => Notice::cancelled(&delivery.envelope()?, p),
        other => {
            return Err(HandlerError::Poison(anyhow::anyhow!(
                "notification-service does not consume {other}"
            )))
        }
    }
    .map_err(|err| handler_error(err.into()))?;
    let delivered = notifications::deliver(state, &notice)
        .await
        .map_err(handler_error)?;
    if delivered == Delivered::Repeated {
        tracing::debug!(message_id = %notice.message_id, "mail of a repeated message: nothing sent");
    }
    Ok(())
}

/// A mail that can never go out is dead-lettered at once; anything else is worth retrying.
fn handler_error(err: NotificationError) -> HandlerError {
    match err {
        NotificationError::Undeliverable(_) | NotificationError::Render(_) => {
            HandlerError::Poison(err.into())
        }
        other => HandlerError::Transient(other.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_topics_and_retries_follow_the_config() {
        let mut config = Config::for_test(
            "mongodb://h",
            "db",
            "k:9092",
            "",
            ticketflow_common::auth::test_identity_key(),
            "127.0.0.1",
            1025,
        );
        let plain = consumer_config(&config);
        assert_eq!(plain.group_id, "notification-service");
        assert_eq!(plain.topics, CONSUMED.map(str::to_owned).to_vec());
        assert_eq!(plain.max_attempts, config.smtp.max_attempts + 2);
        config.kafka_topic_prefix = "t1.".to_owned();
        let prefixed = consumer_config(&config);
        assert_eq!(prefixed.group_id, "t1.notification-service");
        assert_eq!(prefixed.topic_prefix, "t1.");
    }
}
