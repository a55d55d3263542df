use std::time::Duration;

use anyhow::Context;
use serde_json::Value;
use sqlx::PgPool;
use ticketflow_common::auth::test_identity_key;
use ticketflow_common::kafka::messages::{BookingInitiated, EventCreated};
use ticketflow_common::kafka::{topics, Envelope, Message, Producer};
use ticketflow_inventory::Config;
use ticketflow_testkit::kafka::Received;
use ticketflow_testkit::{
    eventually, kafka_bootstrap, private_topics, setting, Spawned, TestPgDatabase, TopicWatcher,
};
use uuid::Uuid;

/// Every topic inventory-service reads or writes, private to one test.
const TOPICS: [&str; 7] = [
    topics::EVENT_CREATED,
    topics::BOOKING_INITIATED,
    topics::SEATS_CONFIRM,
    topics::SEATS_RELEASE,
    topics::SEATS_LOCKED,
    topics::SEATS_LOCK_FAILED,
    topics::SEATS_AVAILABILITY,
];

/// One or more inventory-service instances over one database and one set of private topics
/// (one consumer group), as a deployment with replicas.
pub struct Inventory {
    pub instances: Vec<Spawned>,
    pub pool: PgPool,
    pub prefix: String,
    pub producer: Producer,
    pub client: reqwest::Client,
    pub redis: redis::aio::MultiplexedConnection,
    db: TestPgDatabase,
}

pub async fn start(instances: usize) -> anyhow::Result<Inventory> {
    start_with(instances, |_| {}).await
}

pub async fn start_with(
    instances: usize,
    tweak: impl Fn(&mut Config),
) -> anyhow::Result<Inventory> {
    let db = TestPgDatabase::create().await?;
    let prefix = private_topics(&TOPICS).await?;
    let kafka = kafka_bootstrap()?;
    let redis_url = setting("REDIS_URL")?;
    let mut spawned = Vec::new();
    for _ in 0..instances {
        let mut config =
            Config::for_test(db.url(), &redis_url, &kafka, &prefix, test_identity_key());
        tweak(&mut config);
        let mut service = Spawned::start(|listener, shutdown| {
            ticketflow_inventory::run(config, listener, shutdown)
        })
        .await?;
        service.wait_ready("/health/ready").await?;
        spawned.push(service);
    }
    let client = spawned
        .first()
        .map(|s| s.client.clone())
        .context("at least one instance")?;
    Ok(Inventory {
        instances: spawned,
        pool: db.pool().await?,
        producer: Producer::new(&kafka)?.with_topic_prefix(&prefix),
        redis: redis::Client::open(redis_url)?
            .get_multiplexed_async_connection()
            .await?,
        prefix,
        client,
        db,
    })
}

impl Inventory {
    pub fn url(&self, path: &str) -> String {
        self.instances
            .first()
            .map(|s| s.url(path))
            .unwrap_or_default()
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<(reqwest::StatusCode, Value)> {
        let response = self.client.get(self.url(path)).send().await?;
        let status = response.status();
        Ok((status, response.json().await?))
    }

    pub async fn seat_map(&self, event_id: Uuid) -> anyhow::Result<Value> {
        let (status, body) = self
            .get(&format!("/api/inventory/events/{event_id}/seats"))
            .await?;
        anyhow::ensure!(status == reqwest::StatusCode::OK, "{status} {body}");
        Ok(body)
    }

    /// Publishes `event.created` for a new event of `total` seats and waits for its seats;
    /// returns the event id and its seat ids in seat-map order.
    pub async fn new_event(&self, total: u32) -> anyhow::Result<(Uuid, Vec<Uuid>)> {
        let event_id = Uuid::new_v4();
        self.send(event_created(event_id, total)).await?;
        let seats = eventually(Duration::from_secs(20), "the event's seats", || async {
            let map = self.seat_map(event_id).await?;
            Ok((map["total"] == total).then(|| seat_ids(&map)))
        })
        .await?;
        Ok((event_id, seats))
    }

    /// Publishes `payload` on its (private) topic.
    pub async fn send<M: Message>(&self, payload: M) -> anyhow::Result<Envelope<M>> {
        self.producer.publish(payload).await
    }

    /// Publishes `envelope` again, same `messageId`: what a redelivery looks like.
    pub async fn resend<M: Message>(&self, envelope: &Envelope<M>) -> anyhow::Result<()> {
        let bytes = serde_json::to_vec(envelope)?;
        self.producer
            .send_raw(M::TOPIC, Some(&envelope.payload.key()), &bytes, &[])
            .await
    }

    /// A watcher on this test's copies of `topics`, from their current ends.
    pub fn watch(&self, topics: &[&str]) -> anyhow::Result<TopicWatcher> {
        let names: Vec<String> = topics
            .iter()
            .map(|topic| format!("{}{topic}", self.prefix))
            .collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        TopicWatcher::new(&refs)
    }

    /// `(seat, booking, status)` of every hold of the event, straight from the table.
    pub async fn holds(&self, event_id: Uuid) -> anyhow::Result<Vec<(Uuid, Uuid, String)>> {
        Ok(
            sqlx::query_as(
                "SELECT seat_id, booking_id, status FROM seat_holds WHERE event_id = $1",
            )
            .bind(event_id)
            .fetch_all(&self.pool)
            .await?,
        )
    }

    /// The booking id in the Redis gate key of a seat, if any.
    pub async fn gate_holder(
        &self,
        event_id: Uuid,
        seat_id: Uuid,
    ) -> anyhow::Result<Option<String>> {
        let mut redis = self.redis.clone();
        Ok(redis::cmd("GET")
            .arg(ticketflow_inventory::gate::key(event_id, seat_id))
            .query_async(&mut redis)
            .await?)
    }

    pub async fn stop(self) -> anyhow::Result<()> {
        for instance in self.instances {
            instance.stop().await?;
        }
        self.pool.close().await;
        self.db.cleanup().await
    }
}

pub fn event_created(event_id: Uuid, total: u32) -> EventCreated {
    EventCreated {
        event_id,
        name: "Test Concert".into(),
        total_seats: total,
        date: "2030-01-01T19:00:00.000Z".into(),
        price: 1499.0,
        currency: "INR".into(),
        venue_id: Uuid::new_v4(),
    }
}

pub fn initiated(booking_id: Uuid, event_id: Uuid, seat_ids: &[Uuid]) -> BookingInitiated {
    BookingInitiated {
        booking_id,
        user_id: Uuid::new_v4(),
        user_email: "buyer@example.com".into(),
        event_id,
        event_name: "Test Concert".into(),
        seat_ids: seat_ids.to_vec(),
        total_amount: 1499.0 * seat_ids.len() as f64,
        currency: "INR".into(),
    }
}

pub fn seat_ids(map: &Value) -> Vec<Uuid> {
    map["seats"]
        .as_array()
        .map(|seats| {
            seats
                .iter()
                .filter_map(|s| s["id"].as_str().and_then(|id| Uuid::parse_str(id).ok()))
                .collect()
        })
        .unwrap_or_default()
}

/// The `status` of each seat of the map, by id.
pub fn statuses(map: &Value) -> std::collections::HashMap<Uuid, String> {
    map["seats"]
        .as_array()
        .map(|seats| {
            seats
                .iter()
                .filter_map(|s| {
                    let id = Uuid::parse_str(s["id"].as_str()?).ok()?;
                    Some((id, s["status"].as_str()?.to_owned()))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Whether `received` is about `booking_id`.
pub fn for_booking(received: &Received, booking_id: Uuid) -> bool {
    received.payload["bookingId"] == booking_id.to_string()
}

/// The answer (`seats.locked` or `seats.lock-failed`) to `booking_id`.
pub async fn answer(watcher: &TopicWatcher, booking_id: Uuid) -> anyhow::Result<Received> {
    watcher
        .expect(Duration::from_secs(20), |r| {
            for_booking(r, booking_id)
                && matches!(
                    r.payload["eventType"].as_str(),
                    Some("seats.locked" | "seats.lock-failed")
                )
        })
        .await
}

pub fn uuids(value: &Value) -> Vec<Uuid> {
    value
        .as_array()
        .map(|ids| {
            ids.iter()
                .filter_map(|id| id.as_str().and_then(|id| Uuid::parse_str(id).ok()))
                .collect()
        })
        .unwrap_or_default()
}

impl Inventory {
    /// Waits until the consumer has handled the message `message_id` (its ledger entry).
    pub async fn wait_handled(&self, message_id: Uuid) -> anyhow::Result<()> {
        eventually(
            Duration::from_secs(20),
            "the message to be handled",
            || async {
                let handled: bool = sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM processed_messages WHERE message_id = $1)",
                )
                .bind(message_id)
                .fetch_one(&self.pool)
                .await?;
                Ok(handled.then_some(()))
            },
        )
        .await
    }

    /// The counts kept with the event (what availability messages carry) equal the holds.
    pub async fn assert_counts_match_rows(&self, event_id: Uuid) -> anyhow::Result<()> {
        let (kept_locked, kept_reserved, rows_locked, rows_reserved): (i32, i32, i64, i64) =
            sqlx::query_as(
                "SELECT e.locked, e.reserved,
                        (SELECT count(*) FROM seat_holds h
                          WHERE h.event_id = e.event_id AND h.status = 'LOCKED'),
                        (SELECT count(*) FROM seat_holds h
                          WHERE h.event_id = e.event_id AND h.status = 'RESERVED')
                 FROM event_inventory e WHERE e.event_id = $1",
            )
            .bind(event_id)
            .fetch_one(&self.pool)
            .await?;
        anyhow::ensure!(
            (i64::from(kept_locked), i64::from(kept_reserved)) == (rows_locked, rows_reserved),
            "kept ({kept_locked}, {kept_reserved}) vs rows ({rows_locked}, {rows_reserved})"
        );
        Ok(())
    }

    /// The event's seat-map version (moves on with every change).
    pub async fn version(&self, event_id: Uuid) -> anyhow::Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT version FROM event_inventory WHERE event_id = $1")
                .bind(event_id)
                .fetch_one(&self.pool)
                .await?,
        )
    }
}

/// One Server-Sent Event.
#[derive(Debug, Clone)]
pub struct SseEvent {
    pub event: String,
    pub id: String,
    pub data: Value,
}

/// Reads a `text/event-stream` body event by event (comments skipped).
pub struct SseReader {
    response: reqwest::Response,
    buffer: String,
    /// Comment lines seen (heartbeats).
    pub comments: usize,
}

impl SseReader {
    pub fn new(response: reqwest::Response) -> Self {
        Self {
            response,
            buffer: String::new(),
            comments: 0,
        }
    }

    /// The next event, or an error after `timeout`.
    pub async fn next(&mut self, timeout: Duration) -> anyhow::Result<SseEvent> {
        tokio::time::timeout(timeout, self.next_event())
            .await
            .map_err(|_| anyhow::anyhow!("no event within {timeout:?}"))?
    }

    async fn next_event(&mut self) -> anyhow::Result<SseEvent> {
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = SseEvent {
                    event: "message".into(),
                    id: String::new(),
                    data: Value::Null,
                };
                let mut data = String::new();
                for line in block.lines() {
                    if line.starts_with(':') {
                        self.comments += 1;
                    } else if let Some(value) = line.strip_prefix("event:") {
                        event.event = value.trim().to_owned();
                    } else if let Some(value) = line.strip_prefix("id:") {
                        event.id = value.trim().to_owned();
                    } else if let Some(value) = line.strip_prefix("data:") {
                        data.push_str(value.trim_start());
                    }
                }
                if !data.is_empty() {
                    event.data = serde_json::from_str(&data)?;
                    return Ok(event);
                }
            }
            let chunk = self
                .response
                .chunk()
                .await?
                .ok_or_else(|| anyhow::anyhow!("the stream ended"))?;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}
