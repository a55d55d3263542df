//! Consuming `ticketflow.seats.availability`: inventory-service reports an event's seat counts
//! after every change, with a `version` that grows with each change; `available_seats` follows
//! the report with the highest version seen.
//!
//! Each report is applied by one conditional update (`Store::apply_availability`), so
//! redeliveries, duplicates and reports overtaken by newer ones change nothing. A report for
//! an event this service does not know is acknowledged and dropped (it can never apply), a
//! report that does not decode or breaks the counts' invariants is dead-lettered at once, and
//! a store failure is retried by the runner (then dead-lettered, so the partition moves on).

use anyhow::anyhow;
use ticketflow_common::kafka::messages::SeatsAvailability;
use ticketflow_common::kafka::{
    self as kafka, ConsumerConfig, Delivery, HandlerError, Message, Producer,
};
use tokio_util::sync::CancellationToken;

use crate::store::{AvailabilityUpdate, Store};
use crate::Config;

/// The consumer group (after `KAFKA_TOPIC_PREFIX`, so a prefixed test or fleet has its own).
pub const GROUP: &str = "event-service";

/// The runner's settings: `seats.availability` under the configured prefix (topics and group).
pub fn consumer_config(config: &Config) -> ConsumerConfig {
    // Reports of different events at once; one event's in order (and version-guarded).
    ConsumerConfig::new(&config.kafka_bootstrap, GROUP, &[SeatsAvailability::TOPIC])
        .with_topic_prefix(&config.kafka_topic_prefix)
        .with_concurrency(ticketflow_common::kafka::SAGA_CONCURRENCY)
}

/// Consumes until `shutdown` fires (restarted with backoff if it cannot start). `producer`
/// (carrying the same prefix) takes dead letters.
pub async fn consume(
    config: ConsumerConfig,
    store: Store,
    producer: Producer,
    shutdown: CancellationToken,
) {
    let handler = move |delivery: Delivery| {
        let store = store.clone();
        async move { handle(&store, &delivery).await }
    };
    kafka::consume(config, producer, handler, shutdown).await;
}

/// Applies one report.
pub async fn handle(store: &Store, delivery: &Delivery) -> Result<(), HandlerError> {
    let envelope = delivery.envelope::<SeatsAvailability>()?;
    if envelope.event_type != SeatsAvailability::EVENT_TYPE {
        return Err(HandlerError::Poison(anyhow!(
            "eventType {:?} on {}",
            envelope.event_type,
            delivery.topic
        )));
    }
    let report = &envelope.payload;
    check(report).map_err(HandlerError::Poison)?;
    let event_id = report.event_id.to_string();
    let outcome = store
        .apply_availability(&event_id, report.available, report.version)
        .await
        .map_err(|err| HandlerError::Transient(anyhow!(err).context("updating available_seats")))?;
    let message_id = envelope.message_id;
    match outcome {
        AvailabilityUpdate::Applied => tracing::info!(
            %event_id, %message_id, available = report.available, version = report.version,
            "available_seats updated"
        ),
        AvailabilityUpdate::Stale => tracing::debug!(
            %event_id, %message_id, version = report.version,
            "seats.availability ignored: the event already reflects this version or a later one"
        ),
        AvailabilityUpdate::UnknownEvent => tracing::debug!(
            %event_id, %message_id, version = report.version,
            "seats.availability ignored: no such event"
        ),
    }
    Ok(())
}

/// The counts' invariants; a report breaking them can never be applied.
fn check(report: &SeatsAvailability) -> anyhow::Result<()> {
    let counts = [
        ("total", report.total),
        ("available", report.available),
        ("locked", report.locked),
        ("reserved", report.reserved),
        ("version", report.version),
    ];
    if let Some((name, value)) = counts.iter().find(|(_, value)| *value < 0) {
        anyhow::bail!("negative {name} ({value}) for event {}", report.event_id);
    }
    if report.available > report.total {
        anyhow::bail!(
            "available ({}) exceeds total ({}) for event {}",
            report.available,
            report.total,
            report.event_id
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ticketflow_common::kafka::topics;

    fn report(total: i64, available: i64, version: i64) -> SeatsAvailability {
        SeatsAvailability {
            event_id: uuid::Uuid::new_v4(),
            total,
            available,
            locked: total - available,
            reserved: 0,
            version,
        }
    }

    #[test]
    fn counts_must_be_possible() {
        assert!(check(&report(100, 40, 1)).is_ok());
        assert!(check(&report(100, 0, 0)).is_ok());
        assert!(check(&report(100, 101, 1)).is_err());
        assert!(check(&report(100, -1, 1)).is_err());
        assert!(check(&report(100, 40, -1)).is_err());
    }

    #[test]
    fn group_and_topics_follow_the_prefix() {
        let mut config = Config::for_test(
            "mongodb://h",
            "db",
            "k:9092",
            ticketflow_common::auth::test_identity_key(),
        );
        let plain = consumer_config(&config);
        assert_eq!(plain.group_id, "event-service");
        assert_eq!(plain.topics, vec![topics::SEATS_AVAILABILITY.to_owned()]);
        assert_eq!(plain.topic_prefix, "");
        config.kafka_topic_prefix = "t1.".to_owned();
        let prefixed = consumer_config(&config);
        assert_eq!(prefixed.group_id, "t1.event-service");
        assert_eq!(prefixed.topics, vec![topics::SEATS_AVAILABILITY.to_owned()]);
        assert_eq!(prefixed.topic_prefix, "t1.");
    }
}
