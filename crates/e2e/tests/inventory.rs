//! inventory-service as clients see it: through the gateway, next to event-service, over
//! the real PostgreSQL, Redis, Kafka and MongoDB-compatible server. Both services share a
//! private topic prefix, so they talk to each other and to nobody else.

use std::time::Duration;

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use ticketflow_common::auth::{test_identity_key, Role};
use ticketflow_common::config::Secret;
use ticketflow_common::kafka::messages::BookingInitiated;
use ticketflow_common::kafka::{topics, Producer};
use ticketflow_gateway::config::{Service, Upstreams};
use ticketflow_testkit::{
    eventually, kafka_bootstrap, private_topics, setting, unreachable_addr, Spawned,
    TestMongoDatabase, TestPgDatabase, TopicWatcher,
};
use uuid::Uuid;

/// The JWT key the test gateway verifies with (no user-service here: tokens are minted).
const JWT_SECRET: &str = "e2e-inventory-tests-only-jwt-secret-0123456789";
const SEAT_LOCK_TTL: Duration = Duration::from_secs(300);

/// Gateway + event-service + inventory-service in-process; dropped services first.
struct Stack {
    gateway: String,
    http: Client,
    prefix: String,
    producer: Producer,
    admin_token: String,
    _gateway: Spawned,
    _inventory: Spawned,
    _event: Spawned,
    _pg: TestPgDatabase,
    _mongo: TestMongoDatabase,
}

async fn start() -> anyhow::Result<Stack> {
    let prefix = private_topics(&[
        topics::EVENT_CREATED,
        topics::BOOKING_INITIATED,
        topics::SEATS_CONFIRM,
        topics::SEATS_RELEASE,
        topics::SEATS_LOCKED,
        topics::SEATS_LOCK_FAILED,
        topics::SEATS_AVAILABILITY,
    ])
    .await?;
    let kafka = kafka_bootstrap()?;
    let pg = TestPgDatabase::create().await?;
    let mongo = TestMongoDatabase::create().await?;

    let mut inventory_config = ticketflow_inventory::Config::for_test(
        pg.url(),
        &setting("REDIS_URL")?,
        &kafka,
        &prefix,
        test_identity_key(),
    );
    inventory_config.seat_lock_ttl = SEAT_LOCK_TTL;
    let mut inventory = Spawned::start(|listener, shutdown| {
        ticketflow_inventory::run(inventory_config, listener, shutdown)
    })
    .await?;
    inventory.wait_ready("/health/ready").await?;

    let mut event_config =
        ticketflow_event::Config::for_test(mongo.url(), mongo.name(), &kafka, test_identity_key());
    event_config.kafka_topic_prefix.clone_from(&prefix);
    let mut event = Spawned::start(|listener, shutdown| {
        ticketflow_event::run(event_config, listener, shutdown)
    })
    .await?;
    event.wait_ready("/health/ready").await?;

    let nowhere = format!("http://{}", unreachable_addr()?);
    let upstreams = Upstreams::all(&nowhere)?
        .with(Service::Event, &event.base)?
        .with(Service::Inventory, &inventory.base)?;
    let gateway_config =
        ticketflow_gateway::Config::for_test(JWT_SECRET, test_identity_key(), upstreams);
    let gateway = Spawned::start(|listener, shutdown| {
        ticketflow_gateway::run(gateway_config, listener, shutdown)
    })
    .await?;
    let (admin_token, _) = ticketflow_common::jwt::issue(
        &Secret::new(JWT_SECRET),
        Uuid::new_v4(),
        "admin@example.com",
        Role::Admin,
        3_600_000,
    )?;
    Ok(Stack {
        gateway: gateway.base.clone(),
        http: gateway.client.clone(),
        producer: Producer::new(&kafka)?.with_topic_prefix(&prefix),
        prefix,
        admin_token,
        _gateway: gateway,
        _inventory: inventory,
        _event: event,
        _pg: pg,
        _mongo: mongo,
    })
}

impl Stack {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.gateway)
    }

    async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let response = self.http.get(self.url(path)).send().await?;
        anyhow::ensure!(
            response.status() == StatusCode::OK,
            "{path}: {}",
            response.status()
        );
        Ok(response.json().await?)
    }

    async fn admin_post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        let response = self
            .http
            .post(self.url(path))
            .bearer_auth(&self.admin_token)
            .json(body)
            .send()
            .await?;
        anyhow::ensure!(
            response.status() == StatusCode::CREATED,
            "{path}: {}",
            response.status()
        );
        Ok(response.json().await?)
    }

    /// An event created through the gateway (as an admin), and its seat ids once inventory
    /// has built them from `event.created`.
    async fn new_event(&self, seats: u32) -> anyhow::Result<(Uuid, Vec<Uuid>)> {
        let venue = self
            .admin_post(
                "/api/venues",
                &json!({"name": format!("Hall {}", Uuid::new_v4().simple()), "address": "1 Test Road",
                        "city": "Pune", "country": "India", "capacity": 500}),
            )
            .await?;
        let date = ticketflow_common::time::now() + chrono::Duration::days(30);
        let event = self
            .admin_post(
                "/api/events",
                &json!({"name": "Seat Stream Live", "description": "e2e", "venue_id": venue["id"],
                        "date": ticketflow_common::time::rfc3339(&date), "price": 1499.0,
                        "total_seats": seats}),
            )
            .await?;
        let event_id = Uuid::parse_str(event["id"].as_str().unwrap_or_default())?;
        let seat_ids = eventually(Duration::from_secs(30), "the event's seats", || async {
            let map = self
                .get(&format!("/api/inventory/events/{event_id}/seats"))
                .await?;
            Ok((map["total"] == seats).then(|| {
                map["seats"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|s| Uuid::parse_str(s["id"].as_str()?).ok())
                    .collect::<Vec<_>>()
            }))
        })
        .await?;
        Ok((event_id, seat_ids))
    }

    /// Another client's booking asks for `seats` (as booking-service would).
    async fn book(&self, event_id: Uuid, seats: &[Uuid]) -> anyhow::Result<Uuid> {
        let booking_id = Uuid::new_v4();
        self.producer
            .publish(BookingInitiated {
                booking_id,
                user_id: Uuid::new_v4(),
                user_email: "someone@example.com".into(),
                event_id,
                event_name: "Seat Stream Live".into(),
                seat_ids: seats.to_vec(),
                total_amount: 1499.0 * seats.len() as f64,
                currency: "INR".into(),
            })
            .await?;
        Ok(booking_id)
    }
}

/// Reads `event:`/`data:` blocks off a `text/event-stream` body.
struct Events {
    response: reqwest::Response,
    buffer: String,
}

impl Events {
    async fn next(&mut self) -> anyhow::Result<(String, Value)> {
        let read = async {
            loop {
                if let Some(end) = self.buffer.find("\n\n") {
                    let block: String = self.buffer.drain(..end + 2).collect();
                    let field = |name: &str| {
                        block
                            .lines()
                            .find_map(|l| l.strip_prefix(name))
                            .map(|v| v.trim().to_owned())
                    };
                    if let (Some(event), Some(data)) = (field("event:"), field("data:")) {
                        return anyhow::Ok((event, serde_json::from_str(&data)?));
                    }
                    continue;
                }
                let chunk = self
                    .response
                    .chunk()
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("stream ended"))?;
                self.buffer.push_str(&String::from_utf8_lossy(&chunk));
            }
        };
        tokio::time::timeout(Duration::from_secs(10), read)
            .await
            .map_err(|_| anyhow::anyhow!("no event within 10 s"))?
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seat_stream_shows_another_clients_lock_through_the_gateway_within_a_second(
) -> anyhow::Result<()> {
    let stack = start().await?;
    let (event_id, seats) = stack.new_event(40).await?;
    // Anonymous, through the gateway, as a browser's EventSource would.
    let response = stack
        .http
        .get(stack.url(&format!("/api/inventory/events/{event_id}/seats/stream")))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    let mut events = Events {
        response,
        buffer: String::new(),
    };
    let (kind, snapshot) = events.next().await?;
    assert_eq!(kind, "snapshot");
    assert_eq!(snapshot["total"], 40);
    assert_eq!(snapshot["summary"]["available"], 40);

    let answers = TopicWatcher::new(&[&format!("{}{}", stack.prefix, topics::SEATS_LOCKED)])?;
    let wanted = [seats[6], seats[7]];
    let booking_id = stack.book(event_id, &wanted).await?;
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let (kind, seat) = events.next().await?;
        assert_eq!(kind, "seat");
        assert_eq!(seat["status"], "LOCKED");
        seen.push(Uuid::parse_str(
            seat["seatId"].as_str().unwrap_or_default(),
        )?);
    }
    let received_at = chrono::Utc::now();
    seen.sort();
    let mut expected = wanted.to_vec();
    expected.sort();
    assert_eq!(seen, expected);
    // The change happened when the lock was taken: its expiry minus the TTL (the clock of
    // the database transaction that took it).
    let locked = answers
        .expect(Duration::from_secs(20), |r| {
            r.payload["bookingId"] == booking_id.to_string()
        })
        .await?;
    let expires = chrono::DateTime::parse_from_rfc3339(
        locked.payload["lockExpiresAt"].as_str().unwrap_or_default(),
    )?;
    let changed_at =
        expires.with_timezone(&chrono::Utc) - chrono::Duration::from_std(SEAT_LOCK_TTL)?;
    let delay = received_at - changed_at;
    assert!(
        delay < chrono::Duration::seconds(1),
        "the stream took {delay} to show the change"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_service_shows_the_seats_inventory_has_left() -> anyhow::Result<()> {
    let stack = start().await?;
    let (event_id, seats) = stack.new_event(30).await?;
    let event = stack.get(&format!("/api/events/{event_id}")).await?;
    assert_eq!(event["available_seats"], 30);
    stack.book(event_id, &seats[..3]).await?;
    eventually(
        Duration::from_secs(20),
        "available_seats to follow the lock",
        || async {
            let event = stack.get(&format!("/api/events/{event_id}")).await?;
            Ok((event["available_seats"] == 27).then_some(()))
        },
    )
    .await?;
    let map = stack
        .get(&format!("/api/inventory/events/{event_id}/seats"))
        .await?;
    assert_eq!(map["summary"]["available"], 27);
    assert_eq!(map["summary"]["locked"], 3);
    Ok(())
}
