//! The booking saga's stack with every service a real OS process, shared by the saga tests
//! (`tests/saga.rs`) and the saga benchmark (`benches/saga.rs`): [`start`] runs gateway,
//! event-, inventory-, booking- and payment-service as a [`Fleet`] (the binaries next to the
//! test or bench executable: `target/debug` for `cargo test`, `target/release` for `cargo
//! bench`; build them first with `cargo build [--release] --bins`) on the native stack, with
//! their own databases, Kafka topic prefix and random secrets. Users are JWTs minted with the
//! fleet's `JWT_SECRET` (no user-service: hundreds of registrations would be argon2 time).
//!
//! [`Stack`] is the client side: events, bookings and the stores as clients and the checks
//! see them; [`audit`] runs `ticketflow-audit` over the stack's stores.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use futures::TryStreamExt;
use mongodb::bson::Document;
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

pub const GATEWAY: &str = "gateway";
pub const EVENT: &str = "event-service";
pub const INVENTORY: &str = "inventory-service";
pub const BOOKING: &str = "booking-service";
pub const PAYMENT: &str = "payment-service";

/// Every topic the saga's services produce or consume.
pub const SAGA_TOPICS: [&str; 13] = [
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
pub struct Options {
    pub name: &'static str,
    pub payment_success_rate: &'static str,
    pub payment_delay_ms: u64,
    pub booking_timeout_ms: u64,
    pub seat_lock_ttl_ms: u64,
}

/// The fleet and what it runs on. Fields drop in order: processes first, then databases.
pub struct Stack {
    pub fleet: Fleet,
    pub gateway: String,
    pub http: Client,
    jwt_secret: Secret,
    admin_token: String,
    pub bookings_db: TestPgDatabase,
    pub inventory_db: TestPgDatabase,
    _events_db: TestMongoDatabase,
    pub payments_db: TestMongoDatabase,
}

pub fn random_secret() -> String {
    format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple())
}

pub async fn start(options: &Options) -> anyhow::Result<Stack> {
    start_with(options, &[]).await
}

/// [`start`], with `extra_env` given to every process (e.g. `OTEL_EXPORTER_OTLP_ENDPOINT`).
pub async fn start_with(options: &Options, extra_env: &[(&str, &str)]) -> anyhow::Result<Stack> {
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
    let mut common: Vec<(&str, &str)> = vec![
        ("KAFKA_BOOTSTRAP_SERVERS", &kafka),
        ("KAFKA_TOPIC_PREFIX", &prefix),
        ("INTERNAL_SECRET", &internal_secret),
        ("LOG_FORMAT", "json"),
        ("RUST_LOG", "warn"),
    ];
    common.extend_from_slice(extra_env);
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
pub struct User {
    pub id: Uuid,
    pub token: String,
}

impl Stack {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.gateway)
    }

    pub fn user(&self) -> anyhow::Result<User> {
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
    pub async fn get(&self, path: &str, token: Option<&str>) -> anyhow::Result<Value> {
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

    pub async fn admin_post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
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
    pub async fn new_event(&self, seats: u32) -> anyhow::Result<(Uuid, Vec<Uuid>)> {
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

    pub async fn seat_map(&self, event_id: Uuid) -> anyhow::Result<Value> {
        self.get(&format!("/api/inventory/events/{event_id}/seats"), None)
            .await
    }

    /// Seat id → status, from the public seat map.
    pub async fn seat_statuses(&self, event_id: Uuid) -> anyhow::Result<HashMap<Uuid, String>> {
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
    pub async fn create_booking(
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
    pub async fn until_settled(
        &self,
        user: &User,
        booking_id: &str,
        deadline: Instant,
    ) -> anyhow::Result<Value> {
        self.until_settled_polling(
            user,
            booking_id,
            deadline,
            Duration::from_millis(200),
            Duration::from_secs(2),
        )
        .await
    }

    /// [`until_settled`](Self::until_settled) polling first after `first` and then half as
    /// long again each time, up to `longest` (`first == longest`: a fixed period, as the
    /// benchmark's latency measurement wants).
    pub async fn until_settled_polling(
        &self,
        user: &User,
        booking_id: &str,
        deadline: Instant,
        first: Duration,
        longest: Duration,
    ) -> anyhow::Result<Value> {
        let mut pause = first;
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
            pause = (pause * 3 / 2).min(longest);
        }
    }

    /// `seat_holds` of the inventory database: seat → (booking, status).
    pub async fn seat_holds(&self) -> anyhow::Result<HashMap<Uuid, (Uuid, String)>> {
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
    pub async fn payments(&self) -> anyhow::Result<Vec<(String, String, String)>> {
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
    pub fn explain<T>(&self, result: anyhow::Result<T>) -> anyhow::Result<T> {
        result.with_context(|| format!("service logs in {}", self.fleet.log_dir().display()))
    }
}

/// A settled booking as the checks need it.
#[derive(Debug, Clone)]
pub struct Settled {
    pub id: Uuid,
    pub status: String,
    pub reason: Option<String>,
    pub seats: Vec<Uuid>,
    pub payment_id: Option<String>,
    /// `confirmedAt - createdAt` (server clocks) for a confirmed booking.
    pub to_confirmed: Option<Duration>,
}

impl Settled {
    pub fn from(view: &Value) -> anyhow::Result<Self> {
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

/// The `p`th percentile (nearest rank) of `sorted`; zero for none.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// `ticketflow-audit` over the stack's stores, strict (as if its grace had passed: callers
/// run it once the saga has settled): every violation found.
pub async fn audit(stack: &Stack) -> anyhow::Result<Vec<ticketflow_audit::Violation>> {
    let stores = ticketflow_audit::Stores::connect(
        stack.bookings_db.url(),
        stack.inventory_db.url(),
        stack.payments_db.url(),
        stack.payments_db.name(),
    )
    .await?;
    ticketflow_audit::audit(&stores, chrono::Utc::now() + ticketflow_audit::GRACE).await
}

/// What the benchmarks read of `/proc`: memory and CPU time of the fleet's processes and of
/// the stack's.
pub mod procfs {
    use std::collections::BTreeMap;

    /// Stack processes reported next to the services (by `/proc/<pid>/comm` prefix).
    pub const STACK: [&str; 4] = ["ferretdb", "postgres", "redis-server", "java"];

    /// `VmRSS` of a process in KiB.
    pub fn rss_kib(pid: u32) -> Option<u64> {
        status_kib(pid, "VmRSS")
    }

    /// A `kB` field of `/proc/<pid>/status` (`VmRSS`, `RssAnon`: the heap and stacks,
    /// `RssFile`: pages of the executable and libraries, shared with other processes).
    pub fn status_kib(pid: u32, field: &str) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    }

    /// utime + stime of a process, in clock ticks.
    pub fn cpu_ticks(pid: u32) -> Option<u64> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // The fields after the command name (which may hold spaces), in parentheses; utime
        // and stime are the 14th and 15th of the line, the 12th and 13th after the name.
        let rest = stat.get(stat.rfind(')')? + 2..)?;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
    }

    pub fn ticks_per_second() -> f64 {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(100.0)
    }

    /// CPU ticks so far of each named process (`name → pid`) and of each [`STACK`]
    /// component (summed over its processes).
    pub fn cpu(processes: &[(&str, Option<u32>)]) -> BTreeMap<String, u64> {
        let mut ticks = BTreeMap::new();
        for (name, pid) in processes {
            if let Some(used) = pid.and_then(cpu_ticks) {
                ticks.insert((*name).to_owned(), used);
            }
        }
        if let Ok(dir) = std::fs::read_dir("/proc") {
            for entry in dir.flatten() {
                let Some(pid) = entry
                    .file_name()
                    .to_str()
                    .and_then(|n| n.parse::<u32>().ok())
                else {
                    continue;
                };
                let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
                if let Some(component) = STACK.iter().find(|c| comm.trim().starts_with(*c)) {
                    *ticks.entry((*component).to_owned()).or_default() +=
                        cpu_ticks(pid).unwrap_or(0);
                }
            }
        }
        ticks
    }

    /// Milliseconds of CPU per unit of work between two [`cpu`] snapshots, per process.
    pub fn per_unit_ms(
        before: &BTreeMap<String, u64>,
        after: &BTreeMap<String, u64>,
        units: f64,
    ) -> BTreeMap<String, f64> {
        let tick_ms = 1000.0 / ticks_per_second();
        after
            .iter()
            .filter_map(|(name, ticks)| {
                let used = ticks.saturating_sub(before.get(name).copied().unwrap_or(0));
                (used > 0).then(|| {
                    let ms = used as f64 * tick_ms / units.max(1.0);
                    (name.clone(), (ms * 1000.0).round() / 1000.0)
                })
            })
            .collect()
    }
}
