//! Saga benchmark: how long a booking takes from accepted (`202`) to `CONFIRMED`, and how
//! many bookings per second the saga sustains, with every service a real release process
//! (the same fleet as `tests/saga.rs`: [`ticketflow_e2e::start`]) on the local stack.
//!
//! `make bench-saga` (= `cargo build --release --bins && scripts/with-env.sh cargo bench -p
//! ticketflow-e2e --bench saga`). The fleet runs the binaries next to this executable, i.e.
//! `target/release`: build them first. Payment always succeeds at once
//! (`PAYMENT_SUCCESS_RATE=1`, `PAYMENT_DELAY_MS=0`), so what is measured is the saga itself.
//!
//! Scenarios:
//! - `latency`: bookings of 2 free seats of an event with plenty of seats, one after another
//!   and then by several concurrent clients; each client polls `GET /api/bookings/:id` every
//!   `BENCH_POLL_MS` until it is no longer `PENDING`. Accepted → `CONFIRMED` is measured on
//!   the client (`202` received → `CONFIRMED` seen, so it includes up to one poll period) and
//!   on the server (`confirmedAt − createdAt`, booking-service's clock).
//! - `sustained`: `BENCH_CLIENTS` clients booking distinct seat pairs spread over several
//!   events for `BENCH_SECONDS`, each with one booking in flight at a time; then every client
//!   waits for its last booking to end. Accepted/s, confirmed/s, failures by reason, latency.
//!
//! Then `ticketflow-audit` over the fleet's stores (strict, retried while effects that follow
//! a booking's end land): any violation, any failed booking or any client error makes the
//! run exit non-zero.
//!
//! With `BENCH_REPORT`, the figures are also written to that file as JSON (`make bench` reads
//! it), with the RSS of each process after the sustained run.
//!
//! Knobs (environment): `BENCH_SECONDS` (20), `BENCH_CLIENTS` (32), `BENCH_SEQUENTIAL` (100
//! bookings), `BENCH_CONCURRENT_CLIENTS` (8), `BENCH_CONCURRENT_BOOKINGS` (200),
//! `BENCH_EVENTS` (4, for `sustained`), `BENCH_SEATS_PER_EVENT` (4000), `BENCH_POLL_MS` (10,
//! latency scenarios), `BENCH_SUSTAINED_POLL_MS` (200: on a 2-core machine 32 clients polling
//! every 25 ms halve the bookings/s, the polls competing with the saga for the CPU; the
//! client-side latency of `sustained` is therefore coarse, the server-side one is exact).

// A benchmark's job is to print its numbers.
#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use ticketflow_e2e::{percentile, start, Options, Settled, Stack, User};
use tokio::task::JoinSet;
use uuid::Uuid;

const SEATS_PER_BOOKING: usize = 2;
/// Bookings before the measured ones: connections, caches, consumer groups settle.
const WARM_UP_BOOKINGS: usize = 10;
/// How long a client retries a create and waits for its booking to end.
const GIVE_UP: Duration = Duration::from_secs(30);
/// How long the audit is retried while the effects of the last bookings land.
const AUDIT_PATIENCE: Duration = Duration::from_secs(30);

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let failed = runtime.block_on(bench())?;
    if failed {
        std::process::exit(1);
    }
    Ok(())
}

struct Settings {
    seconds: u64,
    clients: usize,
    sequential: usize,
    concurrent_clients: usize,
    concurrent_bookings: usize,
    events: usize,
    seats_per_event: u32,
    poll: Duration,
    sustained_poll: Duration,
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

impl Settings {
    fn from_env() -> anyhow::Result<Self> {
        let settings = Self {
            seconds: knob("BENCH_SECONDS", 20)?,
            clients: knob("BENCH_CLIENTS", 32)?,
            sequential: knob("BENCH_SEQUENTIAL", 100)?,
            concurrent_clients: knob("BENCH_CONCURRENT_CLIENTS", 8)?,
            concurrent_bookings: knob("BENCH_CONCURRENT_BOOKINGS", 200)?,
            events: knob("BENCH_EVENTS", 4)?,
            seats_per_event: knob("BENCH_SEATS_PER_EVENT", 4000)?,
            poll: Duration::from_millis(knob("BENCH_POLL_MS", 10)?),
            sustained_poll: Duration::from_millis(knob("BENCH_SUSTAINED_POLL_MS", 200)?),
        };
        if settings.clients == 0 || settings.concurrent_clients == 0 || settings.events == 0 {
            bail!("BENCH_CLIENTS, BENCH_CONCURRENT_CLIENTS and BENCH_EVENTS must be at least 1");
        }
        if !(2..=10_000).contains(&settings.seats_per_event) {
            bail!("BENCH_SEATS_PER_EVENT must be 2..=10000 (an event's most)");
        }
        Ok(settings)
    }
}

/// The options of the bench's fleet: payment always succeeds at once; timeouts long enough
/// that no booking of the run times out.
const OPTIONS: Options = Options {
    name: "bench",
    payment_success_rate: "1",
    payment_delay_ms: 0,
    booking_timeout_ms: 60_000,
    seat_lock_ttl_ms: 300_000,
};

async fn bench() -> anyhow::Result<bool> {
    let settings = Settings::from_env()?;
    header(&settings);
    let bin_dir = ticketflow_testkit::fleet::binary_dir()?;
    if !bin_dir.join("booking-service").is_file() {
        bail!(
            "no service binaries in {}: run `cargo build --release --bins` (same \
             CARGO_TARGET_DIR) first, or `make bench-saga`",
            bin_dir.display()
        );
    }
    let started = Instant::now();
    let stack = Arc::new(start(&OPTIONS).await?);
    println!(
        "fleet (release binaries from {}) ready in {:.1} s; service logs in {}",
        bin_dir.display(),
        started.elapsed().as_secs_f64(),
        stack.fleet.log_dir().display()
    );
    let result = run(&settings, &stack).await;
    stack.explain(result)
}

/// `/proc/loadavg`'s 1, 5 and 15 minute averages: the machine is shared with whatever else
/// runs (a build next to the bench skews every number).
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

fn header(settings: &Settings) {
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned());
    let nproc = std::thread::available_parallelism().map_or(0, usize::from);
    println!("== saga benchmark: every service a release process, through the gateway ==");
    println!(
        "date {}  commit {commit}  nproc {nproc}  loadavg {}",
        chrono::Local::now().format("%Y-%m-%d %H:%M:%S %z"),
        loadavg()
    );
    println!(
        "settings: PAYMENT_SUCCESS_RATE=1 PAYMENT_DELAY_MS=0; latency: {} sequential, {} by {} \
         concurrent clients, poll every {:?}; sustained: {} clients for {} s over {} events \
         of {} seats, poll every {:?}; {SEATS_PER_BOOKING} seats a booking",
        settings.sequential,
        settings.concurrent_bookings,
        settings.concurrent_clients,
        settings.poll,
        settings.clients,
        settings.seconds,
        settings.events,
        settings.seats_per_event,
        settings.sustained_poll,
    );
}

/// Returns whether anything failed (violations, failed bookings, client errors).
async fn run(settings: &Settings, stack: &Arc<Stack>) -> anyhow::Result<bool> {
    let mut failed = false;

    // Latency: one event with room for every latency booking (and the warm-up).
    let needed =
        SEATS_PER_BOOKING * (WARM_UP_BOOKINGS + settings.sequential + settings.concurrent_bookings);
    let seats = u32::try_from(needed.max(SEATS_PER_BOOKING))?;
    if seats > 10_000 {
        bail!("the latency scenarios want {seats} seats, more than an event has (10000)");
    }
    let (event_id, seat_ids) = stack.new_event(seats).await?;
    let pairs: Vec<(Uuid, Vec<Uuid>)> = seat_ids
        .chunks_exact(SEATS_PER_BOOKING)
        .map(|pair| (event_id, pair.to_vec()))
        .collect();
    let (warm_up, rest) = pairs.split_at(WARM_UP_BOOKINGS.min(pairs.len()));
    let (sequential, concurrent) = rest.split_at(settings.sequential.min(rest.len()));

    let warm = drive(stack, warm_up.to_vec(), 1, None, settings.poll).await;
    failed |= warm.print("warm-up (not measured)", None);

    let one = drive(stack, sequential.to_vec(), 1, None, settings.poll).await;
    failed |= one.print("latency, 1 client (one after another)", None);

    let many = drive(
        stack,
        concurrent.to_vec(),
        settings.concurrent_clients,
        None,
        settings.poll,
    )
    .await;
    failed |= many.print(
        &format!(
            "latency, {} concurrent clients",
            settings.concurrent_clients
        ),
        None,
    );

    // Sustained: distinct pairs, round-robin over the events.
    let mut per_event = Vec::with_capacity(settings.events);
    for _ in 0..settings.events {
        let (event_id, seat_ids) = stack.new_event(settings.seats_per_event).await?;
        per_event.push(
            seat_ids
                .chunks_exact(SEATS_PER_BOOKING)
                .map(|pair| (event_id, pair.to_vec()))
                .collect::<Vec<_>>(),
        );
    }
    let longest = per_event.iter().map(Vec::len).max().unwrap_or(0);
    let mut pool = Vec::new();
    for i in 0..longest {
        for event in &per_event {
            if let Some(pair) = event.get(i) {
                pool.push(pair.clone());
            }
        }
    }
    let window = Duration::from_secs(settings.seconds);
    let pool_size = pool.len();
    let cpu_before = fleet_cpu(stack);
    let sustained = drive(
        stack,
        pool,
        settings.clients,
        Some(window),
        settings.sustained_poll,
    )
    .await;
    let cpu_after = fleet_cpu(stack);
    failed |= sustained.print(
        &format!(
            "sustained, {} clients for {} s",
            settings.clients, settings.seconds
        ),
        Some(window),
    );
    // Where the CPU of the sustained run went, per booking that ended (a busy stack process
    // here is what bounds the bookings per second on this machine).
    let cpu_per_booking =
        ticketflow_e2e::procfs::per_unit_ms(&cpu_before, &cpu_after, sustained.accepted() as f64);
    let mut by_cost: Vec<(&String, &f64)> = cpu_per_booking.iter().collect();
    by_cost.sort_by(|a, b| b.1.total_cmp(a.1));
    println!(
        "  CPU ms per booking: {}",
        by_cost
            .iter()
            .map(|(name, ms)| format!("{name} {ms:.2}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if sustained.accepted() >= pool_size {
        println!(
            "  NOTE: all {pool_size} seat pairs were booked before the window ended: raise \
             BENCH_EVENTS or BENCH_SEATS_PER_EVENT"
        );
    }

    let violations = audit(stack).await?;
    failed |= violations;

    // RSS of each process after the load (VmRSS, MiB).
    let mut rss = serde_json::Map::new();
    println!();
    println!("-- RSS after the sustained run (VmRSS, MiB) --");
    for name in FLEET {
        if let Some(mib) = stack.fleet.pid(name)?.and_then(rss_mib) {
            println!("  {name:<22} {mib:>8.1}");
            rss.insert(
                name.to_owned(),
                serde_json::json!((mib * 10.0).round() / 10.0),
            );
        }
    }
    if let Ok(path) = std::env::var("BENCH_REPORT") {
        let report = serde_json::json!({
            "settings": {"seconds": settings.seconds, "clients": settings.clients,
                         "events": settings.events, "seats_per_event": settings.seats_per_event,
                         "concurrent_clients": settings.concurrent_clients,
                         "poll_ms": settings.poll.as_millis() as u64,
                         "sustained_poll_ms": settings.sustained_poll.as_millis() as u64},
            "sequential": one.summary(None),
            "concurrent": many.summary(None),
            "sustained": sustained.summary(Some(window)),
            "pool_exhausted": sustained.accepted() >= pool_size,
            "audit_clean": !violations,
            "rss_after_mib": rss,
            "cpu_ms_per_booking": cpu_per_booking,
            "failed": failed,
            "loadavg_end": loadavg(),
        });
        std::fs::write(&path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("writing {path}"))?;
    }
    println!();
    println!(
        "{} (loadavg at the end {})",
        if failed { "FAILED" } else { "OK" },
        loadavg()
    );
    Ok(failed)
}

/// `VmRSS` of a process, in MiB.
fn rss_mib(pid: u32) -> Option<f64> {
    ticketflow_e2e::procfs::rss_kib(pid).map(|kib| kib as f64 / 1024.0)
}

const FLEET: [&str; 5] = [
    ticketflow_e2e::GATEWAY,
    ticketflow_e2e::EVENT,
    ticketflow_e2e::INVENTORY,
    ticketflow_e2e::BOOKING,
    ticketflow_e2e::PAYMENT,
];

/// CPU ticks so far of the fleet's processes and the stack's.
fn fleet_cpu(stack: &Stack) -> BTreeMap<String, u64> {
    let processes: Vec<(&str, Option<u32>)> = FLEET
        .iter()
        .map(|name| (*name, stack.fleet.pid(name).ok().flatten()))
        .collect();
    ticketflow_e2e::procfs::cpu(&processes)
}

/// What one booking came to.
struct Outcome {
    /// Request sent → `202` received.
    post: Duration,
    /// `202` received → end seen by polling.
    to_end: Duration,
    settled: Settled,
}

#[derive(Default)]
struct Run {
    outcomes: Vec<Outcome>,
    errors: Vec<String>,
    /// First request sent → last booking seen ended.
    elapsed: Duration,
}

impl Run {
    fn accepted(&self) -> usize {
        self.outcomes.len()
    }

    /// The run's figures for `BENCH_REPORT` (milliseconds).
    fn summary(&self, window: Option<Duration>) -> serde_json::Value {
        let confirmed: Vec<&Outcome> = self
            .outcomes
            .iter()
            .filter(|o| o.settled.status == "CONFIRMED")
            .collect();
        let stats = |mut values: Vec<Duration>| {
            values.sort();
            let ms = |p: f64| (percentile(&values, p).as_secs_f64() * 10_000.0).round() / 10.0;
            serde_json::json!({"count": values.len(), "p50_ms": ms(50.0), "p90_ms": ms(90.0),
                               "p99_ms": ms(99.0), "max_ms": ms(100.0)})
        };
        let secs = self.elapsed.as_secs_f64().max(f64::EPSILON);
        let window_secs = window.map_or(secs, |w| w.as_secs_f64());
        serde_json::json!({
            "accepted": self.accepted(),
            "confirmed": confirmed.len(),
            "failed": self.accepted() - confirmed.len(),
            "errors": self.errors.len(),
            "accepted_per_s": (self.accepted() as f64 / window_secs * 10.0).round() / 10.0,
            "confirmed_per_s": (confirmed.len() as f64 / secs * 10.0).round() / 10.0,
            "client": stats(confirmed.iter().map(|o| o.to_end).collect()),
            "server": stats(confirmed.iter().filter_map(|o| o.settled.to_confirmed).collect()),
            "post": stats(self.outcomes.iter().map(|o| o.post).collect()),
        })
    }

    /// Prints the run; returns whether anything failed.
    fn print(&self, title: &str, window: Option<Duration>) -> bool {
        println!();
        println!("-- {title} --");
        let confirmed: Vec<&Outcome> = self
            .outcomes
            .iter()
            .filter(|o| o.settled.status == "CONFIRMED")
            .collect();
        let secs = self.elapsed.as_secs_f64().max(f64::EPSILON);
        match window {
            Some(window) => println!(
                "  {} accepted in the {} s window ({:.1} accepted/s), {} confirmed in {:.1} s \
                 with the drain ({:.1} confirmed/s)",
                self.accepted(),
                window.as_secs(),
                self.accepted() as f64 / window.as_secs_f64(),
                confirmed.len(),
                secs,
                confirmed.len() as f64 / secs,
            ),
            None => println!(
                "  {} accepted, {} confirmed in {:.1} s ({:.1} confirmed/s)",
                self.accepted(),
                confirmed.len(),
                secs,
                confirmed.len() as f64 / secs,
            ),
        }
        let mut failures: BTreeMap<String, usize> = BTreeMap::new();
        for outcome in &self.outcomes {
            if outcome.settled.status != "CONFIRMED" {
                let reason = match &outcome.settled.reason {
                    Some(reason) => format!("{} {reason}", outcome.settled.status),
                    None => outcome.settled.status.clone(),
                };
                *failures.entry(reason).or_default() += 1;
            }
        }
        for error in &self.errors {
            *failures.entry(error_kind(error)).or_default() += 1;
        }
        if failures.is_empty() {
            println!("  failures: none");
        } else {
            println!("  failures by reason:");
            for (reason, count) in &failures {
                println!("    {count:>6}  {reason}");
            }
            for error in self.errors.iter().take(3) {
                println!("    e.g. {error}");
            }
        }
        let client: Vec<Duration> = confirmed.iter().map(|o| o.to_end).collect();
        let server: Vec<Duration> = confirmed
            .iter()
            .filter_map(|o| o.settled.to_confirmed)
            .collect();
        let post: Vec<Duration> = self.outcomes.iter().map(|o| o.post).collect();
        println!(
            "  {:<52} {:>6} {:>8} {:>8} {:>8} {:>8}",
            "ms", "count", "p50", "p90", "p99", "max"
        );
        line("accepted→CONFIRMED, client (202 → seen)", client);
        line("accepted→CONFIRMED, server (confirmedAt−createdAt)", server);
        line("POST /api/bookings → 202", post);
        !failures.is_empty()
    }
}

fn line(what: &str, mut values: Vec<Duration>) {
    values.sort();
    let ms = |p: f64| percentile(&values, p).as_secs_f64() * 1000.0;
    println!(
        "  {what:<52} {:>6} {:>8.1} {:>8.1} {:>8.1} {:>8.1}",
        values.len(),
        ms(50.0),
        ms(90.0),
        ms(99.0),
        ms(100.0)
    );
}

/// A client error's kind: its message up to the response body.
fn error_kind(error: &str) -> String {
    let cut = error.find(['{', '(']).unwrap_or(error.len()).min(80);
    error[..cut].trim().to_owned()
}

/// `clients` clients book the pairs of `pool` in order, each one booking at a time and
/// waiting for its end (polling every `poll`), until the pool is empty or, with `window`,
/// the window has passed (bookings in flight then still end and count).
async fn drive(
    stack: &Arc<Stack>,
    pool: Vec<(Uuid, Vec<Uuid>)>,
    clients: usize,
    window: Option<Duration>,
    poll: Duration,
) -> Run {
    let pool = Arc::new(pool);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let stop = window.map(|w| started + w);
    let mut tasks = JoinSet::new();
    for _ in 0..clients {
        let (stack, pool, next) = (Arc::clone(stack), Arc::clone(&pool), Arc::clone(&next));
        tasks.spawn(async move {
            let mut outcomes = Vec::new();
            let mut errors = Vec::new();
            while stop.is_none_or(|stop| Instant::now() < stop) {
                let Some((event_id, pair)) = pool.get(next.fetch_add(1, Ordering::Relaxed)) else {
                    break;
                };
                match book(&stack, *event_id, pair, poll).await {
                    Ok(outcome) => outcomes.push(outcome),
                    Err(err) => errors.push(format!("{err:#}")),
                }
            }
            (outcomes, errors)
        });
    }
    let mut run = Run::default();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((outcomes, errors)) => {
                run.outcomes.extend(outcomes);
                run.errors.extend(errors);
            }
            Err(err) => run.errors.push(format!("client task: {err}")),
        }
    }
    run.elapsed = started.elapsed();
    run
}

/// One booking by a new user: create, then poll until it ends.
async fn book(
    stack: &Stack,
    event_id: Uuid,
    pair: &[Uuid],
    poll: Duration,
) -> anyhow::Result<Outcome> {
    let user: User = stack.user()?;
    let sent = Instant::now();
    let created = stack.create_booking(&user, event_id, pair, GIVE_UP).await?;
    let accepted = Instant::now();
    let id = created["bookingId"]
        .as_str()
        .ok_or_else(|| anyhow!("no bookingId in {created}"))?;
    let view = stack
        .until_settled_polling(&user, id, accepted + GIVE_UP, poll, poll)
        .await?;
    let seen = Instant::now();
    Ok(Outcome {
        post: accepted - sent,
        to_end: seen - accepted,
        settled: Settled::from(&view).context("reading the ended booking")?,
    })
}

/// `ticketflow-audit` over the fleet's stores, retried for a while (seats reserved, counters
/// moved after a booking's end land asynchronously); prints what it finds. Returns whether
/// violations remained.
async fn audit(stack: &Stack) -> anyhow::Result<bool> {
    let started = Instant::now();
    loop {
        let violations = ticketflow_e2e::audit(stack).await?;
        if violations.is_empty() {
            println!();
            println!(
                "ticketflow-audit: no violations ({:.1} s after the last booking ended)",
                started.elapsed().as_secs_f64()
            );
            return Ok(false);
        }
        if started.elapsed() >= AUDIT_PATIENCE {
            println!();
            println!(
                "ticketflow-audit: {} VIOLATIONS after {AUDIT_PATIENCE:?}:",
                violations.len()
            );
            for violation in violations.iter().take(20) {
                println!("  {violation}");
            }
            return Ok(true);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
