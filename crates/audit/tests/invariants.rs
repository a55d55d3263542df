//! `audit` against real stores: two throwaway PostgreSQL databases with booking- and
//! inventory-service's migrations, and a FerretDB database with payment-service's indexes.
//! A consistent picture reports nothing; each scenario breaks exactly one invariant and
//! expects exactly that rule. Needs `make local-infra`.

use chrono::{DateTime, TimeDelta, Utc};
use sqlx::PgPool;
use ticketflow_audit::{audit, Stores, Violation, GRACE};
use ticketflow_payment::store::{bson_time, PaymentDoc, Store as PaymentStore};
use ticketflow_testkit::{TestMongoDatabase, TestPgDatabase};
use uuid::Uuid;

const TOTAL_SEATS: usize = 10;
const PRICE_MINOR: i64 = 4_500;

/// Three stores holding a consistent saga picture:
/// - `confirmed`: CONFIRMED, seats 0 and 1 RESERVED by it, one SUCCESS payment;
/// - `failed`: FAILED (seat 2), no holds, its payment REFUNDED;
/// - `pending`: PENDING, not yet expired, seat 3 LOCKED, no payment yet.
struct World {
    booking_db: TestPgDatabase,
    inventory_db: TestPgDatabase,
    payments_db: TestMongoDatabase,
    stores: Stores,
    payments: PaymentStore,
    event: Uuid,
    seats: Vec<Uuid>,
    confirmed: Uuid,
    failed: Uuid,
    pending: Uuid,
    now: DateTime<Utc>,
}

impl World {
    async fn new() -> anyhow::Result<Self> {
        let booking_db = TestPgDatabase::create().await?;
        let inventory_db = TestPgDatabase::create().await?;
        let payments_db = TestMongoDatabase::create().await?;
        let stores = Stores::connect(
            booking_db.url(),
            inventory_db.url(),
            payments_db.url(),
            payments_db.name(),
        )
        .await?;
        ticketflow_booking::store::migrate(&stores.bookings).await?;
        ticketflow_inventory::store::migrate(&stores.inventory).await?;
        let payments = PaymentStore::new(payments_db.database());
        payments.ensure_indexes().await?;

        let now = Utc::now();
        let event = Uuid::new_v4();
        let seats: Vec<Uuid> = (0..TOTAL_SEATS).map(|_| Uuid::new_v4()).collect();
        sqlx::query("INSERT INTO event_inventory (event_id, total) VALUES ($1, $2)")
            .bind(event)
            .bind(i32::try_from(TOTAL_SEATS)?)
            .execute(&stores.inventory)
            .await?;
        for (position, seat) in seats.iter().enumerate() {
            let position = i32::try_from(position)?;
            sqlx::query(
                "INSERT INTO seats (id, event_id, position, section, row_label, seat_number)
                 VALUES ($1, $2, $3, 'FLOOR', 'A', $4)",
            )
            .bind(seat)
            .bind(event)
            .bind(position)
            .bind(position + 1)
            .execute(&stores.inventory)
            .await?;
        }

        let mut world = Self {
            booking_db,
            inventory_db,
            payments_db,
            stores,
            payments,
            event,
            confirmed: Uuid::new_v4(),
            failed: Uuid::new_v4(),
            pending: Uuid::new_v4(),
            seats,
            now,
        };
        let long_ago = now - TimeDelta::minutes(10);
        let (confirmed, failed, pending) = (world.confirmed, world.failed, world.pending);
        let seats = world.seats.clone();
        world
            .booking(confirmed, "CONFIRMED", &seats[0..2], long_ago)
            .await?;
        world.hold(seats[0], confirmed, "RESERVED").await?;
        world.hold(seats[1], confirmed, "RESERVED").await?;
        world.payment(confirmed, "SUCCESS", 2 * PRICE_MINOR).await?;

        world
            .booking(failed, "FAILED", &seats[2..3], long_ago)
            .await?;
        world.payment(failed, "REFUNDED", PRICE_MINOR).await?;

        world
            .booking(
                pending,
                "PENDING",
                &seats[3..4],
                now - TimeDelta::seconds(5),
            )
            .await?;
        world.hold(seats[3], pending, "LOCKED").await?;
        world.recount().await?;
        world.now = Utc::now();
        Ok(world)
    }

    fn bookings(&self) -> &PgPool {
        &self.stores.bookings
    }

    fn inventory(&self) -> &PgPool {
        &self.stores.inventory
    }

    /// A booking of `seats` at PRICE_MINOR each, last changed at `changed`; a PENDING one
    /// expires two minutes after it was made.
    async fn booking(
        &self,
        id: Uuid,
        status: &str,
        seats: &[Uuid],
        changed: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        // `status` is derived from `step` by the table.
        let step = match status {
            "PENDING" => "AWAITING_PAYMENT",
            other => other,
        };
        let total = PRICE_MINOR * i64::try_from(seats.len())?;
        sqlx::query(
            "INSERT INTO bookings (id, user_id, user_email, event_id, event_name, event_date,
                 venue_name, seat_ids, step, total_minor, currency, request_hash,
                 expires_at, created_at, updated_at)
             VALUES ($1, $2, 'audit@example.com', $3, 'Audit Night', $4, 'Hall', $5, $6,
                 $7, 'USD', 'hash', $8, $9, $9)",
        )
        .bind(id)
        .bind(Uuid::new_v4())
        .bind(self.event)
        .bind(self.now + TimeDelta::days(30))
        .bind(seats)
        .bind(step)
        .bind(total)
        .bind(changed + TimeDelta::minutes(2))
        .bind(changed)
        .execute(self.bookings())
        .await?;
        Ok(())
    }

    /// A hold on `seat` (counts are not touched: call `recount`).
    async fn hold(&self, seat: Uuid, booking: Uuid, status: &str) -> anyhow::Result<()> {
        let expires = (status == "LOCKED").then(|| self.now + TimeDelta::minutes(5));
        sqlx::query(
            "INSERT INTO seat_holds (seat_id, event_id, booking_id, status, lock_expires_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(seat)
        .bind(self.event)
        .bind(booking)
        .bind(status)
        .bind(expires)
        .execute(self.inventory())
        .await?;
        Ok(())
    }

    /// Sets `event_inventory`'s counts from `seat_holds`, as inventory-service keeps them.
    async fn recount(&self) -> anyhow::Result<()> {
        sqlx::query(
            "UPDATE event_inventory e SET
                 locked   = (SELECT count(*) FROM seat_holds h
                             WHERE h.event_id = e.event_id AND h.status = 'LOCKED'),
                 reserved = (SELECT count(*) FROM seat_holds h
                             WHERE h.event_id = e.event_id AND h.status = 'RESERVED')",
        )
        .execute(self.inventory())
        .await?;
        Ok(())
    }

    /// A payment in the shape payment-service writes it.
    async fn payment(&self, booking: Uuid, status: &str, amount: i64) -> anyhow::Result<String> {
        let at = bson_time(&self.now);
        let id = Uuid::new_v4().to_string();
        self.payments
            .insert(&PaymentDoc {
                id: id.clone(),
                booking_id: booking.to_string(),
                user_id: Uuid::new_v4().to_string(),
                amount_minor: amount,
                currency: "USD".to_owned(),
                status: status.to_owned(),
                reason: None,
                provider_ref: Some(format!("mock_{id}")),
                created_at: at,
                updated_at: at,
                processed_at: Some(at),
                refunded_at: (status == "REFUNDED").then_some(at),
                void: false,
                outbox: Vec::new(),
                outbox_pending_since: None,
            })
            .await?;
        Ok(id)
    }

    async fn set_payment(&self, booking: Uuid, set: mongodb::bson::Document) -> anyhow::Result<()> {
        let result = self
            .payments
            .database()
            .collection::<mongodb::bson::Document>("payments")
            .update_one(
                mongodb::bson::doc! {"booking_id": booking.to_string()},
                mongodb::bson::doc! {"$set": set},
            )
            .await?;
        anyhow::ensure!(result.matched_count == 1, "no payment for {booking}");
        Ok(())
    }

    async fn audit(&self) -> anyhow::Result<Vec<Violation>> {
        audit(&self.stores, self.now).await
    }

    async fn cleanup(self) -> anyhow::Result<()> {
        self.stores.bookings.close().await;
        self.stores.inventory.close().await;
        self.booking_db.cleanup().await?;
        self.inventory_db.cleanup().await?;
        self.payments_db.cleanup().await
    }
}

/// Asserts that the violations are exactly `expected` (rule, subject) pairs.
fn assert_only(violations: &[Violation], expected: &[(&str, String)]) {
    let got: Vec<(&str, String)> = violations
        .iter()
        .map(|v| (v.rule, v.subject.clone()))
        .collect();
    assert_eq!(got, expected, "violations: {violations:#?}");
}

#[tokio::test]
async fn a_consistent_saga_has_no_violations() -> anyhow::Result<()> {
    let world = World::new().await?;
    assert_only(&world.audit().await?, &[]);
    // Also strict (every grace elapsed): nothing is merely in flight here.
    assert_only(&audit(&world.stores, world.now + GRACE).await?, &[]);
    world.cleanup().await
}

#[tokio::test]
async fn a_reserved_seat_of_a_missing_or_unconfirmed_booking() -> anyhow::Result<()> {
    let world = World::new().await?;
    // A reservation for a booking that does not exist.
    world
        .hold(world.seats[5], Uuid::new_v4(), "RESERVED")
        .await?;
    // The PENDING booking (last changed long ago, so not in flight) had its lock turned into
    // a reservation without a confirmation.
    sqlx::query("UPDATE bookings SET updated_at = $2 WHERE id = $1")
        .bind(world.pending)
        .bind(world.now - TimeDelta::minutes(1))
        .execute(world.bookings())
        .await?;
    sqlx::query(
        "UPDATE seat_holds SET status = 'RESERVED', lock_expires_at = NULL WHERE seat_id = $1",
    )
    .bind(world.seats[3])
    .execute(world.inventory())
    .await?;
    world.recount().await?;
    let mut expected = vec![
        (
            "reserved-without-confirmed-booking",
            world.seats[3].to_string(),
        ),
        (
            "reserved-without-confirmed-booking",
            world.seats[5].to_string(),
        ),
    ];
    expected.sort();
    assert_only(&world.audit().await?, &expected);
    world.cleanup().await
}

#[tokio::test]
async fn a_confirmed_booking_with_a_seat_not_reserved() -> anyhow::Result<()> {
    let world = World::new().await?;
    sqlx::query(
        "UPDATE seat_holds SET status = 'LOCKED', lock_expires_at = now() + interval '5 minutes'
         WHERE seat_id = $1",
    )
    .bind(world.seats[1])
    .execute(world.inventory())
    .await?;
    world.recount().await?;
    let violations = world.audit().await?;
    assert_only(
        &violations,
        &[(
            "confirmed-booking-seats-not-reserved",
            world.confirmed.to_string(),
        )],
    );
    assert!(violations[0].detail.contains(&world.seats[1].to_string()));
    world.cleanup().await
}

#[tokio::test]
async fn a_confirmed_booking_without_a_successful_payment() -> anyhow::Result<()> {
    let world = World::new().await?;
    world
        .set_payment(world.confirmed, mongodb::bson::doc! {"status": "FAILED"})
        .await?;
    assert_only(
        &world.audit().await?,
        &[(
            "confirmed-without-one-success-payment",
            world.confirmed.to_string(),
        )],
    );
    world.cleanup().await
}

#[tokio::test]
async fn a_failed_booking_still_holding_a_seat() -> anyhow::Result<()> {
    let world = World::new().await?;
    world.hold(world.seats[2], world.failed, "LOCKED").await?;
    world.recount().await?;
    assert_only(
        &world.audit().await?,
        &[("ended-booking-holds-seats", world.failed.to_string())],
    );
    world.cleanup().await
}

#[tokio::test]
async fn a_failed_booking_still_charged() -> anyhow::Result<()> {
    let world = World::new().await?;
    world
        .set_payment(world.failed, mongodb::bson::doc! {"status": "SUCCESS"})
        .await?;
    assert_only(
        &world.audit().await?,
        &[("ended-booking-charged", world.failed.to_string())],
    );
    world.cleanup().await
}

#[tokio::test]
async fn a_booking_pending_past_its_timeout_and_grace() -> anyhow::Result<()> {
    let world = World::new().await?;
    // Within the grace: the sweeper may not have run yet.
    sqlx::query("UPDATE bookings SET expires_at = $2 WHERE id = $1")
        .bind(world.pending)
        .bind(world.now - TimeDelta::seconds(10))
        .execute(world.bookings())
        .await?;
    assert_only(&world.audit().await?, &[]);
    sqlx::query("UPDATE bookings SET expires_at = $2 WHERE id = $1")
        .bind(world.pending)
        .bind(world.now - GRACE - TimeDelta::seconds(1))
        .execute(world.bookings())
        .await?;
    assert_only(
        &world.audit().await?,
        &[("pending-past-timeout", world.pending.to_string())],
    );
    world.cleanup().await
}

#[tokio::test]
async fn a_payment_for_a_booking_that_does_not_exist() -> anyhow::Result<()> {
    let world = World::new().await?;
    let orphan = world.payment(Uuid::new_v4(), "FAILED", PRICE_MINOR).await?;
    assert_only(
        &world.audit().await?,
        &[("payment-without-booking", orphan)],
    );
    world.cleanup().await
}

#[tokio::test]
async fn a_successful_payment_of_another_amount() -> anyhow::Result<()> {
    let world = World::new().await?;
    world
        .set_payment(
            world.confirmed,
            mongodb::bson::doc! {"amount_minor": 2 * PRICE_MINOR + 1},
        )
        .await?;
    let violations = world.audit().await?;
    assert_eq!(violations.len(), 1, "{violations:#?}");
    assert_eq!(violations[0].rule, "payment-amount-mismatch");
    assert!(violations[0].detail.contains("9001"), "{violations:#?}");
    world.cleanup().await
}

#[tokio::test]
async fn inventory_counts_that_drifted_from_the_holds() -> anyhow::Result<()> {
    let world = World::new().await?;
    sqlx::query("UPDATE event_inventory SET reserved = reserved - 1 WHERE event_id = $1")
        .bind(world.event)
        .execute(world.inventory())
        .await?;
    assert_only(
        &world.audit().await?,
        &[("inventory-counts-drift", world.event.to_string())],
    );
    world.cleanup().await
}

/// A booking that changed a moment ago may have the other services catching up: not
/// reported at `now`, reported once the grace is over (how the race tests ask "settled?").
#[tokio::test]
async fn a_saga_in_flight_is_reported_only_after_the_grace() -> anyhow::Result<()> {
    let world = World::new().await?;
    // Just confirmed; inventory has not reserved the seat yet.
    let booking = Uuid::new_v4();
    world
        .booking(booking, "CONFIRMED", &world.seats[6..7], world.now)
        .await?;
    world.hold(world.seats[6], booking, "LOCKED").await?;
    world.payment(booking, "SUCCESS", PRICE_MINOR).await?;
    world.recount().await?;
    assert_only(&world.audit().await?, &[]);
    assert_only(
        &audit(&world.stores, world.now + GRACE).await?,
        &[("confirmed-booking-seats-not-reserved", booking.to_string())],
    );
    world.cleanup().await
}

#[tokio::test]
async fn the_binary_exits_1_and_prints_the_rule() -> anyhow::Result<()> {
    let world = World::new().await?;
    world.hold(world.seats[2], world.failed, "LOCKED").await?;
    world.recount().await?;
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_ticketflow-audit"))
        .env("BOOKING_DB_URL", world.booking_db.url())
        .env("INVENTORY_DB_URL", world.inventory_db.url())
        .env("MONGODB_URL", world.payments_db.url())
        .env_remove("AUDIT_PAYMENTS_DB")
        .args(["--payments-db", world.payments_db.name()])
        .output()
        .await?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines[0].starts_with(&format!("ended-booking-holds-seats  {}  ", world.failed)),
        "{stdout}"
    );
    assert!(
        lines[1].contains("3 bookings, 4 seat holds, 1 event counts, 2 payments: 1 violations"),
        "{stdout}"
    );
    world.cleanup().await
}

#[tokio::test]
async fn the_binary_exits_0_when_clean_and_2_naming_a_store_it_cannot_read() -> anyhow::Result<()> {
    let world = World::new().await?;
    let run = |booking_url: String| {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_ticketflow-audit"));
        command
            .env("BOOKING_DB_URL", booking_url)
            .env("INVENTORY_DB_URL", world.inventory_db.url())
            .env("MONGODB_URL", world.payments_db.url())
            .env("AUDIT_PAYMENTS_DB", world.payments_db.name());
        command
    };
    let clean = run(world.booking_db.url().to_owned()).output().await?;
    assert_eq!(clean.status.code(), Some(0), "{clean:?}");

    // The inventory database has no `bookings` table: connected, but unreadable.
    let unreadable = run(world.inventory_db.url().to_owned()).output().await?;
    assert_eq!(unreadable.status.code(), Some(2), "{unreadable:?}");
    let stderr = String::from_utf8_lossy(&unreadable.stderr);
    assert!(stderr.contains("bookings store"), "{stderr}");
    world.cleanup().await
}
