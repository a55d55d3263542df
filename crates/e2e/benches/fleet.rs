//! Fleet benchmark (`make bench` runs it before the saga benchmark): all seven services as
//! release processes on free ports (their own databases and Kafka topic prefix, so a dev fleet
//! on 3000–3006 is left alone) against the native stack, and what an operator or a buyer sees:
//!
//! - start → ready of each service: process spawned until `/health/ready` (the gateway's
//!   `/health`) answers 200 — first on its fresh database (migrations, indexes), then a restart;
//! - idle RSS of each (`VmRSS` of `/proc/<pid>/status`, after the restarts, before any load)
//!   and the total;
//! - `GET /api/events?limit=10` direct to event-service and through the gateway in the same
//!   run (→ the gateway's overhead), `GET /api/inventory/events/:id/seats` and
//!   `POST /api/users/login` through the gateway, each with `wrk` (`benches/wrk.lua`);
//!   for each, the CPU the processes used per request (`/proc/<pid>/stat`), the stack's too;
//! - RSS of each service after the load.
//!
//! Knobs (environment): `BENCH_HTTP_SECONDS` (10 per measured run, after 2 s of warm-up),
//! `BENCH_CONNECTIONS` (64), `BENCH_LOGIN_CONNECTIONS` (8), `BENCH_SEATS` (500: the seat map
//! read), `BENCH_REPORT` (a file the figures are written to as JSON, for `scripts/bench.sh`).

// A benchmark's job is to print its numbers.
#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use ticketflow_common::auth::Role;
use ticketflow_common::config::Secret;
use ticketflow_e2e::procfs;
use ticketflow_testkit::{
    kafka_bootstrap, private_topics, setting, Fleet, ProcessSpec, TestMongoDatabase, TestPgDatabase,
};
use uuid::Uuid;

/// In the order they start (the gateway last: it is told where the others are).
const SERVICES: [&str; 7] = [
    "user-service",
    "event-service",
    "inventory-service",
    "booking-service",
    "payment-service",
    "notification-service",
    "gateway",
];

const PASSWORD: &str = "bench-password-1";

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(bench())
}

fn knob<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T>
where
    T::Err: std::fmt::Display,
{
    match std::env::var(name) {
        Ok(value) => value
            .trim()
            .parse()
            .map_err(|err| anyhow!("{name}={value:?}: {err}")),
        Err(_) => Ok(default),
    }
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".to_owned())
}

fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    procfs::rss_kib(pid).ok_or_else(|| anyhow!("no VmRSS in /proc/{pid}/status"))
}

struct Bench {
    fleet: Fleet,
    urls: BTreeMap<&'static str, String>,
    http: Client,
    admin_token: String,
    report: serde_json::Map<String, Value>,
    // Dropped after the fleet (fields drop in order).
    _databases: (Vec<TestPgDatabase>, Vec<TestMongoDatabase>),
}

impl Bench {
    fn pid(&self, name: &str) -> anyhow::Result<u32> {
        self.fleet
            .pid(name)?
            .ok_or_else(|| anyhow!("{name} is not running"))
    }

    /// CPU ticks so far of each fleet process and of each stack component.
    fn cpu(&self) -> BTreeMap<String, u64> {
        let processes: Vec<(&str, Option<u32>)> = SERVICES
            .iter()
            .map(|name| (*name, self.fleet.pid(name).ok().flatten()))
            .collect();
        procfs::cpu(&processes)
    }

    fn rss_all(&self) -> anyhow::Result<BTreeMap<&'static str, u64>> {
        SERVICES
            .iter()
            .map(|name| Ok((*name, rss_kib(self.pid(name)?)?)))
            .collect()
    }

    /// One wrk run: 2 s of warm-up, then `seconds` measured. Returns the figures as JSON
    /// (req/s, latencies in ms, errors, CPU ms per request of each busy process).
    async fn wrk(
        &self,
        title: &str,
        url: &str,
        body: Option<&Value>,
        connections: u32,
        seconds: u64,
    ) -> anyhow::Result<Value> {
        // One request first: a route that fails would otherwise be measured as fast errors.
        let probe = match body {
            Some(body) => self.http.post(url).json(body),
            None => self.http.get(url),
        };
        let clock = Instant::now();
        let response = probe
            .send()
            .await
            .with_context(|| format!("probing {url}"))?;
        let status = response.status();
        let text = response.text().await?;
        if !status.is_success() {
            bail!("{url}: {status} {text}");
        }
        println!(
            "  ({title}: one request {:.1} ms, {} bytes)",
            clock.elapsed().as_secs_f64() * 1000.0,
            text.len()
        );
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/wrk.lua");
        let body = body.map(Value::to_string).unwrap_or_default();
        let run = |secs: u64| -> anyhow::Result<Value> {
            let out = Command::new("wrk")
                .args([
                    "-t2",
                    &format!("-c{connections}"),
                    &format!("-d{secs}s"),
                    "--timeout",
                    "10s",
                    "-s",
                ])
                .arg(&script)
                .arg(url)
                .env("WRK_BODY", &body)
                .output()
                .context("running wrk (Debian package `wrk`: make deps installs it)")?;
            let stdout = String::from_utf8_lossy(&out.stdout);
            if !out.status.success() {
                bail!(
                    "wrk {url} failed: {stdout}{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            let line = stdout
                .lines()
                .find_map(|l| l.strip_prefix("WRK_JSON "))
                .ok_or_else(|| anyhow!("wrk printed no figures: {stdout}"))?;
            Ok(serde_json::from_str(line)?)
        };
        run(2)?;
        let before = self.cpu();
        let raw = run(seconds)?;
        let after = self.cpu();
        let n = |field: &str| raw[field].as_f64().unwrap_or(0.0);
        let requests = n("requests");
        let secs = n("duration_us") / 1e6;
        let errors = n("connect") + n("read") + n("write") + n("status") + n("timeout");
        let cpu: serde_json::Map<String, Value> = procfs::per_unit_ms(&before, &after, requests)
            .into_iter()
            .map(|(name, ms)| (name, json!(ms)))
            .collect();
        let figures = json!({
            "title": title,
            "url": url,
            "connections": connections,
            "seconds": round(secs, 1),
            "requests": requests,
            "rps": round(requests / secs.max(f64::EPSILON), 0),
            "p50_ms": round(n("p50_us") / 1000.0, 2),
            "p90_ms": round(n("p90_us") / 1000.0, 2),
            "p99_ms": round(n("p99_us") / 1000.0, 2),
            "max_ms": round(n("max_us") / 1000.0, 2),
            "errors": errors,
            "cpu_ms_per_request": cpu,
        });
        println!(
            "  {title:<44} {:>8.0} req/s  p50 {:>6.2} ms  p99 {:>7.2} ms  errors {}  ({} conns, {:.0} s)",
            figures["rps"].as_f64().unwrap_or(0.0),
            figures["p50_ms"].as_f64().unwrap_or(0.0),
            figures["p99_ms"].as_f64().unwrap_or(0.0),
            errors,
            connections,
            secs
        );
        println!("  {:<44} CPU ms per request: {}", "", Value::Object(cpu));
        Ok(figures)
    }
}

fn round(value: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (value * scale).round() / scale
}

async fn start_fleet() -> anyhow::Result<Bench> {
    let fleet = Fleet::new("bench-fleet")?;
    let prefix = private_topics(&ticketflow_e2e::SAGA_TOPICS).await?;
    let kafka = kafka_bootstrap()?;
    let redis = setting("REDIS_URL")?;
    let smtp_host = setting("SMTP_HOST").unwrap_or_else(|_| "127.0.0.1".to_owned());
    let smtp_port = setting("SMTP_PORT").unwrap_or_else(|_| "1025".to_owned());
    let users_db = TestPgDatabase::create().await?;
    let inventory_db = TestPgDatabase::create().await?;
    let bookings_db = TestPgDatabase::create().await?;
    let events_db = TestMongoDatabase::create().await?;
    let payments_db = TestMongoDatabase::create().await?;
    let notifications_db = TestMongoDatabase::create().await?;
    let jwt_secret = ticketflow_e2e::random_secret();
    let internal_secret = ticketflow_e2e::random_secret();

    let mut specs: BTreeMap<&'static str, ProcessSpec> = BTreeMap::new();
    for name in SERVICES {
        specs.insert(name, ProcessSpec::new(name, &[])?);
    }
    let urls: BTreeMap<&'static str, String> = specs
        .iter()
        .map(|(name, spec)| (*name, spec.base()))
        .collect();
    let url = |name: &str| urls.get(name).cloned().unwrap_or_default();
    let common: Vec<(&str, String)> = vec![
        ("KAFKA_BOOTSTRAP_SERVERS", kafka.clone()),
        ("KAFKA_TOPIC_PREFIX", prefix.clone()),
        ("INTERNAL_SECRET", internal_secret.clone()),
        ("LOG_FORMAT", "json".to_owned()),
        ("RUST_LOG", "warn".to_owned()),
    ];
    let own: BTreeMap<&str, Vec<(&str, String)>> = BTreeMap::from([
        (
            "user-service",
            vec![
                ("USER_DB_URL", users_db.url().to_owned()),
                ("JWT_SECRET", jwt_secret.clone()),
            ],
        ),
        (
            "event-service",
            vec![
                ("MONGODB_URL", events_db.url().to_owned()),
                ("MONGODB_DB", events_db.name().to_owned()),
            ],
        ),
        (
            "inventory-service",
            vec![
                ("INVENTORY_DB_URL", inventory_db.url().to_owned()),
                ("REDIS_URL", redis.clone()),
            ],
        ),
        (
            "booking-service",
            vec![
                ("BOOKING_DB_URL", bookings_db.url().to_owned()),
                ("EVENT_SERVICE_URL", url("event-service")),
            ],
        ),
        (
            "payment-service",
            vec![
                ("MONGODB_URL", payments_db.url().to_owned()),
                ("MONGODB_DB", payments_db.name().to_owned()),
                ("PAYMENT_SUCCESS_RATE", "1".to_owned()),
                ("PAYMENT_DELAY_MS", "0".to_owned()),
            ],
        ),
        (
            "notification-service",
            vec![
                ("MONGODB_URL", notifications_db.url().to_owned()),
                ("MONGODB_DB", notifications_db.name().to_owned()),
                ("SMTP_HOST", smtp_host),
                ("SMTP_PORT", smtp_port),
            ],
        ),
        (
            "gateway",
            vec![
                ("JWT_SECRET", jwt_secret.clone()),
                ("USER_SERVICE_URL", url("user-service")),
                ("EVENT_SERVICE_URL", url("event-service")),
                ("INVENTORY_SERVICE_URL", url("inventory-service")),
                ("BOOKING_SERVICE_URL", url("booking-service")),
                ("PAYMENT_SERVICE_URL", url("payment-service")),
                ("NOTIFICATION_SERVICE_URL", url("notification-service")),
                // The bench is one client sending thousands of requests a second.
                ("RATE_LIMIT_MAX", "0".to_owned()),
                ("METRICS_PORT", "0".to_owned()),
            ],
        ),
    ]);

    println!();
    println!("-- start → ready (process spawned → readiness path answers 200), ms --");
    println!(
        "  {:<22} {:>16} {:>10}",
        "service", "fresh database", "restart"
    );
    let mut started = BTreeMap::new();
    for name in SERVICES {
        let mut spec = specs
            .remove(name)
            .ok_or_else(|| anyhow!("no spec for {name}"))?;
        spec.env = common
            .iter()
            .chain(own.get(name).into_iter().flatten())
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        if name == "gateway" {
            spec = spec.ready_path("/health");
        }
        let clock = Instant::now();
        fleet.start(spec).await?;
        started.insert(name, clock.elapsed());
    }
    let mut startup = serde_json::Map::new();
    for name in SERVICES {
        let clock = Instant::now();
        fleet.restart(name).await?;
        let restart = clock.elapsed();
        let fresh = started.get(name).copied().unwrap_or_default();
        println!(
            "  {name:<22} {:>16.0} {:>10.0}",
            fresh.as_secs_f64() * 1000.0,
            restart.as_secs_f64() * 1000.0
        );
        startup.insert(
            name.to_owned(),
            json!({"fresh_ms": round(fresh.as_secs_f64() * 1000.0, 0),
                   "restart_ms": round(restart.as_secs_f64() * 1000.0, 0)}),
        );
    }

    let secret = Secret::new(jwt_secret);
    let (admin_token, _) = ticketflow_common::jwt::issue(
        &secret,
        Uuid::new_v4(),
        "admin@example.com",
        Role::Admin,
        3_600_000,
    )?;
    let http = Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()?;
    let mut report = serde_json::Map::new();
    report.insert("startup".to_owned(), Value::Object(startup));
    Ok(Bench {
        fleet,
        urls,
        http,
        admin_token,
        report,
        _databases: (
            vec![users_db, inventory_db, bookings_db],
            vec![events_db, payments_db, notifications_db],
        ),
    })
}

impl Bench {
    fn gateway(&self, path: &str) -> String {
        format!(
            "{}{path}",
            self.urls.get("gateway").map_or("", String::as_str)
        )
    }

    async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> anyhow::Result<Value> {
        let mut request = self.http.post(self.gateway(path)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await?;
        let status = response.status();
        if !status.is_success() {
            bail!("POST {path}: {status} {}", response.text().await?);
        }
        Ok(response.json().await?)
    }

    /// A venue, `count` events of 100 seats and one of `seats` seats (once inventory built
    /// its seat map); returns that event's id.
    async fn catalogue(&self, count: usize, seats: u32) -> anyhow::Result<Uuid> {
        let token = Some(self.admin_token.as_str());
        let venue = self
            .post(
                "/api/venues",
                token,
                &json!({"name": "Bench Arena", "address": "1 Bench Road", "city": "Pune",
                        "country": "India", "capacity": 10_000}),
            )
            .await?;
        let mut last = None;
        for i in 0..=count {
            let date = ticketflow_common::time::now() + chrono::Duration::days(30 + i as i64);
            let total = if i == count { seats } else { 100 };
            let event = self
                .post(
                    "/api/events",
                    token,
                    &json!({"name": format!("Bench Night {i}"), "description": "make bench",
                            "venue_id": venue["id"], "date": ticketflow_common::time::rfc3339(&date),
                            "price": 1499.0, "total_seats": total}),
                )
                .await?;
            last = event["id"].as_str().and_then(|id| Uuid::parse_str(id).ok());
        }
        let event_id = last.ok_or_else(|| anyhow!("no event id"))?;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let response = self
                .http
                .get(self.gateway(&format!("/api/inventory/events/{event_id}/seats")))
                .send()
                .await?;
            if response.status() == StatusCode::OK {
                let map: Value = response.json().await?;
                if map["total"] == seats {
                    return Ok(event_id);
                }
            }
            if Instant::now() >= deadline {
                bail!("inventory did not build the {seats} seats of {event_id} within 60 s");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

async fn bench() -> anyhow::Result<()> {
    let seconds: u64 = knob("BENCH_HTTP_SECONDS", 10)?;
    let connections: u32 = knob("BENCH_CONNECTIONS", 64)?;
    let login_connections: u32 = knob("BENCH_LOGIN_CONNECTIONS", 8)?;
    let seats: u32 = knob("BENCH_SEATS", 500)?;
    let bin_dir = ticketflow_testkit::fleet::binary_dir()?;
    if !bin_dir.join("gateway").is_file() {
        bail!(
            "no service binaries in {}: run `cargo build --release --bins` first (make bench does)",
            bin_dir.display()
        );
    }
    println!("== fleet benchmark: seven release processes on free ports, the native stack ==");
    println!("loadavg at the start {}", loadavg());
    let mut bench = start_fleet().await?;
    println!("service logs in {}", bench.fleet.log_dir().display());

    // Idle: every service ready, nothing asked of it yet.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = bench.rss_all()?;
    // What the idle figure is made of: the processes' own memory, and the pages of their
    // executables (file-backed, shared by replicas on one host, reclaimable).
    let mut idle_anon = 0;
    for name in SERVICES {
        idle_anon += procfs::status_kib(bench.pid(name)?, "RssAnon").unwrap_or(0);
    }
    let event_id = bench.catalogue(12, seats).await?;
    let email = format!("bench-{}@example.com", Uuid::new_v4().simple());
    bench
        .post(
            "/api/users/register",
            None,
            &json!({"name": "Bench User", "email": email, "password": PASSWORD}),
        )
        .await?;

    println!();
    println!(
        "-- HTTP load: wrk, 2 threads, {seconds} s each after 2 s of warm-up (loadavg {}) --",
        loadavg()
    );
    let event_url = bench.urls.get("event-service").cloned().unwrap_or_default();
    let direct = bench
        .wrk(
            "GET /api/events?limit=10, direct",
            &format!("{event_url}/api/events?limit=10"),
            None,
            connections,
            seconds,
        )
        .await?;
    let through = bench
        .wrk(
            "GET /api/events?limit=10, via gateway",
            &bench.gateway("/api/events?limit=10"),
            None,
            connections,
            seconds,
        )
        .await?;
    let seat_map = bench
        .wrk(
            &format!("GET seat map ({seats} seats), via gateway"),
            &bench.gateway(&format!("/api/inventory/events/{event_id}/seats")),
            None,
            connections,
            seconds,
        )
        .await?;
    let login = bench
        .wrk(
            "POST /api/users/login, via gateway",
            &bench.gateway("/api/users/login"),
            Some(&json!({"email": email, "password": PASSWORD})),
            login_connections,
            seconds,
        )
        .await?;
    let rps = |v: &Value| v["rps"].as_f64().unwrap_or(0.0);
    let overhead = (1.0 - rps(&through) / rps(&direct).max(f64::EPSILON)) * 100.0;
    println!(
        "  gateway overhead on GET /api/events: {overhead:.1} % of direct throughput, p99 {} → {} ms",
        direct["p99_ms"], through["p99_ms"]
    );

    let loaded = bench.rss_all()?;
    println!();
    println!("-- RSS (VmRSS), MiB --");
    println!("  {:<22} {:>8} {:>12}", "service", "idle", "after load");
    let mib = |kib: u64| kib as f64 / 1024.0;
    let mut rss = serde_json::Map::new();
    for name in SERVICES {
        let (i, l) = (
            idle.get(name).copied().unwrap_or(0),
            loaded.get(name).copied().unwrap_or(0),
        );
        println!("  {name:<22} {:>8.1} {:>12.1}", mib(i), mib(l));
        rss.insert(
            name.to_owned(),
            json!({"idle_mib": round(mib(i), 1), "after_load_mib": round(mib(l), 1)}),
        );
    }
    let total_idle: u64 = idle.values().sum();
    let total_loaded: u64 = loaded.values().sum();
    println!(
        "  {:<22} {:>8.1} {:>12.1}",
        "total",
        mib(total_idle),
        mib(total_loaded)
    );
    println!(
        "  (of the idle total, anonymous memory, i.e. not the executables' pages: {:.1} MiB)",
        mib(idle_anon)
    );

    let report = &mut bench.report;
    report.insert("rss".to_owned(), Value::Object(rss));
    report.insert(
        "rss_total".to_owned(),
        json!({"idle_mib": round(mib(total_idle), 1), "after_load_mib": round(mib(total_loaded), 1),
               "idle_anon_mib": round(mib(idle_anon), 1)}),
    );
    report.insert("events_direct".to_owned(), direct);
    report.insert("events_gateway".to_owned(), through);
    report.insert("gateway_overhead_pct".to_owned(), json!(round(overhead, 1)));
    report.insert("seat_map".to_owned(), seat_map);
    report.insert("seat_map_seats".to_owned(), json!(seats));
    report.insert("login".to_owned(), login);
    report.insert(
        "argon2".to_owned(),
        json!("argon2id m=19456 KiB, t=2, p=1 (OWASP baseline)"),
    );
    report.insert("loadavg_end".to_owned(), json!(loadavg()));
    if let Ok(path) = std::env::var("BENCH_REPORT") {
        std::fs::write(&path, serde_json::to_string_pretty(&bench.report)?)
            .with_context(|| format!("writing {path}"))?;
    }
    println!();
    println!("loadavg at the end {}", loadavg());
    Ok(())
}
