//! The booking saga end to end with every service a real OS process (the debug binaries next
//! to this test; `cargo build --bins` first when running only this crate) on the native stack:
//! gateway, event-, inventory-, booking- and payment-service, each test with its own
//! databases, its own Kafka topic prefix and its own random secrets. Users are JWTs minted
//! with the fleet's `JWT_SECRET` (no user-service: 500 registrations would be argon2 time).
//!
//! What is checked is what clients and the stores can see: every booking ends, a seat is sold
//! at most once and every confirmed booking's seats are reserved for it, a booking is charged
//! at most once and a charge outlives only a confirmed booking. `saga_race` races 500 clients
//! for 10 seats, `saga_crashes` kills -9 and restarts booking-, inventory- and
//! payment-service under 300 bookings, `payment_failure_*` / `cancel_*` the compensations.
//!
//! The tests of this file run one at a time (they load a 2-core machine on their own); each
//! prints its fleet's log directory, shown by the harness when it fails.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use futures::TryStreamExt;
use mongodb::bson::Document;
use rand::seq::SliceRandom;
use rand::Rng;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use ticketflow_common::auth::Role;
use ticketflow_common::config::Secret;
use ticketflow_common::kafka::topics;
use ticketflow_testkit::{
    kafka_bootstrap, private_topics, setting, unreachable_addr, Fleet, ProcessSpec,
    TestMongoDatabase, TestPgDatabase,
};
use uuid::Uuid;

/// The tests of this binary run one after the other.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const GATEWAY: &str = "gateway";
const EVENT: &str = "event-service";
const INVENTORY: &str = "inventory-service";
const BOOKING: &str = "booking-service";
const PAYMENT: &str = "payment-service";

/// Every topic the saga's services produce or consume.
const SAGA_TOPICS: [&str; 13] = [
    topics::USER_REGISTERED,
    topics::EVENT_CREATED,
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
    topics::SEATS_AVAILABILITY,
];

/// What differs between the tests' fleets.
struct Options {
    name: &'static str,
    payment_success_rate: &'static str,
    payment_delay_ms: u64,
    booking_timeout_ms: u64,
    seat_lock_ttl_ms: u64,
}

/// The fleet and what it runs on. Fields drop in order: processes first, then databases.
struct Stack {
    fleet: Fleet,
    gateway: String,
    http: Client,
    jwt_secret: Secret,
    admin_token: String,
    bookings_db: TestPgDatabase,
    inventory_db: TestPgDatabase,
    _events_db: TestMongoDatabase,
    payments_db: TestMongoDatabase,
}

fn random_secret() -> String {
    format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple())
}

async fn start(options: &Options) -> anyhow::Result<Stack> {
    let fleet = Fleet::new(options.name)?;
    eprintln!(
        "{}: service logs in {}",
        options.name,
        fleet.log_dir().display()
    );
    let prefix = private_topics(&SAGA_TOPICS).await?;
    let kafka = kafka_bootstrap()?;
    let redis = setting("REDIS_URL")?;
    let bookings_db = TestPgDatabase::create().await?;
    let inventory_db = TestPgDatabase::create().await?;
    let events_db = TestMongoDatabase::create().await?;
    let payments_db = TestMongoDatabase::create().await?;
    let jwt_secret = random_secret();
    let internal_secret = random_secret();
    let timeout = options.booking_timeout_ms.to_string();
    let ttl = options.seat_lock_ttl_ms.to_string();
    let delay = options.payment_delay_ms.to_string();
    let common: [(&str, &str); 5] = [
        ("KAFKA_BOOTSTRAP_SERVERS", &kafka),
        ("KAFKA_TOPIC_PREFIX", &prefix),
        ("INTERNAL_SECRET", &internal_secret),
        ("LOG_FORMAT", "json"),
        ("RUST_LOG", "warn"),
    ];
    let with = |extra: &[(&'static str, &str)]| -> Vec<(String, String)> {
        common
            .iter()
            .chain(extra)
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    let spec = |binary: &str, env: Vec<(String, String)>| -> anyhow::Result<ProcessSpec> {
        let mut spec = ProcessSpec::new(binary, &[])?;
        spec.env = env;
        Ok(spec)
    };

    let inventory = fleet
        .start(spec(
            INVENTORY,
            with(&[
                ("INVENTORY_DB_URL", inventory_db.url()),
                ("REDIS_URL", &redis),
                ("SEAT_LOCK_TTL_MS", &ttl),
                ("SEAT_SWEEP_INTERVAL_MS", "500"),
            ]),
        )?)
        .await?;
    let event = fleet
        .start(spec(
            EVENT,
            with(&[
                ("MONGODB_URL", events_db.url()),
                ("MONGODB_DB", events_db.name()),
            ]),
        )?)
        .await?;
    let payment = fleet
        .start(spec(
            PAYMENT,
            with(&[
                ("MONGODB_URL", payments_db.url()),
                ("MONGODB_DB", payments_db.name()),
                ("PAYMENT_SUCCESS_RATE", options.payment_success_rate),
                ("PAYMENT_DELAY_MS", &delay),
                ("OUTBOX_POLL_MS", "500"),
                ("OUTBOX_GRACE_MS", "2000"),
            ]),
        )?)
        .await?;
    let booking = fleet
        .start(spec(
            BOOKING,
            with(&[
                ("BOOKING_DB_URL", bookings_db.url()),
                ("BOOKING_DB_MAX_CONNECTIONS", "20"),
                ("EVENT_SERVICE_URL", &event),
                ("EVENT_LOOKUP_TIMEOUT_MS", "10000"),
                ("BOOKING_TIMEOUT_MS", &timeout),
                ("SEAT_LOCK_TTL_MS", &ttl),
                ("BOOKING_SWEEP_INTERVAL_MS", "500"),
            ]),
        )?)
        .await?;
    let nowhere = format!("http://{}", unreachable_addr()?);
    let gateway = fleet
        .start(
            spec(
                GATEWAY,
                with(&[
                    ("JWT_SECRET", &jwt_secret),
                    ("USER_SERVICE_URL", &nowhere),
                    ("NOTIFICATION_SERVICE_URL", &nowhere),
                    ("EVENT_SERVICE_URL", &event),
                    ("INVENTORY_SERVICE_URL", &inventory),
                    ("BOOKING_SERVICE_URL", &booking),
                    ("PAYMENT_SERVICE_URL", &payment),
                    ("RATE_LIMIT_MAX", "0"),
                    ("METRICS_PORT", "0"),
                    ("UPSTREAM_TIMEOUT_MS", "30000"),
                ]),
            )?
            .ready_path("/health"),
        )
        .await?;

    let jwt_secret = Secret::new(jwt_secret);
    let (admin_token, _) = ticketflow_common::jwt::issue(
        &jwt_secret,
        Uuid::new_v4(),
        "admin@example.com",
        Role::Admin,
        3_600_000,
    )?;
    let http = Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(600)
        .build()?;
    Ok(Stack {
        fleet,
        gateway,
        http,
        jwt_secret,
        admin_token,
        bookings_db,
        inventory_db,
        _events_db: events_db,
        payments_db,
    })
}

/// A client of the gateway: a user and their token.
#[derive(Clone)]
struct User {
    id: Uuid,
    token: String,
}

impl Stack {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.gateway)
    }

    fn user(&self) -> anyhow::Result<User> {
        let id = Uuid::new_v4();
        let (token, _) = ticketflow_common::jwt::issue(
            &self.jwt_secret,
            id,
            &format!("fan-{}@example.com", id.simple()),
            Role::User,
            3_600_000,
        )?;
        Ok(User { id, token })
    }

    /// `GET path` (with `token`) answered 200; transport errors and 5xx (a service being
    /// restarted) are retried for up to 30 s.
    async fn get(&self, path: &str, token: Option<&str>) -> anyhow::Result<Value> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let mut request = self.http.get(self.url(path));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let last = match request.send().await {
                Ok(response) if response.status() == StatusCode::OK => {
                    return Ok(response.json().await?)
                }
                Ok(response) if !response.status().is_server_error() => {
                    let status = response.status();
                    bail!("GET {path}: {status} {}", response.text().await?)
                }
                Ok(response) => format!("{}", response.status()),
                Err(err) => err.to_string(),
            };
            if Instant::now() >= deadline {
                bail!("GET {path} kept failing for 30 s; last: {last}");
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    async fn admin_post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        let response = self
            .http
            .post(self.url(path))
            .bearer_auth(&self.admin_token)
            .json(body)
            .send()
            .await?;
        let status = response.status();
        if status != StatusCode::CREATED {
            bail!("POST {path}: {status} {}", response.text().await?);
        }
        Ok(response.json().await?)
    }

    /// An event 30 days out with `seats` seats, created through the gateway as an admin, and
    /// its seat ids in layout order once inventory has built them from `event.created`.
    async fn new_event(&self, seats: u32) -> anyhow::Result<(Uuid, Vec<Uuid>)> {
        let venue = self
            .admin_post(
                "/api/venues",
                &json!({"name": format!("Hall {}", Uuid::new_v4().simple()),
                        "address": "1 Test Road", "city": "Pune", "country": "India",
                        "capacity": 10_000}),
            )
            .await?;
        let date = ticketflow_common::time::now() + chrono::Duration::days(40);
        let event = self
            .admin_post(
                "/api/events",
                &json!({"name": "Saga Live", "description": "e2e", "venue_id": venue["id"],
                        "date": ticketflow_common::time::rfc3339(&date), "price": 1499.0,
                        "total_seats": seats}),
            )
            .await?;
        let event_id = Uuid::parse_str(event["id"].as_str().unwrap_or_default())?;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let map = self.seat_map(event_id).await?;
            if map["total"] == seats {
                let ids = map["seats"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|s| Uuid::parse_str(s["id"].as_str()?).ok())
                    .collect();
                return Ok((event_id, ids));
            }
            if Instant::now() >= deadline {
                bail!("inventory did not build the {seats} seats of event {event_id} within 60 s");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn seat_map(&self, event_id: Uuid) -> anyhow::Result<Value> {
        self.get(&format!("/api/inventory/events/{event_id}/seats"), None)
            .await
    }

    /// Seat id → status, from the public seat map.
    async fn seat_statuses(&self, event_id: Uuid) -> anyhow::Result<HashMap<Uuid, String>> {
        let map = self.seat_map(event_id).await?;
        Ok(map["seats"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| {
                Some((
                    Uuid::parse_str(s["id"].as_str()?).ok()?,
                    s["status"].as_str()?.to_owned(),
                ))
            })
            .collect())
    }

    /// `POST /api/bookings` until it is accepted (`202`): a transport error or 5xx (booking-
    /// service restarting) is retried with the same `Idempotency-Key`, so a retry of a create
    /// that did land returns that booking. Any 4xx fails.
    async fn create_booking(
        &self,
        user: &User,
        event_id: Uuid,
        seats: &[Uuid],
        give_up: Duration,
    ) -> anyhow::Result<Value> {
        let key = Uuid::new_v4().to_string();
        let deadline = Instant::now() + give_up;
        loop {
            let sent = self
                .http
                .post(self.url("/api/bookings"))
                .bearer_auth(&user.token)
                .header("Idempotency-Key", &key)
                .json(&json!({"eventId": event_id, "seatIds": seats}))
                .send()
                .await;
            let last = match sent {
                Ok(response) if response.status() == StatusCode::ACCEPTED => {
                    return Ok(response.json().await?)
                }
                Ok(response) if !response.status().is_server_error() => {
                    let status = response.status();
                    bail!("POST /api/bookings: {status} {}", response.text().await?)
                }
                Ok(response) => format!("{} {}", response.status(), response.text().await?),
                Err(err) => err.to_string(),
            };
            if Instant::now() >= deadline {
                bail!("POST /api/bookings not accepted within {give_up:?}; last: {last}");
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    /// Polls the booking (as its owner) until it is no longer `PENDING`; fails naming the
    /// booking and its step if it is still pending at `deadline`.
    async fn until_settled(
        &self,
        user: &User,
        booking_id: &str,
        deadline: Instant,
    ) -> anyhow::Result<Value> {
        let mut pause = Duration::from_millis(200);
        loop {
            let sent = self
                .http
                .get(self.url(&format!("/api/bookings/{booking_id}")))
                .bearer_auth(&user.token)
                .send()
                .await;
            let last = match sent {
                Ok(response) if response.status() == StatusCode::OK => {
                    let booking: Value = response.json().await?;
                    if booking["status"] != "PENDING" {
                        return Ok(booking);
                    }
                    format!("PENDING, step {}", booking["step"])
                }
                Ok(response) if !response.status().is_server_error() => {
                    let status = response.status();
                    bail!(
                        "GET booking {booking_id}: {status} {}",
                        response.text().await?
                    )
                }
                Ok(response) => format!("{}", response.status()),
                Err(err) => err.to_string(),
            };
            if Instant::now() >= deadline {
                bail!("booking {booking_id} is stuck: still not settled at the deadline ({last})");
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 3 / 2).min(Duration::from_secs(2));
        }
    }

    /// `seat_holds` of the inventory database: seat → (booking, status).
    async fn seat_holds(&self) -> anyhow::Result<HashMap<Uuid, (Uuid, String)>> {
        let pool = self.inventory_db.pool().await?;
        let rows: Vec<(Uuid, Uuid, String)> =
            sqlx::query_as("SELECT seat_id, booking_id, status FROM seat_holds")
                .fetch_all(&pool)
                .await?;
        pool.close().await;
        Ok(rows
            .into_iter()
            .map(|(seat, booking, status)| (seat, (booking, status)))
            .collect())
    }

    /// The `payments` collection: `(booking_id, status, _id)` of every document.
    async fn payments(&self) -> anyhow::Result<Vec<(String, String, String)>> {
        let docs: Vec<Document> = self
            .payments_db
            .database()
            .collection::<Document>("payments")
            .find(mongodb::bson::doc! {})
            .await?
            .try_collect()
            .await?;
        Ok(docs
            .iter()
            .map(|d| {
                (
                    d.get_str("booking_id").unwrap_or_default().to_owned(),
                    d.get_str("status").unwrap_or_default().to_owned(),
                    d.get_str("_id").unwrap_or_default().to_owned(),
                )
            })
            .collect())
    }

    /// Adds where the services' logs are to a failure.
    fn explain<T>(&self, result: anyhow::Result<T>) -> anyhow::Result<T> {
        result.with_context(|| format!("service logs in {}", self.fleet.log_dir().display()))
    }
}

/// A settled booking as the checks need it.
#[derive(Debug, Clone)]
struct Settled {
    id: Uuid,
    status: String,
    reason: Option<String>,
    seats: Vec<Uuid>,
    payment_id: Option<String>,
    /// `confirmedAt - createdAt` (server clocks) for a confirmed booking.
    to_confirmed: Option<Duration>,
}

impl Settled {
    fn from(view: &Value) -> anyhow::Result<Self> {
        let time = |field: &str| {
            view[field]
                .as_str()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        };
        let to_confirmed = match (time("createdAt"), time("confirmedAt")) {
            (Some(created), Some(confirmed)) => (confirmed - created).to_std().ok(),
            _ => None,
        };
        Ok(Self {
            id: Uuid::parse_str(view["id"].as_str().unwrap_or_default())
                .with_context(|| format!("booking without an id: {view}"))?,
            status: view["status"].as_str().unwrap_or_default().to_owned(),
            reason: view["failureReason"].as_str().map(str::to_owned),
            seats: view["seatIds"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| Uuid::parse_str(s.as_str()?).ok())
                .collect(),
            payment_id: view["paymentId"].as_str().map(str::to_owned),
            to_confirmed,
        })
    }
}

/// What is wrong right now with seats and payments given the settled bookings (empty: all
/// invariants hold). Some effects follow a booking's end asynchronously (seats reserved or
/// released, a charge refunded), so callers poll this until it is empty.
async fn problems(
    stack: &Stack,
    event_id: Uuid,
    bookings: &[Settled],
) -> anyhow::Result<Vec<String>> {
    let mut found = Vec::new();
    let by_id: HashMap<Uuid, &Settled> = bookings.iter().map(|b| (b.id, b)).collect();
    for booking in bookings {
        if !matches!(booking.status.as_str(), "CONFIRMED" | "FAILED") {
            found.push(format!("booking {} ended {}", booking.id, booking.status));
        }
    }
    // No seat in two confirmed bookings.
    let mut sold: HashMap<Uuid, Uuid> = HashMap::new();
    for booking in bookings.iter().filter(|b| b.status == "CONFIRMED") {
        for seat in &booking.seats {
            if let Some(other) = sold.insert(*seat, booking.id) {
                found.push(format!(
                    "seat {seat} is in two confirmed bookings: {other} and {}",
                    booking.id
                ));
            }
        }
    }
    // The inventory database: every hold is a reservation of the confirmed booking that has
    // the seat; every confirmed booking's seats are held.
    let holds = stack.seat_holds().await?;
    for (seat, (holder, status)) in &holds {
        match by_id.get(holder) {
            Some(b) if b.status == "CONFIRMED" && status == "RESERVED" => {}
            Some(b) => found.push(format!(
                "seat {seat} is {status} for booking {holder}, which is {}",
                b.status
            )),
            None => found.push(format!(
                "seat {seat} is {status} for {holder}, not a booking of this test"
            )),
        }
    }
    for (seat, booking) in &sold {
        match holds.get(seat) {
            Some((holder, status)) if holder == booking && status == "RESERVED" => {}
            other => found.push(format!(
                "seat {seat} of confirmed booking {booking} is held as {other:?} in seat_holds"
            )),
        }
    }
    // The public seat map says the same.
    let statuses = stack.seat_statuses(event_id).await?;
    for (seat, status) in &statuses {
        let expected = if sold.contains_key(seat) {
            "RESERVED"
        } else {
            "AVAILABLE"
        };
        if status != expected {
            found.push(format!(
                "the seat map shows seat {seat} {status}, expected {expected}"
            ));
        }
    }
    // Payments: one document per booking at most; a charge that stands (SUCCESS) only for a
    // confirmed booking, and a confirmed booking's is the one it names.
    let mut per_booking: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for (booking_id, status, id) in stack.payments().await? {
        per_booking
            .entry(booking_id)
            .or_default()
            .push((status, id));
    }
    for (booking_id, docs) in &per_booking {
        if docs.len() > 1 {
            found.push(format!(
                "booking {booking_id} has {} payments: {docs:?}",
                docs.len()
            ));
        }
        let booking = Uuid::parse_str(booking_id)
            .ok()
            .and_then(|id| by_id.get(&id).copied());
        for (status, id) in docs {
            match (status.as_str(), booking.map(|b| b.status.as_str())) {
                ("SUCCESS", Some("CONFIRMED")) | ("REFUNDED" | "FAILED", Some(_)) => {}
                (status, state) => found.push(format!(
                    "payment {id} of booking {booking_id} is {status} but the booking is {state:?}"
                )),
            }
        }
    }
    for booking in bookings.iter().filter(|b| b.status == "CONFIRMED") {
        let docs = per_booking
            .get(&booking.id.to_string())
            .cloned()
            .unwrap_or_default();
        let charged = docs.iter().any(|(status, id)| {
            status == "SUCCESS" && booking.payment_id.as_deref() == Some(id.as_str())
        });
        if !charged {
            found.push(format!(
                "confirmed booking {} (paymentId {:?}) has payments {docs:?}",
                booking.id, booking.payment_id
            ));
        }
    }
    Ok(found)
}

/// Polls [`problems`] until there are none; fails with what is still wrong after `timeout`.
async fn until_consistent(
    stack: &Stack,
    event_id: Uuid,
    bookings: &[Settled],
    timeout: Duration,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        let found = problems(stack, event_id, bookings).await?;
        if found.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            let shown: Vec<&String> = found.iter().take(20).collect();
            bail!(
                "{} invariant violations still there after {timeout:?}:\n{shown:#?}",
                found.len()
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[allow(clippy::print_stdout)]
fn report(test: &str, bookings: &[Settled], elapsed: Duration) {
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    for b in bookings {
        let key = match &b.reason {
            Some(reason) => format!("{} {reason}", b.status),
            None => b.status.clone(),
        };
        *outcomes.entry(key).or_default() += 1;
    }
    let mut latencies: Vec<Duration> = bookings.iter().filter_map(|b| b.to_confirmed).collect();
    latencies.sort();
    println!(
        "{test}: {} bookings settled in {:.1} s ({:.1} bookings/s); outcomes {outcomes:?}; \
         accepted→CONFIRMED p50 {:?} p99 {:?} (n={})",
        bookings.len(),
        elapsed.as_secs_f64(),
        bookings.len() as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
        latencies.len()
    );
}

/// `ticketflow-audit` over the fleet's stores, strict (as if its grace had passed: the
/// callers run it once their own checks found the saga settled): no violation.
async fn audit(stack: &Stack) -> anyhow::Result<()> {
    let stores = ticketflow_audit::Stores::connect(
        stack.bookings_db.url(),
        stack.inventory_db.url(),
        stack.payments_db.url(),
        stack.payments_db.name(),
    )
    .await?;
    let violations =
        ticketflow_audit::audit(&stores, chrono::Utc::now() + ticketflow_audit::GRACE).await?;
    let shown: Vec<String> = violations
        .iter()
        .take(20)
        .map(ToString::to_string)
        .collect();
    if !violations.is_empty() {
        bail!(
            "ticketflow-audit: {} violations:\n{}",
            violations.len(),
            shown.join("\n")
        );
    }
    Ok(())
}

/// 500 clients, each a different user, race for overlapping pairs of the same 10 seats.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saga_race_500_clients_for_10_seats_sells_each_seat_once() -> anyhow::Result<()> {
    let _serial = SERIAL.lock().await;
    let stack = Arc::new(
        start(&Options {
            name: "race",
            payment_success_rate: "1",
            payment_delay_ms: 0,
            booking_timeout_ms: 90_000,
            seat_lock_ttl_ms: 300_000,
        })
        .await?,
    );
    let result = race(&stack).await;
    stack.explain(result)
}

async fn race(stack: &Arc<Stack>) -> anyhow::Result<()> {
    const CLIENTS: usize = 500;
    let (event_id, seats) = stack.new_event(10).await?;
    let users: Vec<User> = (0..CLIENTS)
        .map(|_| stack.user())
        .collect::<anyhow::Result<_>>()?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(100);
    let mut tasks = Vec::with_capacity(CLIENTS);
    for user in users {
        let pair: Vec<Uuid> = seats
            .choose_multiple(&mut rand::thread_rng(), 2)
            .copied()
            .collect();
        let stack = Arc::clone(stack);
        tasks.push(tokio::spawn(async move {
            let created = stack
                .create_booking(&user, event_id, &pair, Duration::from_secs(60))
                .await?;
            let id = created["bookingId"].as_str().unwrap_or_default().to_owned();
            stack.until_settled(&user, &id, deadline).await
        }));
    }
    let mut settled = Vec::with_capacity(CLIENTS);
    let mut errors = Vec::new();
    for task in tasks {
        match task.await? {
            Ok(view) => settled.push(Settled::from(&view)?),
            Err(err) => errors.push(format!("{err:#}")),
        }
    }
    let elapsed = started.elapsed();
    if !errors.is_empty() {
        bail!(
            "{} of {CLIENTS} clients failed: {:#?}",
            errors.len(),
            &errors[..errors.len().min(10)]
        );
    }
    report("race", &settled, elapsed);
    let confirmed = settled.iter().filter(|b| b.status == "CONFIRMED").count();
    assert!(confirmed >= 1, "no booking of the 500 was confirmed");
    assert!(
        confirmed <= 5,
        "{confirmed} bookings of two seats each out of 10"
    );
    until_consistent(stack, event_id, &settled, Duration::from_secs(60)).await?;
    audit(stack).await
}

/// 300 bookings in flight while booking-, inventory- and payment-service are killed -9 and
/// restarted at random moments.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saga_crashes_kill_9_of_booking_inventory_payment_lose_and_double_nothing(
) -> anyhow::Result<()> {
    let _serial = SERIAL.lock().await;
    let stack = Arc::new(
        start(&Options {
            name: "crashes",
            payment_success_rate: "0.9",
            payment_delay_ms: 20,
            booking_timeout_ms: 8_000,
            seat_lock_ttl_ms: 60_000,
        })
        .await?,
    );
    let result = crashes(&stack).await;
    stack.explain(result)
}

#[allow(clippy::print_stdout)]
async fn crashes(stack: &Arc<Stack>) -> anyhow::Result<()> {
    const BOOKINGS: usize = 300;
    let (event_id, seats) = stack.new_event(2 * BOOKINGS as u32).await?;
    let started = Instant::now();
    // Clients keep trying to create for a minute (booking-service may be down) and wait for
    // the end of their booking for up to three minutes from the start.
    let deadline = started + Duration::from_secs(180);
    let mut tasks = Vec::with_capacity(BOOKINGS);
    for (i, pair) in seats.chunks(2).take(BOOKINGS).enumerate() {
        let pair = pair.to_vec();
        let user = stack.user()?;
        let stack = Arc::clone(stack);
        tasks.push(tokio::spawn(async move {
            // Spread over ~12 s, so crashes land among bookings at every step.
            tokio::time::sleep(Duration::from_millis(40 * i as u64)).await;
            let created = stack
                .create_booking(&user, event_id, &pair, Duration::from_secs(60))
                .await?;
            let id = created["bookingId"].as_str().unwrap_or_default().to_owned();
            stack.until_settled(&user, &id, deadline).await
        }));
    }
    // Chaos: each of the three is killed at least once, then two more at random.
    let chaos = {
        let stack = Arc::clone(stack);
        tokio::spawn(async move {
            let mut victims = vec![BOOKING, INVENTORY, PAYMENT];
            victims.shuffle(&mut rand::thread_rng());
            for _ in 0..2 {
                let extra = *[BOOKING, INVENTORY, PAYMENT]
                    .choose(&mut rand::thread_rng())
                    .unwrap_or(&BOOKING);
                victims.push(extra);
            }
            let mut log = Vec::new();
            for victim in victims {
                let (wait, down) = {
                    let mut rng = rand::thread_rng();
                    (rng.gen_range(1_000..3_500), rng.gen_range(0..1_500))
                };
                tokio::time::sleep(Duration::from_millis(wait)).await;
                stack.fleet.kill(victim)?;
                let at = started.elapsed();
                tokio::time::sleep(Duration::from_millis(down)).await;
                stack.fleet.restart(victim).await?;
                log.push(format!(
                    "{victim} killed at {:.1} s, ready again at {:.1} s",
                    at.as_secs_f64(),
                    started.elapsed().as_secs_f64()
                ));
            }
            anyhow::Ok(log)
        })
    };
    let chaos_log = chaos.await??;
    println!("crashes: {}", chaos_log.join("; "));
    let mut settled = Vec::with_capacity(BOOKINGS);
    let mut errors = Vec::new();
    for task in tasks {
        match task.await? {
            Ok(view) => settled.push(Settled::from(&view)?),
            Err(err) => errors.push(format!("{err:#}")),
        }
    }
    let elapsed = started.elapsed();
    if !errors.is_empty() {
        bail!(
            "{} of {BOOKINGS} bookings did not settle: {:#?}",
            errors.len(),
            &errors[..errors.len().min(10)]
        );
    }
    report("crashes", &settled, elapsed);
    let distinct: HashSet<Uuid> = settled.iter().map(|b| b.id).collect();
    assert_eq!(
        distinct.len(),
        BOOKINGS,
        "a retried create made a second booking"
    );
    until_consistent(stack, event_id, &settled, Duration::from_secs(90)).await?;
    audit(stack).await
}

/// One booking of two seats by a new user, settled.
async fn book_two(stack: &Stack) -> anyhow::Result<(User, Uuid, Vec<Uuid>, Value)> {
    let (event_id, seats) = stack.new_event(20).await?;
    let user = stack.user()?;
    let wanted = seats[3..5].to_vec();
    let created = stack
        .create_booking(&user, event_id, &wanted, Duration::from_secs(30))
        .await?;
    let id = created["bookingId"]
        .as_str()
        .ok_or_else(|| anyhow!("no bookingId in {created}"))?
        .to_owned();
    let booking = stack
        .until_settled(&user, &id, Instant::now() + Duration::from_secs(60))
        .await?;
    Ok((user, event_id, wanted, booking))
}

/// Polls the seat map until every one of `seats` has `status`.
async fn until_seats(
    stack: &Stack,
    event_id: Uuid,
    seats: &[Uuid],
    status: &str,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let statuses = stack.seat_statuses(event_id).await?;
        let off: Vec<_> = seats
            .iter()
            .filter(|s| statuses.get(s).map(String::as_str) != Some(status))
            .map(|s| (s, statuses.get(s)))
            .collect();
        if off.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!("seats not {status} in the seat map after 30 s: {off:?}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Polls the booking's payment (as its owner, through the gateway) until it has `status`.
async fn until_payment(
    stack: &Stack,
    user: &User,
    booking_id: &str,
    status: &str,
) -> anyhow::Result<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let path = format!("/api/payments/booking/{booking_id}");
    loop {
        let last = match stack.get(&path, Some(&user.token)).await {
            Ok(payment) if payment["status"] == status => return Ok(payment),
            Ok(payment) => payment.to_string(),
            Err(err) => format!("{err:#}"),
        };
        if Instant::now() >= deadline {
            bail!("the payment of booking {booking_id} is not {status} after 30 s: {last}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payment_failure_fails_the_booking_and_frees_its_seats() -> anyhow::Result<()> {
    let _serial = SERIAL.lock().await;
    let stack = start(&Options {
        name: "payment-failure",
        payment_success_rate: "0",
        payment_delay_ms: 0,
        booking_timeout_ms: 60_000,
        seat_lock_ttl_ms: 300_000,
    })
    .await?;
    let result = async {
        let (user, event_id, seats, booking) = book_two(&stack).await?;
        assert_eq!(booking["status"], "FAILED", "{booking}");
        assert_eq!(booking["failureReason"], "PAYMENT_FAILED", "{booking}");
        until_seats(&stack, event_id, &seats, "AVAILABLE").await?;
        let id = booking["id"].as_str().unwrap_or_default();
        let payment = until_payment(&stack, &user, id, "FAILED").await?;
        assert_eq!(payment["userId"], user.id.to_string());
        let map = stack.seat_map(event_id).await?;
        assert_eq!(map["summary"]["available"], 20, "{}", map["summary"]);
        audit(&stack).await
    }
    .await;
    stack.explain(result)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_of_a_confirmed_booking_frees_its_seats_and_refunds() -> anyhow::Result<()> {
    let _serial = SERIAL.lock().await;
    let stack = start(&Options {
        name: "cancel",
        payment_success_rate: "1",
        payment_delay_ms: 0,
        booking_timeout_ms: 60_000,
        seat_lock_ttl_ms: 300_000,
    })
    .await?;
    let result = async {
        let (user, event_id, seats, booking) = book_two(&stack).await?;
        assert_eq!(booking["status"], "CONFIRMED", "{booking}");
        let id = booking["id"].as_str().unwrap_or_default().to_owned();
        until_seats(&stack, event_id, &seats, "RESERVED").await?;
        let paid = until_payment(&stack, &user, &id, "SUCCESS").await?;
        assert_eq!(booking["paymentId"], paid["id"]);

        let response = stack
            .http
            .post(stack.url(&format!("/api/bookings/{id}/cancel")))
            .bearer_auth(&user.token)
            .send()
            .await?;
        let status = response.status();
        let cancelled: Value = response.json().await?;
        assert_eq!(status, StatusCode::OK, "{cancelled}");
        assert_eq!(cancelled["status"], "CANCELLED", "{cancelled}");
        let again = stack
            .get(&format!("/api/bookings/{id}"), Some(&user.token))
            .await?;
        assert_eq!(again["status"], "CANCELLED");

        until_seats(&stack, event_id, &seats, "AVAILABLE").await?;
        let refunded = until_payment(&stack, &user, &id, "REFUNDED").await?;
        assert_eq!(refunded["id"], paid["id"]);
        assert!(refunded["refundedAt"].is_string(), "{refunded}");
        audit(&stack).await
    }
    .await;
    stack.explain(result)
}
