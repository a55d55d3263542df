//! The catalogue cache (`src/cache.rs`) stays correct: two replicas on one database, each
//! with a warm cache, see every write — by either of them, and by the availability consumer of
//! any replica — on their very next request, without waiting (nothing here retries).

use serde_json::{json, Value};
use ticketflow_event::store::{AvailabilityUpdate, Store};
use ticketflow_testkit::TestMongoDatabase;

use crate::support::{private_prefix, str_of, Service, ADMIN};

async fn list(svc: &Service) -> anyhow::Result<Value> {
    Ok(svc.get("/api/events?limit=10").await?.expect(200)?.clone())
}

fn names(page: &Value) -> Vec<String> {
    page["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["name"].as_str().map(str::to_owned))
        .collect()
}

fn listed<'a>(page: &'a Value, id: &str) -> Option<&'a Value> {
    page["events"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["id"] == id)
}

#[tokio::test]
async fn a_replica_sees_the_other_replicas_writes_at_once() -> anyhow::Result<()> {
    let db = TestMongoDatabase::create().await?;
    let prefix = private_prefix().await?;
    let a = Service::start_on(&db, &prefix).await?;
    let b = Service::start_on(&db, &prefix).await?;

    let venue = a.create_venue("Cache Hall").await?;
    let first = a
        .create_event(str_of(&venue, "id"), json!({"name": "First Night"}))
        .await?;
    let first_id = str_of(&first, "id").to_owned();

    // Both caches warm, and both asked twice (the second answer comes from the cache).
    for svc in [&a, &b] {
        for _ in 0..2 {
            let page = list(svc).await?;
            assert_eq!(names(&page), ["First Night"]);
            assert_eq!(page["total"], 1);
        }
        let one = svc.get(&format!("/api/events/{first_id}")).await?;
        assert_eq!(one.expect(200)?["name"], "First Night");
    }

    // A creates: B lists it on its next request, and so does A.
    a.create_event(
        str_of(&venue, "id"),
        json!({"name": "Second Night", "date": crate::support::days_from_now(60)}),
    )
    .await?;
    for svc in [&b, &a] {
        let page = list(svc).await?;
        assert_eq!(names(&page), ["First Night", "Second Night"]);
        assert_eq!(page["total"], 2);
    }

    // B renames the first: A's cached list and cached event both show the new name.
    let renamed = b
        .put(
            &format!("/api/events/{first_id}"),
            ADMIN,
            &json!({"name": "First Night (moved)"}),
        )
        .await?;
    renamed.expect(200)?;
    let page = list(&a).await?;
    assert_eq!(names(&page), ["First Night (moved)", "Second Night"]);
    let one = a.get(&format!("/api/events/{first_id}")).await?;
    assert_eq!(one.expect(200)?["name"], "First Night (moved)");

    // An unknown id still answers the 404 envelope (misses are not cached).
    let missing = a
        .get("/api/events/00000000-0000-4000-8000-000000000000")
        .await?;
    missing.expect_error(404, "EVENT_NOT_FOUND")?;

    a.stop().await?;
    b.stop().await?;
    db.cleanup().await?;
    Ok(())
}

#[tokio::test]
async fn an_availability_report_applied_anywhere_shows_in_the_cached_answers() -> anyhow::Result<()>
{
    let db = TestMongoDatabase::create().await?;
    let prefix = private_prefix().await?;
    let svc = Service::start_on(&db, &prefix).await?;
    let venue = svc.create_venue("Report Hall").await?;
    let created = svc.create_event(str_of(&venue, "id"), json!({})).await?;
    let id = str_of(&created, "id").to_owned();
    let path = format!("/api/events/{id}");

    // Warm: the list and the event as created.
    assert_eq!(
        listed(&list(&svc).await?, &id).map(|e| e["available_seats"].clone()),
        Some(json!(100))
    );
    assert_eq!(svc.get(&path).await?.expect(200)?["available_seats"], 100);

    // Another replica's consumer applies a report (its own store on the same database).
    let other = Store::new(db.database());
    let applied = other.apply_availability(&id, 64, 1).await?;
    assert!(matches!(applied, AvailabilityUpdate::Applied));
    assert_eq!(
        listed(&list(&svc).await?, &id).map(|e| e["available_seats"].clone()),
        Some(json!(64))
    );
    assert_eq!(svc.get(&path).await?.expect(200)?["available_seats"], 64);

    // A stale report changes nothing, and the answers stay right.
    let stale = other.apply_availability(&id, 3, 1).await?;
    assert!(matches!(stale, AvailabilityUpdate::Stale));
    assert_eq!(svc.get(&path).await?.expect(200)?["available_seats"], 64);

    svc.stop().await?;
    db.cleanup().await?;
    Ok(())
}
