use std::time::Duration;

use serde_json::{json, Value};
use ticketflow_common::kafka::topics;
use ticketflow_testkit::TopicWatcher;

use crate::support::{
    days_from_now, identity_headers, merge, str_of, valid_event, Service, ADMIN, ANON, USER,
};

const EVENT_KEYS: [&str; 14] = [
    "available_seats",
    "created_at",
    "currency",
    "date",
    "description",
    "id",
    "image_url",
    "name",
    "price",
    "tags",
    "total_seats",
    "updated_at",
    "venue",
    "venue_id",
];

fn keys(v: &Value) -> Vec<String> {
    let mut keys: Vec<String> = v
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    keys.sort();
    keys
}

fn is_wire_time(text: &str) -> bool {
    text.len() == 24
        && text.ends_with('Z')
        && chrono::DateTime::parse_from_rfc3339(text).is_ok()
        && text.as_bytes().get(19) == Some(&b'.')
}

#[tokio::test]
async fn create_and_get_an_event() -> anyhow::Result<()> {
    let svc = Service::start().await?;
    let venue = svc.create_venue("Blue Hall").await?;
    let venue_id = str_of(&venue, "id");
    let body = json!({
        "name": "  Jazz Night  ",
        "description": "Cool\nmusic",
        "venue_id": venue_id.to_uppercase(),
        "date": "2031-03-01T20:00:00+05:30",
        "price": 150.5,
        "total_seats": 250,
        "tags": ["Jazz", "live", "jazz"],
        "image_url": "/posters/jazz.svg",
        "available_seats": 3,
        "id": "00000000-0000-4000-8000-000000000000"
    });
    let reply = svc.post("/api/events", ADMIN, &body).await?;
    let event = reply.expect(201)?.clone();

    let expected_keys: Vec<String> = EVENT_KEYS.iter().map(|k| (*k).to_owned()).collect();
    assert_eq!(
        keys(&event),
        expected_keys,
        "no outbox or extra fields: {event}"
    );

    let id = str_of(&event, "id");
    let parsed = uuid::Uuid::parse_str(id)?;
    assert_eq!(parsed.get_version_num(), 4);
    assert_eq!(parsed.to_string(), id);
    assert_ne!(
        id, "00000000-0000-4000-8000-000000000000",
        "client ids are ignored"
    );
    assert_eq!(event["name"], "Jazz Night");
    assert_eq!(event["description"], "Cool\nmusic");
    assert_eq!(event["venue_id"], venue_id);
    assert_eq!(event["venue"], venue);
    assert_eq!(event["date"], "2031-03-01T14:30:00.000Z");
    assert_eq!(event["price"], json!(150.5));
    assert_eq!(event["currency"], "INR");
    assert_eq!(event["total_seats"], 250);
    assert_eq!(event["available_seats"], 250);
    assert_eq!(event["image_url"], "/posters/jazz.svg");
    assert_eq!(event["tags"], json!(["jazz", "live"]));
    assert!(is_wire_time(str_of(&event, "created_at")), "{event}");
    assert_eq!(event["created_at"], event["updated_at"]);

    let fetched = svc.get(&format!("/api/events/{id}")).await?;
    assert_eq!(fetched.expect(200)?, &event);

    // Whole-number prices stay numbers; other currencies are kept.
    let other = svc
        .create_event(
            venue_id,
            json!({"price": 0, "currency": "USD", "image_url": null}),
        )
        .await?;
    assert_eq!(other["price"], json!(0.0));
    assert_eq!(other["currency"], "USD");
    assert_eq!(other["image_url"], Value::Null);
    svc.stop().await
}

#[tokio::test]
async fn unknown_events_are_404() -> anyhow::Result<()> {
    let svc = Service::start().await?;
    svc.get(&format!("/api/events/{}", uuid::Uuid::new_v4()))
        .await?
        .expect_error(404, "EVENT_NOT_FOUND")?;
    for odd in ["not-a-uuid", "%24where", "..%2F..", "123"] {
        svc.get(&format!("/api/events/{odd}"))
            .await?
            .expect_error(404, "EVENT_NOT_FOUND")?;
    }
    svc.put(
        &format!("/api/events/{}", uuid::Uuid::new_v4()),
        ADMIN,
        &json!({"name": "x"}),
    )
    .await?
    .expect_error(404, "EVENT_NOT_FOUND")?;
    svc.put("/api/events/nope", ADMIN, &json!({"name": "x"}))
        .await?
        .expect_error(404, "EVENT_NOT_FOUND")?;
    svc.stop().await
}

#[tokio::test]
async fn only_admins_create_and_update_events() -> anyhow::Result<()> {
    let svc = Service::start().await?;
    let venue = svc.create_venue("Blue Hall").await?;
    let body = valid_event(str_of(&venue, "id"));
    svc.post("/api/events", ANON, &body)
        .await?
        .expect_error(401, "UNAUTHORIZED")?;
    svc.post("/api/events", USER, &body)
        .await?
        .expect_error(403, "FORBIDDEN")?;
    // Auth is checked before the body: a USER with garbage still gets 403.
    svc.post("/api/events", USER, &json!("garbage"))
        .await?
        .expect_error(403, "FORBIDDEN")?;
    let event = svc.create_event(str_of(&venue, "id"), json!({})).await?;
    let path = format!("/api/events/{}", str_of(&event, "id"));
    svc.put(&path, ANON, &json!({"name": "Hacked"}))
        .await?
        .expect_error(401, "UNAUTHORIZED")?;
    svc.put(&path, USER, &json!({"name": "Hacked"}))
        .await?
        .expect_error(403, "FORBIDDEN")?;
    assert_eq!(svc.get(&path).await?.expect(200)?, &event);
    assert_eq!(svc.get("/api/events").await?.expect(200)?["total"], 1);
    svc.stop().await
}

#[tokio::test]
async fn create_validation_names_each_field() -> anyhow::Result<()> {
    let svc = Service::start().await?;
    let venue = svc.create_venue("Blue Hall").await?;
    let venue_id = str_of(&venue, "id").to_owned();
    let cases: Vec<(Value, &str)> = vec![
        (json!({"name": ""}), "name"),
        (json!({"name": "   "}), "name"),
        (json!({"name": "n".repeat(201)}), "name"),
        (json!({"name": 42}), "name"),
        (json!({"name": null}), "name"),
        (json!({"description": "d".repeat(5001)}), "description"),
        (json!({"description": 5}), "description"),
        (json!({"venue_id": "not-a-uuid"}), "venue_id"),
        (json!({"venue_id": null}), "venue_id"),
        (json!({"date": "tomorrow"}), "date"),
        (json!({"date": "2030-01-01"}), "date"),
        (json!({"date": "2030-01-01T20:00:00"}), "date"),
        (json!({"date": 1_900_000_000}), "date"),
        (json!({"price": -1}), "price"),
        (json!({"price": 10.123}), "price"),
        (json!({"price": "10"}), "price"),
        (json!({"price": 1e12}), "price"),
        (json!({"currency": "inr"}), "currency"),
        (json!({"currency": "RUPEES"}), "currency"),
        (json!({"total_seats": 0}), "total_seats"),
        (json!({"total_seats": 10_001}), "total_seats"),
        (json!({"total_seats": 1.5}), "total_seats"),
        (json!({"total_seats": "100"}), "total_seats"),
        (json!({"tags": vec!["t"; 21]}), "tags"),
        (json!({"tags": ["t".repeat(41)]}), "tags"),
        (json!({"tags": [""]}), "tags"),
        (json!({"tags": "rock"}), "tags"),
        (json!({"tags": [1]}), "tags"),
        (
            json!({"image_url": format!("/{}", "i".repeat(2048))}),
            "image_url",
        ),
        (json!({"image_url": "javascript:alert(1)"}), "image_url"),
    ];
    for (overrides, field) in cases {
        let mut body = valid_event(&venue_id);
        merge(&mut body, overrides.clone());
        let reply = svc.post("/api/events", ADMIN, &body).await?;
        reply
            .expect_invalid(field)
            .map_err(|e| e.context(format!("{overrides}")))?;
    }
    // Boundaries that are valid.
    let ok = svc
        .create_event(
            &venue_id,
            json!({
                "name": "n".repeat(200), "description": "d".repeat(5000), "total_seats": 10_000,
                "tags": (0..20).map(|i| format!("{i:0>40}")).collect::<Vec<_>>(),
                "image_url": format!("/{}", "i".repeat(2047)), "price": 0.29
            }),
        )
        .await?;
    assert_eq!(ok["price"], json!(0.29));
    assert_eq!(ok["total_seats"], 10_000);

    // Missing required fields are all listed at once.
    let reply = svc.post("/api/events", ADMIN, &json!({})).await?;
    reply.expect(400)?;
    let mut fields = reply.fields();
    fields.sort();
    assert_eq!(
        fields,
        vec!["date", "name", "price", "total_seats", "venue_id"]
    );

    // Bodies that are not JSON objects.
    let raw = svc
        .client
        .post(format!("{}/api/events", svc.base))
        .headers(identity_headers(ADMIN, "req-raw-body")?)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await?;
    assert_eq!(raw.status().as_u16(), 400);
    let raw: Value = raw.json().await?;
    assert_eq!(raw["error"]["code"], "VALIDATION_ERROR");
    assert_eq!(raw["error"]["details"][0]["field"], "body");
    svc.post("/api/events", ADMIN, &json!([]))
        .await?
        .expect_invalid("body")?;
    assert_eq!(svc.get("/api/events").await?.expect(200)?["total"], 1);
    svc.stop().await
}

#[tokio::test]
async fn unknown_venue_is_404_and_announces_nothing() -> anyhow::Result<()> {
    let svc = Service::start().await?;
    let watcher = TopicWatcher::new(&[&format!("{}{}", svc.prefix, topics::EVENT_CREATED)])?;
    let mut body = valid_event(&uuid::Uuid::new_v4().to_string());
    let name = str_of(&body, "name").to_owned();
    merge(&mut body, json!({}));
    svc.post("/api/events", ADMIN, &body)
        .await?
        .expect_error(404, "VENUE_NOT_FOUND")?;
    assert_eq!(svc.get("/api/events").await?.expect(200)?["total"], 0);
    let seen = watcher
        .collect(Duration::from_secs(2), |m| m.payload["name"] == json!(name))
        .await?;
    assert!(seen.is_empty(), "{seen:?}");
    svc.stop().await
}

#[tokio::test]
async fn partial_update() -> anyhow::Result<()> {
    let svc = Service::start().await?;
    let venue = svc.create_venue("Blue Hall").await?;
    let other_venue = svc.create_venue("Green Room").await?;
    let event = svc
        .create_event(str_of(&venue, "id"), json!({"tags": ["rock", "live"]}))
        .await?;
    let path = format!("/api/events/{}", str_of(&event, "id"));
    tokio::time::sleep(Duration::from_millis(5)).await;

    // One field changes, everything else stays.
    let renamed = svc.put(&path, ADMIN, &json!({"name": "Renamed"})).await?;
    let renamed = renamed.expect(200)?.clone();
    assert_eq!(renamed["name"], "Renamed");
    for key in [
        "description",
        "venue_id",
        "venue",
        "date",
        "price",
        "currency",
        "total_seats",
        "available_seats",
        "image_url",
        "tags",
        "created_at",
        "id",
    ] {
        assert_eq!(renamed[key], event[key], "{key}");
    }
    assert_ne!(renamed["updated_at"], event["updated_at"]);
    assert_eq!(svc.get(&path).await?.expect(200)?, &renamed);

    // Several fields, a new venue, clearing the image and tags.
    let date = days_from_now(60);
    let updated = svc
        .put(
            &path,
            ADMIN,
            &json!({
                "price": 99.99, "currency": "EUR", "date": date, "description": "New text",
                "venue_id": other_venue["id"], "image_url": null, "tags": null
            }),
        )
        .await?;
    let updated = updated.expect(200)?.clone();
    assert_eq!(updated["price"], json!(99.99));
    assert_eq!(updated["currency"], "EUR");
    assert_eq!(updated["date"], json!(date));
    assert_eq!(updated["description"], "New text");
    assert_eq!(updated["venue"], other_venue);
    assert_eq!(updated["image_url"], Value::Null);
    assert_eq!(updated["tags"], json!([]));
    assert_eq!(updated["name"], "Renamed");

    // Same total_seats is fine; a different one is refused with an actionable code.
    svc.put(&path, ADMIN, &json!({"total_seats": 100}))
        .await?
        .expect(200)?;
    let refused = svc
        .put(&path, ADMIN, &json!({"total_seats": 120, "name": "Bigger"}))
        .await?;
    refused.expect_error(422, "SEATS_ALREADY_ALLOCATED")?;
    assert!(refused.body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("total_seats"));
    // Validation still comes first, and an unknown venue is 404.
    svc.put(&path, ADMIN, &json!({"total_seats": 0}))
        .await?
        .expect_invalid("total_seats")?;
    svc.put(&path, ADMIN, &json!({"venue_id": uuid::Uuid::new_v4()}))
        .await?
        .expect_error(404, "VENUE_NOT_FOUND")?;
    for (body, field) in [
        (json!({"name": ""}), "name"),
        (json!({"name": null}), "name"),
        (json!({"price": -5}), "price"),
        (json!({"date": "soon"}), "date"),
        (json!({"venue_id": null}), "venue_id"),
        (json!({"tags": ["x".repeat(41)]}), "tags"),
    ] {
        svc.put(&path, ADMIN, &body)
            .await?
            .expect_invalid(field)
            .map_err(|e| e.context(format!("{body}")))?;
    }
    svc.put(&path, ADMIN, &json!("text"))
        .await?
        .expect_invalid("body")?;

    // Nothing above (after the last success) changed the event; an empty body is a no-op.
    let after = svc.get(&path).await?.expect(200)?.clone();
    assert_eq!(after["total_seats"], 100);
    assert_eq!(after["name"], "Renamed");
    assert_eq!(
        svc.put(&path, ADMIN, &json!({})).await?.expect(200)?,
        &after
    );
    svc.stop().await
}

#[tokio::test]
async fn posters_are_served_with_cache_validators() -> anyhow::Result<()> {
    let svc = Service::start().await?;
    let venue = svc.create_venue("Poster Hall").await?;
    let event = svc
        .create_event(str_of(&venue, "id"), json!({"name": "Rock & <Roll> Night"}))
        .await?;
    let url = format!("{}/api/events/{}/poster", svc.base, str_of(&event, "id"));

    // Public: no identity needed.
    let poster = svc.client.get(&url).send().await?;
    assert_eq!(poster.status().as_u16(), 200);
    let header = |r: &reqwest::Response, name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert!(header(&poster, "content-type").starts_with("image/svg+xml"));
    assert!(header(&poster, "cache-control").contains("max-age="));
    let etag = header(&poster, "etag");
    assert!(etag.starts_with('"') && etag.len() > 2, "{etag:?}");
    let svg = poster.text().await?;
    assert!(
        svg.starts_with("<svg") && svg.contains("Rock &amp; &lt;Roll&gt; Night"),
        "{svg}"
    );

    let revalidated = svc
        .client
        .get(&url)
        .header("if-none-match", &etag)
        .send()
        .await?;
    assert_eq!(revalidated.status().as_u16(), 304);
    assert_eq!(header(&revalidated, "etag"), etag);
    assert!(revalidated.text().await?.is_empty());

    let stale = svc
        .client
        .get(&url)
        .header("if-none-match", "\"something-else\"")
        .send()
        .await?;
    assert_eq!(stale.status().as_u16(), 200);

    let unknown = format!("/api/events/{}/poster", uuid::Uuid::new_v4());
    svc.get(&unknown)
        .await?
        .expect_error(404, "EVENT_NOT_FOUND")?;
    svc.get("/api/events/not-an-id/poster")
        .await?
        .expect_error(404, "EVENT_NOT_FOUND")?;
    svc.stop().await
}
