use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use reqwest::header::HeaderMap;
use serde_json::{json, Value};
use sqlx::PgPool;
use ticketflow_booking::Config;
use ticketflow_common::auth::{test_identity_key, Role};
use ticketflow_common::kafka::{topics, Envelope, Message, Producer};
use ticketflow_testkit::kafka::Received;
use ticketflow_testkit::{kafka_bootstrap, private_topics, Spawned, TestPgDatabase, TopicWatcher};
use uuid::Uuid;

/// Every topic booking-service reads or writes, private to one test.
const TOPICS: [&str; 10] = [
    topics::BOOKING_INITIATED,
    topics::SEATS_LOCKED,
    topics::SEATS_LOCK_FAILED,
    topics::SEATS_CONFIRM,
    topics::SEATS_RELEASE,
    topics::PAYMENT_REQUESTED,
    topics::PAYMENT_PROCESSED,
    topics::BOOKING_CONFIRMED,
    topics::BOOKING_FAILED,
    topics::BOOKING_CANCELLED,
];

/// The events the stand-in event-service knows, by id.
type Events = Arc<Mutex<HashMap<Uuid, Value>>>;

/// booking-service in-process with a stand-in event-service.
pub struct Booking {
    pub service: Spawned,
    pub catalogue: Spawned,
    pub events: Events,
    pub pool: PgPool,
    pub prefix: String,
    pub producer: Producer,
    db: TestPgDatabase,
}

/// A user the tests act as (identity signed as the gateway would).
#[derive(Debug, Clone)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
}

impl User {
    pub fn new() -> Self {
        let id = Uuid::new_v4();
        Self {
            id,
            email: format!("user-{}@example.com", id.simple()),
            role: Role::User,
        }
    }

    pub fn admin() -> Self {
        Self {
            role: Role::Admin,
            ..Self::new()
        }
    }

    fn headers(&self) -> HeaderMap {
        test_identity_key().forwarded_headers(&self.id.to_string(), &self.email, self.role)
    }
}

pub async fn start() -> anyhow::Result<Booking> {
    start_with(|_| {}).await
}

pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> anyhow::Result<Booking> {
    let events: Events = Arc::default();
    let catalogue = Spawned::start({
        let app = Router::new()
            .route("/api/events/{id}", get(event))
            .with_state(events.clone());
        |listener, shutdown| async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown.cancelled_owned())
                .await?;
            Ok(())
        }
    })
    .await?;
    let db = TestPgDatabase::create().await?;
    let prefix = private_topics(&TOPICS).await?;
    let kafka = kafka_bootstrap()?;
    let mut config = Config::for_test(
        db.url(),
        &kafka,
        &prefix,
        &catalogue.base,
        test_identity_key(),
    );
    tweak(&mut config);
    let mut service =
        Spawned::start(|listener, shutdown| ticketflow_booking::run(config, listener, shutdown))
            .await?;
    service.wait_ready("/health/ready").await?;
    Ok(Booking {
        service,
        catalogue,
        events,
        pool: db.pool().await?,
        producer: Producer::new(&kafka)?.with_topic_prefix(&prefix),
        prefix,
        db,
    })
}

async fn event(State(events): State<Events>, Path(id): Path<Uuid>) -> (StatusCode, Json<Value>) {
    match events.lock().ok().and_then(|e| e.get(&id).cloned()) {
        Some(event) => (StatusCode::OK, Json(event)),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": {"code": "EVENT_NOT_FOUND"}})),
        ),
    }
}

impl Booking {
    /// An event in `days` days (negative: already started) at `price`, known to the catalogue.
    pub fn add_event(&self, days: i64, price: f64) -> Uuid {
        let id = Uuid::new_v4();
        let date = ticketflow_common::time::now() + chrono::Duration::days(days);
        let body = json!({
            "id": id, "name": "Monsoon Jazz", "date": ticketflow_common::time::rfc3339(&date),
            "price": price, "currency": "INR", "venue": {"name": "Blue Frog"},
            "total_seats": 100, "available_seats": 100,
        });
        if let Ok(mut events) = self.events.lock() {
            events.insert(id, body);
        }
        id
    }

    pub fn url(&self, path: &str) -> String {
        self.service.url(path)
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        who: Option<&User>,
        body: Option<&Value>,
        extra: &[(&str, &str)],
    ) -> anyhow::Result<(StatusCode, Value)> {
        let mut request = self.service.client.request(method, self.url(path));
        if let Some(user) = who {
            request = request.headers(user.headers());
        }
        for (name, value) in extra {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await?;
        let status = StatusCode::from_u16(response.status().as_u16())?;
        let text = response.text().await?;
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)?
        };
        Ok((status, body))
    }

    /// `POST /api/bookings` as `user`.
    pub async fn book(
        &self,
        user: &User,
        event_id: Uuid,
        seats: &[Uuid],
    ) -> anyhow::Result<(StatusCode, Value)> {
        self.call(
            reqwest::Method::POST,
            "/api/bookings",
            Some(user),
            Some(&json!({"eventId": event_id, "seatIds": seats})),
            &[],
        )
        .await
    }

    pub async fn get(&self, user: &User, id: &str) -> anyhow::Result<(StatusCode, Value)> {
        self.call(
            reqwest::Method::GET,
            &format!("/api/bookings/{id}"),
            Some(user),
            None,
            &[],
        )
        .await
    }

    /// Polls the booking until its `step` is `step`.
    pub async fn wait_step(&self, user: &User, id: &str, step: &str) -> anyhow::Result<Value> {
        ticketflow_testkit::eventually(Duration::from_secs(20), step, || async {
            let (_, body) = self.get(user, id).await?;
            Ok((body["step"] == step).then_some(body))
        })
        .await
    }

    /// Plays inventory or payment: publishes `payload` on its private topic.
    pub async fn send<M: Message>(&self, payload: M) -> anyhow::Result<Envelope<M>> {
        self.producer.publish(payload).await
    }

    pub async fn resend<M: Message>(&self, envelope: &Envelope<M>) -> anyhow::Result<()> {
        let bytes = serde_json::to_vec(envelope)?;
        self.producer
            .send_raw(M::TOPIC, Some(&envelope.payload.key()), &bytes, &[])
            .await
    }

    /// A watcher on this test's copies of `topics`.
    pub fn watch(&self, topics: &[&str]) -> anyhow::Result<TopicWatcher> {
        let names: Vec<String> = topics
            .iter()
            .map(|topic| format!("{}{topic}", self.prefix))
            .collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        TopicWatcher::new(&refs)
    }

    pub async fn stop(self) -> anyhow::Result<()> {
        self.service.stop().await?;
        self.catalogue.stop().await?;
        self.pool.close().await;
        self.db.cleanup().await
    }
}

/// The next message of `event_type` about `booking_id`.
pub async fn expect(
    watcher: &TopicWatcher,
    event_type: &str,
    booking_id: &str,
) -> anyhow::Result<Received> {
    watcher
        .expect(Duration::from_secs(20), |r| {
            r.payload["eventType"] == event_type && r.payload["bookingId"] == booking_id
        })
        .await
}

pub fn id_of(body: &Value) -> String {
    body["id"].as_str().unwrap_or_default().to_owned()
}

pub fn uuid_of(body: &Value) -> Uuid {
    Uuid::parse_str(body["id"].as_str().unwrap_or_default()).unwrap_or_default()
}
