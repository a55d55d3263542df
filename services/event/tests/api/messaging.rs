use std::time::Duration;

use mongodb::bson::doc;
use serde_json::{json, Value};
use ticketflow_common::kafka::{topics, Producer};
use ticketflow_event::domain::event::validate_new;
use ticketflow_event::messaging::{self, Relay};
use ticketflow_event::service;
use ticketflow_event::store::{self, is_duplicate, EventDoc, Store};
use ticketflow_testkit::{eventually, kafka_bootstrap, TestMongoDatabase, TopicWatcher};

use crate::support::{identity_headers, private_prefix, str_of, valid_event, Service, ADMIN};

/// The raw stored document (to see the outbox fields the API hides).
async fn raw_doc(store: &Store, id: &str) -> anyhow::Result<Option<mongodb::bson::Document>> {
    Ok(store
        .database()
        .collection::<mongodb::bson::Document>(store::EVENTS)
        .find_one(doc! {"_id": id})
        .await?)
}

async fn wait_outbox_cleared(store: &Store, id: &str) -> anyhow::Result<()> {
    eventually(Duration::from_secs(10), "outbox cleared", || async {
        let doc = raw_doc(store, id).await?;
        Ok(doc
            .filter(|d| !d.contains_key("outbox") && !d.contains_key("outbox_pending_since"))
            .map(|_| ()))
    })
    .await
}

#[tokio::test]
async fn event_created_is_published_with_key_fields_and_headers() -> anyhow::Result<()> {
    let svc = Service::start().await?;
    let venue = svc.create_venue("Blue Hall").await?;
    let watcher = TopicWatcher::new(&[&format!("{}{}", svc.prefix, topics::EVENT_CREATED)])?;
    let mut body = valid_event(str_of(&venue, "id"));
    body["price"] = json!(1499.99);
    body["total_seats"] = json!(321);
    body["date"] = json!("2031-05-06T19:30:00+05:30");
    let request_id = format!("req-{}", uuid::Uuid::new_v4().simple());
    let reply = svc
        .client
        .post(format!("{}/api/events", svc.base))
        .headers(identity_headers(ADMIN, &request_id)?)
        .json(&body)
        .send()
        .await?;
    assert_eq!(reply.status().as_u16(), 201);
    let event: Value = reply.json().await?;
    let id = str_of(&event, "id").to_owned();

    let message = watcher
        .expect(Duration::from_secs(15), |m| {
            m.key.as_deref() == Some(id.as_str())
        })
        .await?;
    let payload = &message.payload;
    assert_eq!(payload["eventType"], "event.created");
    assert_eq!(payload["eventId"], json!(id));
    assert_eq!(payload["name"], body["name"]);
    assert_eq!(payload["totalSeats"], 321);
    assert_eq!(payload["date"], "2031-05-06T14:00:00.000Z");
    assert_eq!(payload["price"], json!(1499.99));
    assert_eq!(payload["currency"], "INR");
    assert_eq!(payload["venueId"], venue["id"]);
    assert!(uuid::Uuid::parse_str(str_of(payload, "messageId")).is_ok());
    assert_eq!(str_of(payload, "timestamp").len(), 24);
    assert_eq!(message.header("x-request-id"), Some(request_id.as_str()));
    assert!(message
        .header("traceparent")
        .is_some_and(|tp| tp.starts_with("00-")));

    // Once published, the pending message is gone from the document, and only one was sent.
    wait_outbox_cleared(&svc.store, &id).await?;
    let repeats = watcher
        .collect(Duration::from_secs(1), |m| {
            m.key.as_deref() == Some(id.as_str())
        })
        .await?;
    assert!(repeats.is_empty(), "{repeats:?}");
    svc.stop().await
}

/// A stored document for a new event, as `POST /api/events` would write it.
fn new_doc(venue_id: &str, pending_minutes_ago: i64) -> anyhow::Result<EventDoc> {
    let new = validate_new(&valid_event(venue_id)).map_err(|e| anyhow::anyhow!("{e}"))?;
    let now = ticketflow_common::time::now();
    let mut doc = service::new_event_doc(uuid::Uuid::new_v4(), &new, &now)?;
    doc.outbox_pending_since = Some(store::bson_time(
        &(now - chrono::Duration::minutes(pending_minutes_ago)),
    ));
    Ok(doc)
}

#[tokio::test]
async fn relay_republishes_a_message_left_pending() -> anyhow::Result<()> {
    let svc = Service::start().await?;
    let venue = svc.create_venue("Blue Hall").await?;
    let watcher = TopicWatcher::new(&[&format!("{}{}", svc.prefix, topics::EVENT_CREATED)])?;
    // As if the process died right after the insert: the message is still in the document.
    let doc = new_doc(str_of(&venue, "id"), 5)?;
    let message_id = doc.outbox[0].id.clone();
    svc.store.insert_event(&doc).await?;
    // The API never shows it.
    let shown = svc.get(&format!("/api/events/{}", doc.id)).await?;
    let shown = shown.expect(200)?;
    assert!(shown.get("outbox").is_none() && shown.get("outbox_pending_since").is_none());

    let message = watcher
        .expect(Duration::from_secs(15), |m| {
            m.key.as_deref() == Some(doc.id.as_str())
        })
        .await?;
    assert_eq!(
        message.payload["messageId"],
        json!(message_id),
        "same message, not a new one"
    );
    assert_eq!(message.payload["eventId"], json!(doc.id));
    wait_outbox_cleared(&svc.store, &doc.id).await?;
    svc.stop().await
}

#[tokio::test]
async fn a_failed_insert_publishes_nothing() -> anyhow::Result<()> {
    let db = TestMongoDatabase::create().await?;
    let store = Store::connect(db.url(), db.name()).await?;
    let prefix = private_prefix().await?;
    let producer = Producer::new(&kafka_bootstrap()?)?.with_topic_prefix(&prefix);
    let watcher = TopicWatcher::new(&[&format!("{prefix}{}", topics::EVENT_CREATED)])?;
    let venue_id = uuid::Uuid::new_v4().to_string();

    let first = new_doc(&venue_id, 5)?;
    store.insert_event(&first).await?;
    // Same `_id`, different content and message: the insert fails, so no message may exist.
    let mut second = new_doc(&venue_id, 5)?;
    second.id = first.id.clone();
    second.name = "The impostor".into();
    second.outbox = vec![messaging::event_created(&second)?];
    let second_message = second.outbox[0].id.clone();
    let err = store.insert_event(&second).await.err();
    assert!(err.as_ref().is_some_and(is_duplicate), "{err:?}");

    // Publish everything pending, as the relay does.
    let relay = Relay::new(
        store.clone(),
        producer,
        Duration::from_millis(100),
        Duration::ZERO,
    );
    assert_eq!(relay.publish_due().await?, 1);
    assert_eq!(relay.publish_due().await?, 0);
    assert_eq!(store.pending_count().await?, 0);

    let seen = watcher
        .collect(Duration::from_secs(3), |m| {
            m.key.as_deref() == Some(first.id.as_str())
        })
        .await?;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].payload["messageId"], json!(first.outbox[0].id));
    assert!(seen
        .iter()
        .all(|m| m.payload["messageId"] != json!(second_message)));
    let stored = store.event(&first.id).await?;
    assert_eq!(stored.map(|d| d.name), Some(first.name.clone()));
    db.cleanup().await
}

#[tokio::test]
async fn clearing_the_outbox_never_undoes_an_update() -> anyhow::Result<()> {
    // FerretDB rewrites whole documents on update; the publisher's clean-up racing an admin's
    // PUT must not bring the old values back.
    let svc = Service::start().await?;
    let venue = svc.create_venue("Blue Hall").await?;
    let mut renamed = Vec::new();
    for i in 0..8 {
        let event = svc.create_event(str_of(&venue, "id"), json!({})).await?;
        let id = str_of(&event, "id").to_owned();
        let name = format!("Renamed {i}");
        svc.put(&format!("/api/events/{id}"), ADMIN, &json!({"name": name}))
            .await?
            .expect(200)?;
        renamed.push((id, name));
    }
    for (id, name) in &renamed {
        wait_outbox_cleared(&svc.store, id).await?;
        let event = svc.get(&format!("/api/events/{id}")).await?;
        assert_eq!(event.expect(200)?["name"], json!(name), "{id}");
    }
    svc.stop().await
}
