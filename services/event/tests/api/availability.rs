//! `available_seats` follows `ticketflow.seats.availability`. Like every test here, these run
//! on topics of the test's own (`private_prefix`), so no other test's (or run's) reports reach
//! this service; they make the prefix first, to watch its `.DLT` before the service starts.
//!
//! Reports for one event share its key, hence its partition, and the consumer handles a
//! partition in order: once something sent after a report has visibly been handled (here, a
//! poison message reaching the `.DLT`), that report has been handled too — so "ignored" is
//! asserted without sleeping.

use std::time::Duration;

use mongodb::bson::doc;
use serde_json::{json, Value};
use ticketflow_common::kafka::messages::SeatsAvailability;
use ticketflow_common::kafka::{topics, Envelope, Producer};
use ticketflow_testkit::{eventually, kafka_bootstrap, TopicWatcher};
use uuid::Uuid;

use crate::support::{private_prefix, str_of, Service};

const WAIT: Duration = Duration::from_secs(20);

fn report(event_id: Uuid, available: i64, version: i64) -> SeatsAvailability {
    SeatsAvailability {
        event_id,
        total: 100,
        available,
        locked: 100 - available,
        reserved: 0,
        version,
    }
}

async fn event(svc: &Service, id: &str) -> anyhow::Result<Value> {
    Ok(svc
        .get(&format!("/api/events/{id}"))
        .await?
        .expect(200)?
        .clone())
}

async fn wait_available(svc: &Service, id: &str, want: i64) -> anyhow::Result<()> {
    eventually(WAIT, &format!("available_seats = {want}"), || async {
        let shown = event(svc, id).await?;
        Ok((shown["available_seats"] == json!(want)).then_some(()))
    })
    .await
}

#[tokio::test]
async fn available_seats_follows_the_newest_availability_report() -> anyhow::Result<()> {
    let prefix = private_prefix().await?;
    let dlt = format!(
        "{prefix}{}",
        topics::dead_letter(topics::SEATS_AVAILABILITY)
    );
    let dead_letters = TopicWatcher::new(&[&dlt])?;
    let svc = Service::start_prefixed(&prefix).await?;
    let venue = svc.create_venue("Blue Hall").await?;
    let created = svc.create_event(str_of(&venue, "id"), json!({})).await?;
    let id = str_of(&created, "id").to_owned();
    let event_id = Uuid::parse_str(&id)?;
    assert_eq!(created["available_seats"], 100);
    let producer = Producer::new(&kafka_bootstrap()?)?.with_topic_prefix(&prefix);

    // A first report applies, whatever its version.
    producer.publish(report(event_id, 70, 3)).await?;
    wait_available(&svc, &id, 70).await?;

    // An older version, a duplicate of the current one with another count, and a report for
    // an event this service does not know (keyed like ours, so it sits in the same partition
    // ahead of what follows), then a payload that does not decode.
    producer.publish(report(event_id, 10, 2)).await?;
    producer.publish(report(event_id, 55, 3)).await?;
    let unknown = Envelope::new(report(Uuid::new_v4(), 5, 1));
    producer
        .send_raw(
            topics::SEATS_AVAILABILITY,
            Some(&id),
            &serde_json::to_vec(&unknown)?,
            &[],
        )
        .await?;
    producer
        .send_raw(topics::SEATS_AVAILABILITY, Some(&id), b"{not json", &[])
        .await?;

    // The first dead letter is the undecodable payload, dead-lettered at once: nothing before
    // it was retried to exhaustion (the unknown event did not loop), and all of it was handled.
    let dead = dead_letters
        .expect(WAIT, |m| m.key.as_deref() == Some(id.as_str()))
        .await?;
    assert_eq!(dead.payload, Value::Null, "{dead:?}");
    assert_eq!(
        dead.header("x-dlt-original-topic"),
        Some(topics::SEATS_AVAILABILITY)
    );
    assert_eq!(dead.header("x-dlt-attempts"), Some("1"));
    assert!(dead
        .header("x-dlt-error")
        .is_some_and(|e| e.contains("undecodable")));
    // So the older version and the duplicate were ignored.
    let shown = event(&svc, &id).await?;
    assert_eq!(shown["available_seats"], 70, "{shown}");
    assert!(shown.get("availability_version").is_none(), "{shown}");

    // The partition moved on: the next report applies.
    producer.publish(report(event_id, 40, 4)).await?;
    wait_available(&svc, &id, 40).await?;

    // Stored with its version; the catalogue entry's own timestamps and fields are untouched.
    let stored = svc
        .store
        .database()
        .collection::<mongodb::bson::Document>(ticketflow_event::store::EVENTS)
        .find_one(doc! {"_id": &id})
        .await?
        .ok_or_else(|| anyhow::anyhow!("event {id} not stored"))?;
    assert_eq!(stored.get_i64("availability_version")?, 4);
    let shown = event(&svc, &id).await?;
    assert_eq!(shown["updated_at"], created["updated_at"]);
    assert_eq!(shown["total_seats"], 100);
    assert_eq!(shown["name"], created["name"]);
    svc.stop().await
}

#[tokio::test]
async fn a_topic_prefix_applies_to_event_created_too() -> anyhow::Result<()> {
    let prefix = private_prefix().await?;
    let prefixed = format!("{prefix}{}", topics::EVENT_CREATED);
    let watcher = TopicWatcher::new(&[&prefixed, topics::EVENT_CREATED])?;
    let svc = Service::start_prefixed(&prefix).await?;
    let venue = svc.create_venue("Blue Hall").await?;
    let created = svc.create_event(str_of(&venue, "id"), json!({})).await?;
    let id = str_of(&created, "id").to_owned();

    // Watching both names: the message arrives on the prefixed one.
    let message = watcher
        .expect(WAIT, |m| m.key.as_deref() == Some(id.as_str()))
        .await?;
    assert_eq!(message.topic, prefixed);
    assert_eq!(message.payload["eventId"], json!(id));
    svc.stop().await
}
