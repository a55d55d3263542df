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
//! The fleet and its client ([`ticketflow_e2e::start`], [`Stack`]) are the crate's library,
//! shared with the saga benchmark (`benches/saga.rs`).
//!
//! The tests of this file run one at a time (they load a 2-core machine on their own); each
//! prints its fleet's log directory, shown by the harness when it fails.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail};
use rand::seq::SliceRandom;
use rand::Rng;
use reqwest::StatusCode;
use serde_json::Value;
use ticketflow_e2e::{
    percentile, start, Options, Settled, Stack, User, BOOKING, INVENTORY, PAYMENT,
};
use uuid::Uuid;

/// The tests of this binary run one after the other.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

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
    let violations = ticketflow_e2e::audit(stack).await?;
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
