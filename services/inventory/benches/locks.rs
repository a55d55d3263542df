//! Seat lock benchmark: throughput and latency of `inventory::lock` + `inventory::confirm`
//! against the real local stack (`make local-infra`), in-process, without Kafka.
//!
//! `make bench-inventory` (= `scripts/with-env.sh cargo bench -p ticketflow-inventory --bench
//! locks`). The service state is the real one (`AppState`, the PostgreSQL pool sized like the
//! service's, the Redis gate on one `ConnectionManager`) over a throwaway database that is
//! dropped at the end; the Redis gate keys the run left are deleted too.
//!
//! Scenarios:
//! - `steady`: bookings of 2 free seats each (no conflicts), spread round-robin over several
//!   events, by 1, 8, 32 concurrent workers; each booking is a lock followed by its confirm.
//! - `contention`: rounds of many workers racing for 2 random seats out of a few seats of one
//!   new event; the winners confirm. Once through the Redis gate, once PostgreSQL alone.
//!
//! Every answer is checked (steady: every lock locks, every confirm reserves both seats;
//! contention: no seat won twice, the hold table holds exactly the winners' seats), then the
//! hold table as a whole; any violation makes the run exit non-zero.
//!
//! Knobs (environment): `BENCH_CONCURRENCY` (`1,8,32`), `BENCH_SECONDS` (12, per steady
//! scenario), `BENCH_EVENTS` (20), `BENCH_SEATS_PER_EVENT` (1200), `BENCH_CONTENTION_WORKERS`
//! (32), `BENCH_CONTENTION_SEATS` (20), `BENCH_CONTENTION_SECONDS` (8, per contention
//! scenario); the pool size is the service's own `INVENTORY_DB_MAX_CONNECTIONS`.

// A benchmark's job is to print its numbers.
#![allow(clippy::print_stdout)]

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, ensure, Context};
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use redis::aio::ConnectionManager;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use ticketflow_common::auth::test_identity_key;
use ticketflow_common::kafka::messages::{BookingInitiated, EventCreated, SeatsConfirm};
use ticketflow_common::pg::Database;
use ticketflow_inventory::gate::{self, Gate};
use ticketflow_inventory::inventory::{self, LockAnswer};
use ticketflow_inventory::{store, AppState, Config};
use ticketflow_testkit::TestPgDatabase;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// `Config::for_test` wants a Kafka address; nothing here connects to it (no `run`).
const KAFKA_UNUSED: &str = "127.0.0.1:9";
const WARM_UP: Duration = Duration::from_secs(1);
const SEATS_PER_BOOKING: usize = 2;

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(bench())
}

async fn bench() -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    let counters = Counters::default();
    metrics::set_global_recorder(counters.clone())
        .map_err(|_| anyhow!("a metrics recorder is already installed"))?;
    let redis_url = std::env::var("REDIS_URL")
        .context("REDIS_URL is not set: run through scripts/with-env.sh (make bench-inventory)")?;

    let db = TestPgDatabase::create().await?;
    let outcome = run(&settings, &counters, db.url(), &redis_url).await;
    let dropped = db.cleanup().await;
    let violations = outcome?;
    dropped.context("dropping the benchmark database")?;
    println!("benchmark database dropped");
    if !violations.is_empty() {
        println!();
        println!("INVARIANT VIOLATIONS ({}):", violations.len());
        for violation in violations.iter().take(20) {
            println!("  {violation}");
        }
        bail!("{} invariant violation(s)", violations.len());
    }
    println!("all invariants held");
    Ok(())
}

/// Runs every scenario, prints the tables; returns the invariant violations found.
async fn run(
    settings: &Settings,
    counters: &Counters,
    db_url: &str,
    redis_url: &str,
) -> anyhow::Result<Vec<String>> {
    let mut config = Config::for_test(db_url, redis_url, KAFKA_UNUSED, "", test_identity_key());
    if let Some(max) = settings.db_max_connections {
        config.db_max_connections = max;
    }
    let pool = PgPoolOptions::new()
        .max_connections(config.db_max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(store::connect_options(db_url)?)
        .await
        .context("connecting to the benchmark database")?;
    store::migrate(&pool).await?;
    let redis = ConnectionManager::new(redis::Client::open(redis_url)?)
        .await
        .context("connecting to Redis")?;

    let state = AppState::new(
        Database::new(pool.clone()),
        &config,
        CancellationToken::new(),
    );
    state.database.mark_schema_ready();
    state.set_gate(Gate::new(redis.clone()));
    // The same service without Redis: PostgreSQL alone decides (the gate-down path).
    let pg_only = AppState::new(
        Database::new(pool.clone()),
        &config,
        CancellationToken::new(),
    );
    pg_only.database.mark_schema_ready();

    print_facts(settings, &config, &pool, &redis).await?;

    let mut created = Created::default();
    let measured = measure(settings, counters, &state, &pg_only, &mut created).await;
    let deleted = delete_gate_keys(&redis, &created).await;
    pool.close().await;
    let violations = measured?;
    println!("Redis gate keys of the run deleted: {}", deleted?);
    Ok(violations)
}

async fn measure(
    settings: &Settings,
    counters: &Counters,
    state: &AppState,
    pg_only: &AppState,
    created: &mut Created,
) -> anyhow::Result<Vec<String>> {
    let mut violations = Vec::new();
    let before = counters.snapshot();

    let warm_up = steady(
        state,
        "warm-up",
        8,
        4,
        settings.seats_per_event,
        WARM_UP,
        created,
    )
    .await?;
    eprintln!("warm-up: {} bookings", warm_up.bookings);
    violations.extend(warm_up.violations.iter().cloned());

    let mut steady_rows = Vec::new();
    for &concurrency in &settings.concurrency {
        let row = steady(
            state,
            "steady",
            concurrency,
            settings.events,
            settings.seats_per_event,
            settings.seconds,
            created,
        )
        .await?;
        eprintln!(
            "steady x{concurrency}: {} bookings in {:.1} s",
            row.bookings,
            row.elapsed.as_secs_f64()
        );
        violations.extend(row.violations.iter().cloned());
        steady_rows.push(row);
    }

    let mut contention_rows = Vec::new();
    for (label, state) in [("contention", state), ("contention-pg-only", pg_only)] {
        let row = contention(state, label, settings, counters, created).await?;
        eprintln!(
            "{label}: {} rounds, {} attempts",
            row.rounds,
            row.locked + row.refused
        );
        violations.extend(row.violations.iter().cloned());
        contention_rows.push(row);
    }

    println!();
    print_steady(&steady_rows);
    println!();
    print_contention(settings, &contention_rows);
    violations.extend(check_hold_table(state).await?);
    println!();
    let after = counters.snapshot();
    println!("service counters over the run (metrics the code under test recorded):");
    for (name, value) in &after {
        let delta = value.saturating_sub(before.get(name).copied().unwrap_or(0));
        println!("  {name:<76} {delta:>9}");
    }
    let bypassed = after
        .get("inventory_gate_bypassed_total{}")
        .copied()
        .unwrap_or(0);
    if bypassed > 0 {
        println!(
            "  NOTE: the Redis gate was bypassed {bypassed} time(s) (Redis errors): those locks \
             took the PostgreSQL-only path"
        );
    }
    Ok(violations)
}

// ---------------------------------------------------------------------------------------------
// Steady: no conflicts.

/// One booking's work: two seats of one event.
struct Pair {
    event_id: Uuid,
    seats: [Uuid; SEATS_PER_BOOKING],
}

#[derive(Default)]
struct Booked {
    lock: Vec<Duration>,
    confirm: Vec<Duration>,
    total: Vec<Duration>,
    violations: Vec<String>,
}

struct SteadyRow {
    label: &'static str,
    concurrency: usize,
    bookings: usize,
    elapsed: Duration,
    ran_out_of_seats: bool,
    lock: Summary,
    confirm: Summary,
    total: Summary,
    violations: Vec<String>,
}

async fn steady(
    state: &AppState,
    label: &'static str,
    concurrency: usize,
    events: usize,
    seats_per_event: u32,
    duration: Duration,
    created: &mut Created,
) -> anyhow::Result<SteadyRow> {
    let mut seat_lists = Vec::new();
    for _ in 0..events {
        seat_lists.push(new_event(state, seats_per_event, created).await?);
    }
    let event_ids: Vec<Uuid> = seat_lists.iter().map(|(id, _)| *id).collect();
    // Round-robin over the events, so concurrent bookings mostly touch different events.
    let mut pairs = Vec::new();
    for k in 0..(seats_per_event as usize / SEATS_PER_BOOKING) {
        for (event_id, seats) in &seat_lists {
            if let (Some(&a), Some(&b)) = (seats.get(2 * k), seats.get(2 * k + 1)) {
                pairs.push(Pair {
                    event_id: *event_id,
                    seats: [a, b],
                });
            }
        }
    }
    let available = pairs.len();
    let pairs = Arc::new(pairs);
    let next = Arc::new(AtomicUsize::new(0));

    let started = Instant::now();
    let deadline = started + duration;
    let mut workers = JoinSet::new();
    for _ in 0..concurrency {
        workers.spawn(book(
            state.clone(),
            Arc::clone(&pairs),
            Arc::clone(&next),
            deadline,
        ));
    }
    let mut all = Booked::default();
    while let Some(joined) = workers.join_next().await {
        let done = joined.context("a booking worker panicked")??;
        all.lock.extend(done.lock);
        all.confirm.extend(done.confirm);
        all.total.extend(done.total);
        all.violations.extend(done.violations);
    }
    let elapsed = started.elapsed();
    let bookings = all.total.len();

    // What PostgreSQL holds for these events must be exactly the bookings made.
    let by_status: Vec<(String, i64)> = sqlx::query_as(
        "SELECT status, count(*) FROM seat_holds WHERE event_id = ANY($1) GROUP BY status",
    )
    .bind(&event_ids)
    .fetch_all(state.database.pool())
    .await?;
    let count = |status: &str| {
        by_status
            .iter()
            .find(|(s, _)| s == status)
            .map_or(0, |(_, n)| *n)
    };
    let expected = i64::try_from(bookings * SEATS_PER_BOOKING)?;
    if count("RESERVED") != expected || count("LOCKED") != 0 {
        all.violations.push(format!(
            "{label} x{concurrency}: {bookings} bookings confirmed but seat_holds has \
             {} RESERVED (want {expected}) and {} LOCKED (want 0)",
            count("RESERVED"),
            count("LOCKED")
        ));
    }

    Ok(SteadyRow {
        label,
        concurrency,
        bookings,
        elapsed,
        ran_out_of_seats: next.load(Ordering::Relaxed) >= available,
        lock: Summary::of(&mut all.lock),
        confirm: Summary::of(&mut all.confirm),
        total: Summary::of(&mut all.total),
        violations: all.violations,
    })
}

/// One worker: takes the next pair, locks it, confirms it, until the deadline or no pair is left.
async fn book(
    state: AppState,
    pairs: Arc<Vec<Pair>>,
    next: Arc<AtomicUsize>,
    deadline: Instant,
) -> anyhow::Result<Booked> {
    let mut out = Booked::default();
    while Instant::now() < deadline {
        let Some(pair) = pairs.get(next.fetch_add(1, Ordering::Relaxed)) else {
            break;
        };
        let booking_id = Uuid::new_v4();
        let request = booking_initiated(booking_id, pair.event_id, pair.seats.to_vec());
        let confirm = SeatsConfirm {
            booking_id,
            event_id: pair.event_id,
            seat_ids: pair.seats.to_vec(),
        };
        let (lock_id, confirm_id) = (Uuid::new_v4(), Uuid::new_v4());

        let started = Instant::now();
        let answer = inventory::lock(&state, lock_id, &request).await?;
        let locked = Instant::now();
        if !matches!(answer, LockAnswer::Locked { .. }) {
            out.violations.push(format!(
                "booking {booking_id}: lock of 2 free seats answered {answer:?}"
            ));
            continue;
        }
        let reserved = inventory::confirm(&state, confirm_id, &confirm).await?;
        let done = Instant::now();
        if reserved != SEATS_PER_BOOKING {
            out.violations.push(format!(
                "booking {booking_id}: confirm reserved {reserved} seats, not {SEATS_PER_BOOKING}"
            ));
        }
        out.lock.push(locked - started);
        out.confirm.push(done - locked);
        out.total.push(done - started);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Contention: many workers, few seats.

struct Attempt {
    booking_id: Uuid,
    seats: [Uuid; SEATS_PER_BOOKING],
    answer: LockAnswer,
    lock: Duration,
    /// Latency and seats reserved, for a booking that locked.
    confirm: Option<(Duration, usize)>,
}

struct ContentionRow {
    label: &'static str,
    rounds: usize,
    locked: usize,
    refused: usize,
    refused_by_redis: u64,
    refused_by_postgres: u64,
    lock_won: Summary,
    lock_refused: Summary,
    confirm: Summary,
    elapsed: Duration,
    violations: Vec<String>,
}

async fn contention(
    state: &AppState,
    label: &'static str,
    settings: &Settings,
    counters: &Counters,
    created: &mut Created,
) -> anyhow::Result<ContentionRow> {
    let before = counters.snapshot();
    let mut rng = SplitMix64(Uuid::new_v4().as_u64_pair().0);
    let (mut lock_won, mut lock_refused, mut confirm) = (Vec::new(), Vec::new(), Vec::new());
    let (mut rounds, mut violations) = (0, Vec::new());
    let started = Instant::now();
    while started.elapsed() < settings.contention_seconds {
        rounds += 1;
        let (event_id, seats) = new_event(state, settings.contention_seats, created).await?;
        let mut racers = JoinSet::new();
        for _ in 0..settings.contention_workers {
            racers.spawn(race(state.clone(), event_id, rng.two_of(&seats)?));
        }
        let mut attempts = Vec::new();
        while let Some(joined) = racers.join_next().await {
            attempts.push(joined.context("a racing worker panicked")??);
        }
        violations.extend(check_round(state, event_id, &attempts).await?);
        for attempt in attempts {
            match attempt.answer {
                LockAnswer::Locked { .. } => lock_won.push(attempt.lock),
                _ => lock_refused.push(attempt.lock),
            }
            if let Some((latency, _)) = attempt.confirm {
                confirm.push(latency);
            }
        }
    }
    let elapsed = started.elapsed();
    let after = counters.snapshot();
    let refused_by = |decider: &str| {
        let name = format!("inventory_lock_requests_total{{decided_by={decider},outcome=refused}}");
        after
            .get(&name)
            .copied()
            .unwrap_or(0)
            .saturating_sub(before.get(&name).copied().unwrap_or(0))
    };
    Ok(ContentionRow {
        label,
        rounds,
        locked: lock_won.len(),
        refused: lock_refused.len(),
        refused_by_redis: refused_by("redis"),
        refused_by_postgres: refused_by("postgres"),
        lock_won: Summary::of(&mut lock_won),
        lock_refused: Summary::of(&mut lock_refused),
        confirm: Summary::of(&mut confirm),
        elapsed,
        violations,
    })
}

async fn race(
    state: AppState,
    event_id: Uuid,
    seats: [Uuid; SEATS_PER_BOOKING],
) -> anyhow::Result<Attempt> {
    let booking_id = Uuid::new_v4();
    let request = booking_initiated(booking_id, event_id, seats.to_vec());
    let started = Instant::now();
    let answer = inventory::lock(&state, Uuid::new_v4(), &request).await?;
    let lock = started.elapsed();
    let confirm = if matches!(answer, LockAnswer::Locked { .. }) {
        let request = SeatsConfirm {
            booking_id,
            event_id,
            seat_ids: seats.to_vec(),
        };
        let started = Instant::now();
        let reserved = inventory::confirm(&state, Uuid::new_v4(), &request).await?;
        Some((started.elapsed(), reserved))
    } else {
        None
    };
    Ok(Attempt {
        booking_id,
        seats,
        answer,
        lock,
        confirm,
    })
}

/// A round's answers agree with each other and with the hold table: no seat won twice, every
/// winner reserved both its seats, and the table holds exactly the winners' seats.
async fn check_round(
    state: &AppState,
    event_id: Uuid,
    attempts: &[Attempt],
) -> anyhow::Result<Vec<String>> {
    let mut violations = Vec::new();
    let mut winner_of: HashMap<Uuid, Uuid> = HashMap::new();
    for attempt in attempts {
        match &attempt.answer {
            LockAnswer::Locked { .. } => {
                for seat in attempt.seats {
                    if let Some(other) = winner_of.insert(seat, attempt.booking_id) {
                        violations.push(format!(
                            "event {event_id}: seat {seat} locked by both {other} and {}",
                            attempt.booking_id
                        ));
                    }
                }
                let reserved = attempt.confirm.map_or(0, |(_, n)| n);
                if reserved != SEATS_PER_BOOKING {
                    violations.push(format!(
                        "booking {}: locked, but its confirm reserved {reserved} seats",
                        attempt.booking_id
                    ));
                }
            }
            LockAnswer::Failed { conflicting } if !conflicting.is_empty() => {}
            other => violations.push(format!(
                "booking {}: lock answered {other:?}",
                attempt.booking_id
            )),
        }
    }
    let holds: Vec<(Uuid, Uuid, String)> =
        sqlx::query_as("SELECT seat_id, booking_id, status FROM seat_holds WHERE event_id = $1")
            .bind(event_id)
            .fetch_all(state.database.pool())
            .await?;
    for (seat, booking, status) in &holds {
        if winner_of.get(seat) != Some(booking) || status != "RESERVED" {
            violations.push(format!(
                "event {event_id}: seat_holds has seat {seat} {status} for booking {booking}, \
                 the winner per the answers is {:?}",
                winner_of.get(seat)
            ));
        }
    }
    if holds.len() != winner_of.len() {
        violations.push(format!(
            "event {event_id}: {} seats won per the answers, {} holds in seat_holds",
            winner_of.len(),
            holds.len()
        ));
    }
    Ok(violations)
}

/// The whole hold table, straight from PostgreSQL.
async fn check_hold_table(state: &AppState) -> anyhow::Result<Vec<String>> {
    let mut violations = Vec::new();
    println!();
    println!("hold table checks (whole benchmark database):");
    let doubled: Vec<(Uuid, i64)> =
        sqlx::query_as("SELECT seat_id, count(*) FROM seat_holds GROUP BY 1 HAVING count(*) > 1")
            .fetch_all(state.database.pool())
            .await?;
    println!(
        "  seats with more than one hold (GROUP BY seat_id HAVING count(*) > 1): {} rows",
        doubled.len()
    );
    for (seat, n) in doubled {
        violations.push(format!("seat {seat} has {n} holds"));
    }
    let foreign: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM seat_holds h JOIN seats s ON s.id = h.seat_id
         WHERE s.event_id <> h.event_id",
    )
    .fetch_one(state.database.pool())
    .await?;
    println!("  holds whose event is not their seat's event: {foreign}");
    if foreign != 0 {
        violations.push(format!(
            "{foreign} holds name another event than their seat's"
        ));
    }
    let (holds, outbox): (i64, i64) =
        sqlx::query_as("SELECT (SELECT count(*) FROM seat_holds), (SELECT count(*) FROM outbox)")
            .fetch_one(state.database.pool())
            .await?;
    println!("  holds: {holds}, outbox rows left unpublished (no relay runs): {outbox}");
    Ok(violations)
}

// ---------------------------------------------------------------------------------------------
// Setup and teardown.

/// Every event the run created, with its seats (to delete their gate keys at the end).
#[derive(Default)]
struct Created(Vec<(Uuid, Vec<Uuid>)>);

/// A new event of `seats` seats, created as `event.created` would; its seat ids in map order.
async fn new_event(
    state: &AppState,
    seats: u32,
    created: &mut Created,
) -> anyhow::Result<(Uuid, Vec<Uuid>)> {
    let event_id = Uuid::new_v4();
    let event = EventCreated {
        event_id,
        name: "Benchmark night".to_owned(),
        total_seats: seats,
        date: "2030-06-01T20:00:00.000Z".to_owned(),
        price: 50.0,
        currency: "EUR".to_owned(),
        venue_id: Uuid::new_v4(),
    };
    ensure!(
        inventory::create_seats(state, &event).await?,
        "event {event_id} existed"
    );
    let map = inventory::seat_map(state, event_id)
        .await?
        .with_context(|| format!("no seat map for new event {event_id}"))?;
    let ids: Vec<Uuid> = map.seats.iter().map(|seat| seat.id).collect();
    ensure!(
        ids.len() == seats as usize,
        "event {event_id}: {} seats",
        ids.len()
    );
    created.0.push((event_id, ids.clone()));
    Ok((event_id, ids))
}

fn booking_initiated(booking_id: Uuid, event_id: Uuid, seat_ids: Vec<Uuid>) -> BookingInitiated {
    BookingInitiated {
        booking_id,
        user_id: Uuid::new_v4(),
        user_email: "bench@example.com".to_owned(),
        event_id,
        event_name: "Benchmark night".to_owned(),
        seat_ids,
        total_amount: 100.0,
        currency: "EUR".to_owned(),
    }
}

/// Deletes the gate keys of every seat the run created (confirmed seats keep theirs until the
/// lock TTL otherwise); returns how many existed.
async fn delete_gate_keys(redis: &ConnectionManager, created: &Created) -> anyhow::Result<usize> {
    let keys: Vec<String> = created
        .0
        .iter()
        .flat_map(|(event_id, seats)| seats.iter().map(|seat| gate::key(*event_id, *seat)))
        .collect();
    let mut deleted = 0;
    for chunk in keys.chunks(1000) {
        deleted += redis::cmd("DEL")
            .arg(chunk)
            .query_async::<usize>(&mut redis.clone())
            .await?;
    }
    Ok(deleted)
}

async fn print_facts(
    settings: &Settings,
    config: &Config,
    pool: &PgPool,
    redis: &ConnectionManager,
) -> anyhow::Result<()> {
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map_or_else(
            || "unknown".to_owned(),
            |out| String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        );
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, name)| name.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    let (pg_version, fsync, sync_commit): (String, String, String) = sqlx::query_as(
        "SELECT current_setting('server_version'), current_setting('fsync'),
                current_setting('synchronous_commit')",
    )
    .fetch_one(pool)
    .await?;
    let info: String = redis::cmd("INFO")
        .arg("server")
        .query_async(&mut redis.clone())
        .await?;
    let redis_version = info
        .lines()
        .find_map(|line| line.strip_prefix("redis_version:"))
        .unwrap_or("unknown")
        .trim()
        .to_owned();
    let cores = std::thread::available_parallelism().map_or(0, usize::from);

    println!("inventory-service seat lock benchmark (lock + confirm, in-process, no Kafka)");
    println!(
        "  date        {}",
        chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC")
    );
    println!("  commit      {commit}");
    println!("  cpus        {cores} x {cpu}");
    println!(
        "  postgres    {pg_version} (fsync={fsync}, synchronous_commit={sync_commit}), \
         pool of {} connections",
        config.db_max_connections
    );
    println!("  redis       {redis_version}, one ConnectionManager (multiplexed)");
    println!(
        "  steady      {} events x {} seats, 2 seats a booking, {} s per concurrency level",
        settings.events,
        settings.seats_per_event,
        settings.seconds.as_secs_f64()
    );
    println!(
        "  contention  rounds of {} workers over {} seats of a new event, 2 random seats each, \
         {} s per scenario",
        settings.contention_workers,
        settings.contention_seats,
        settings.contention_seconds.as_secs_f64()
    );
    println!("  lock TTL    {} s", config.seat_lock_ttl.as_secs_f64());
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Settings, statistics, tables.

struct Settings {
    concurrency: Vec<usize>,
    seconds: Duration,
    events: usize,
    seats_per_event: u32,
    contention_workers: usize,
    contention_seats: u32,
    contention_seconds: Duration,
    db_max_connections: Option<u32>,
}

impl Settings {
    fn from_env() -> anyhow::Result<Self> {
        let concurrency = match std::env::var("BENCH_CONCURRENCY") {
            Ok(list) if !list.trim().is_empty() => list
                .split(',')
                .map(|n| n.trim().parse::<usize>())
                .collect::<Result<Vec<_>, _>>()
                .context("BENCH_CONCURRENCY: comma-separated worker counts")?,
            _ => vec![1, 8, 32],
        };
        let settings = Self {
            concurrency,
            seconds: Duration::from_secs_f64(number("BENCH_SECONDS", 12.0)?),
            events: number("BENCH_EVENTS", 20)?,
            seats_per_event: number("BENCH_SEATS_PER_EVENT", 1200)?,
            contention_workers: number("BENCH_CONTENTION_WORKERS", 32)?,
            contention_seats: number("BENCH_CONTENTION_SEATS", 20)?,
            contention_seconds: Duration::from_secs_f64(number("BENCH_CONTENTION_SECONDS", 8.0)?),
            db_max_connections: optional("INVENTORY_DB_MAX_CONNECTIONS")?,
        };
        ensure!(
            settings.concurrency.iter().all(|&n| n > 0),
            "BENCH_CONCURRENCY: each count at least 1"
        );
        ensure!(settings.events > 0, "BENCH_EVENTS: at least 1");
        ensure!(
            settings.seats_per_event >= 2 && settings.contention_seats >= 2,
            "BENCH_SEATS_PER_EVENT and BENCH_CONTENTION_SEATS: at least 2"
        );
        ensure!(
            settings.contention_workers > 0,
            "BENCH_CONTENTION_WORKERS: at least 1"
        );
        Ok(settings)
    }
}

fn optional<T>(name: &str) -> anyhow::Result<Option<T>>
where
    T: std::str::FromStr,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => Ok(Some(
            value
                .trim()
                .parse()
                .with_context(|| format!("{name}={value}"))?,
        )),
        _ => Ok(None),
    }
}

fn number<T>(name: &str, default: T) -> anyhow::Result<T>
where
    T: std::str::FromStr,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    Ok(optional(name)?.unwrap_or(default))
}

/// Count, p50, p99 and max of a set of latencies (nearest rank).
#[derive(Clone, Copy, Default)]
struct Summary {
    count: usize,
    p50: Duration,
    p99: Duration,
    max: Duration,
}

impl Summary {
    fn of(samples: &mut [Duration]) -> Self {
        samples.sort_unstable();
        let rank = |p: f64| {
            let n = samples.len();
            let index = ((p * n as f64).ceil() as usize).clamp(1, n.max(1)) - 1;
            samples.get(index).copied().unwrap_or_default()
        };
        Self {
            count: samples.len(),
            p50: rank(0.50),
            p99: rank(0.99),
            max: samples.last().copied().unwrap_or_default(),
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        if self.count == 0 {
            return write!(f, "{:>7} {:>7} {:>7}", "-", "-", "-");
        }
        write!(
            f,
            "{:>7.2} {:>7.2} {:>7.2}",
            ms(self.p50),
            ms(self.p99),
            ms(self.max)
        )
    }
}

fn print_steady(rows: &[SteadyRow]) {
    println!("steady: one booking = lock of 2 free seats + confirm; latencies in ms (p50 p99 max)");
    println!(
        "{:<10} {:>5} {:>9} {:>7} {:>10} | {:^23} | {:^23} | {:^23}",
        "scenario", "conc", "bookings", "secs", "bookings/s", "lock", "confirm", "lock+confirm"
    );
    for row in rows {
        let secs = row.elapsed.as_secs_f64();
        println!(
            "{:<10} {:>5} {:>9} {:>7.1} {:>10.1} | {} | {} | {}{}",
            row.label,
            row.concurrency,
            row.bookings,
            secs,
            row.bookings as f64 / secs.max(f64::EPSILON),
            row.lock,
            row.confirm,
            row.total,
            if row.ran_out_of_seats {
                "  (ran out of seats before the deadline)"
            } else {
                ""
            }
        );
    }
}

fn print_contention(settings: &Settings, rows: &[ContentionRow]) {
    println!(
        "contention: {} workers race for 2 random seats of {} per round; winners confirm; \
         latencies in ms (p50 p99 max)",
        settings.contention_workers, settings.contention_seats
    );
    println!(
        "{:<18} {:>6} {:>8} {:>7} {:>8} {:>13} {:>9} | {:^23} | {:^23} | {:^23}",
        "scenario",
        "rounds",
        "attempts",
        "locked",
        "refused",
        "redis/postgres",
        "locks/s",
        "lock (locked)",
        "lock (refused)",
        "confirm"
    );
    for row in rows {
        let attempts = row.locked + row.refused;
        println!(
            "{:<18} {:>6} {:>8} {:>7} {:>8} {:>13} {:>9.1} | {} | {} | {}",
            row.label,
            row.rounds,
            attempts,
            row.locked,
            row.refused,
            format!("{}/{}", row.refused_by_redis, row.refused_by_postgres),
            attempts as f64 / row.elapsed.as_secs_f64().max(f64::EPSILON),
            row.lock_won,
            row.lock_refused,
            row.confirm
        );
    }
}

/// A small PRNG (SplitMix64) for picking seats: no dependency needed for that.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Two distinct seats of `seats` (at least two).
    fn two_of(&mut self, seats: &[Uuid]) -> anyhow::Result<[Uuid; SEATS_PER_BOOKING]> {
        let n = seats.len();
        ensure!(n >= 2, "need at least 2 seats, have {n}");
        let a = self.below(n);
        let mut b = self.below(n - 1);
        if b >= a {
            b += 1;
        }
        match (seats.get(a), seats.get(b)) {
            (Some(&a), Some(&b)) => Ok([a, b]),
            _ => bail!("seat index out of range"),
        }
    }
}

/// A metrics recorder that only counts: the service's own counters (refused by whom, gate
/// bypassed) show where the benchmark's answers came from.
#[derive(Clone, Default)]
struct Counters(Arc<Mutex<BTreeMap<String, Arc<AtomicU64>>>>);

impl Counters {
    fn snapshot(&self) -> BTreeMap<String, u64> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(name, value)| (name.clone(), value.load(Ordering::Relaxed)))
            .collect()
    }
}

impl Recorder for Counters {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        let mut labels: Vec<String> = key
            .labels()
            .map(|label| format!("{}={}", label.key(), label.value()))
            .collect();
        labels.sort();
        let name = format!("{}{{{}}}", key.name(), labels.join(","));
        let mut counters = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        Counter::from_arc(Arc::clone(counters.entry(name).or_default()))
    }

    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }

    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}
