use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use ticketflow_common::kafka::{topics, Producer};
use ticketflow_event::seed::{seed, Catalogue, SeedReport};
use ticketflow_event::store::Store;
use ticketflow_testkit::{kafka_bootstrap, TestMongoDatabase, TopicWatcher};

use crate::support::{private_prefix, str_of, Service};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[tokio::test]
async fn seeding_twice_creates_once_and_keeps_ids() -> anyhow::Result<()> {
    let db = TestMongoDatabase::create().await?;
    let db_name = db.name().to_owned();
    let store = Store::connect(db.url(), &db_name).await?;
    // Idempotent (FerretDB v1.24 used to drop the connection on a repeated createIndexes).
    store.ensure_indexes().await?;
    store.ensure_indexes().await?;
    // The indexes the event list's filters and sort need.
    let client = mongodb::Client::with_uri_str(db.url()).await?;
    let names = client
        .database(&db_name)
        .collection::<mongodb::bson::Document>(ticketflow_event::store::EVENTS)
        .list_index_names()
        .await?;
    for wanted in [
        "date_id",
        "venue_id_date_id",
        "tags",
        "outbox_pending_since",
    ] {
        assert!(
            names.iter().any(|n| n == wanted),
            "{wanted} missing: {names:?}"
        );
    }
    // `event-service seed` and the service started below share a prefix of the test's own.
    let prefix = private_prefix().await?;
    let producer = Producer::new(&kafka_bootstrap()?)?.with_topic_prefix(&prefix);
    // The file on disk is the catalogue built into the binary.
    let text = std::fs::read_to_string(repo_root().join("infra/seed/catalogue.json"))?;
    let catalogue = Catalogue::parse(&text)?;
    let event_ids: HashSet<String> = catalogue.events.iter().map(|e| e.id.to_string()).collect();
    let venue_ids: HashSet<String> = catalogue.venues.iter().map(|v| v.id.to_string()).collect();
    let today = chrono::Utc::now().date_naive();
    let watcher = TopicWatcher::new(&[&format!("{prefix}{}", topics::EVENT_CREATED)])?;

    let first = seed(&store, &producer, &catalogue, today).await?;
    assert_eq!(
        first,
        SeedReport {
            venues_created: venue_ids.len(),
            venues_existing: 0,
            events_created: event_ids.len(),
            events_existing: 0,
            messages_published: event_ids.len(),
            messages_pending: 0,
        }
    );
    let announced = watcher
        .collect(Duration::from_secs(3), |m| {
            m.key.as_ref().is_some_and(|k| event_ids.contains(k))
        })
        .await?;
    let keys: HashSet<String> = announced.iter().filter_map(|m| m.key.clone()).collect();
    assert_eq!(keys, event_ids, "every seeded event is announced");
    for message in &announced {
        assert_eq!(message.payload["eventType"], "event.created");
        assert_eq!(message.payload["currency"], "INR");
    }

    // An event seeded before posters were served by the API gets its image_url repaired.
    let old_seeded = catalogue.events[0].id.to_string();
    store
        .update_event(
            &old_seeded,
            mongodb::bson::doc! {"image_url": "/posters/old.svg"},
        )
        .await?;

    // A second run (even a day later) changes nothing else.
    let tomorrow = today.succ_opt().unwrap_or(today);
    let second = seed(&store, &producer, &catalogue, tomorrow).await?;
    let repaired = store.event(&old_seeded).await?.and_then(|e| e.image_url);
    assert_eq!(repaired, Some(format!("/api/events/{old_seeded}/poster")));
    assert_eq!(
        second,
        SeedReport {
            venues_created: 0,
            venues_existing: venue_ids.len(),
            events_created: 0,
            events_existing: event_ids.len(),
            messages_published: 0,
            messages_pending: 0,
        }
    );
    assert_eq!(store.pending_count().await?, 0);

    // What the API shows: the fixed ids, once each, upcoming, with our posters.
    let svc = Service::start_on(&db, &prefix).await?;
    let list = svc.get("/api/events?limit=100").await?;
    let list = list.expect(200)?.clone();
    assert_eq!(list["total"], event_ids.len());
    let events = list["events"].as_array().cloned().unwrap_or_default();
    let listed: HashSet<String> = events.iter().map(|e| str_of(e, "id").to_owned()).collect();
    assert_eq!(listed, event_ids);
    let venues = svc.get("/api/venues").await?;
    let venues = venues.expect(200)?["venues"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let venue_listed: HashSet<String> = venues.iter().map(|v| str_of(v, "id").to_owned()).collect();
    assert_eq!(venue_listed, venue_ids);

    let now = chrono::Utc::now();
    let first_event = events.first().cloned().unwrap_or_default();
    assert!(first_event["available_seats"].as_i64().unwrap_or(0) > 0);
    assert!(first_event["venue"].is_object());
    for event in &events {
        let date = chrono::DateTime::parse_from_rfc3339(str_of(event, "date"))?;
        assert!(date > now, "seeded events are in the future: {event}");
        assert_eq!(event["currency"], "INR");
        // The poster the API serves at image_url is the artwork file of that event.
        let id = str_of(event, "id");
        let image = str_of(event, "image_url");
        assert_eq!(image, format!("/api/events/{id}/poster"));
        let served = svc
            .client
            .get(format!("{}{image}", svc.base))
            .send()
            .await?;
        assert_eq!(served.status().as_u16(), 200, "{image}");
        let served = served.text().await?;
        let slug = catalogue
            .events
            .iter()
            .find(|e| e.id.to_string() == id)
            .map(|e| e.slug.clone())
            .unwrap_or_default();
        let file = repo_root().join(format!("infra/seed/posters/{slug}.svg"));
        assert_eq!(served, std::fs::read_to_string(file)?, "poster for {id}");
    }
    let seats: Vec<i64> = events
        .iter()
        .filter_map(|e| e["total_seats"].as_i64())
        .collect();
    assert!(
        seats.iter().any(|s| *s <= 50) && seats.iter().any(|s| *s >= 500),
        "{seats:?}"
    );
    svc.stop().await?;
    db.cleanup().await
}
