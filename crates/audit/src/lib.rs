//! The booking saga's invariants, checked across its three stores: booking-service's
//! `bookings` (PostgreSQL), inventory-service's `seat_holds` / `event_inventory` (PostgreSQL)
//! and payment-service's `payments` (MongoDB). `make audit` runs the binary; tests call
//! [`audit`] (or [`read`] + [`check`]) directly.
//!
//! Every store is read whole (an operator tool over modest stores) and the joins are done
//! here, in [`check`], a pure function of the [`Snapshot`].
//!
//! ## Reading a live fleet
//!
//! The stores are read one after the other, not in one snapshot: inventory first (its two
//! tables in one repeatable-read transaction, so counts and holds agree), then payments, then
//! bookings. Inventory and payment-service only ever act *after* booking-service changed a
//! booking, so reading bookings last means a booking is never older than what follows from it.
//!
//! The saga is choreographed: after a booking changes status, the other services catch up a
//! moment later (inventory reserves or releases the seats, payment-service refunds). To not
//! report sagas that are merely in flight, the rules about a booking's seats and payment
//! (`reserved-without-confirmed-booking` for an existing booking,
//! `confirmed-booking-seats-not-reserved`, `confirmed-without-one-success-payment`,
//! `ended-booking-holds-seats`, `ended-booking-charged`) skip a booking whose last change
//! (`updated_at`) is less than the grace ([`GRACE`], 30 s) before `now`, and
//! `pending-past-timeout` reports a booking only once `expires_at + grace` has passed (the
//! sweeper runs every `BOOKING_SWEEP_INTERVAL_MS`, 1 s by default).
//!
//! A test that wants every rule strict once the system has settled calls
//! `audit(&stores, Utc::now() + GRACE)`.

mod rules;

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use mongodb::bson::{doc, Bson, Document};
use mongodb::options::ClientOptions;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use uuid::Uuid;

pub use rules::{check, RULES};

/// How long a saga step may lag behind the booking's change (and a PENDING booking may outlive
/// its `expires_at`) before it is reported. See the crate documentation.
pub const GRACE: chrono::TimeDelta = chrono::TimeDelta::seconds(30);

/// payment-service's collection (`services/payment/src/store`).
pub const PAYMENTS_COLLECTION: &str = "payments";

/// payment-service's default database (its `MONGODB_DB` overrides it there).
pub const DEFAULT_PAYMENTS_DB: &str = "ticketflow_payments";

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The saga's stores.
#[derive(Clone)]
pub struct Stores {
    pub bookings: PgPool,
    pub inventory: PgPool,
    pub payments: mongodb::Database,
}

impl Stores {
    /// Connects to each store (failing within seconds, naming the store, when one is
    /// unreachable).
    pub async fn connect(
        booking_db_url: &str,
        inventory_db_url: &str,
        mongodb_url: &str,
        payments_db: &str,
    ) -> anyhow::Result<Self> {
        let bookings = pg_pool(booking_db_url)
            .await
            .context("connecting to the bookings store (booking-service PostgreSQL)")?;
        let inventory = pg_pool(inventory_db_url)
            .await
            .context("connecting to the inventory store (inventory-service PostgreSQL)")?;
        let payments = mongo_database(mongodb_url, payments_db)
            .await
            .with_context(|| {
                format!("connecting to the payments store (MongoDB database {payments_db})")
            })?;
        Ok(Self {
            bookings,
            inventory,
            payments,
        })
    }
}

async fn pg_pool(url: &str) -> anyhow::Result<PgPool> {
    let options: PgConnectOptions = url.parse().context("not a usable PostgreSQL URL")?;
    Ok(PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(CONNECT_TIMEOUT)
        .connect_with(options.options([("client_min_messages", "warning")]))
        .await?)
}

async fn mongo_database(url: &str, name: &str) -> anyhow::Result<mongodb::Database> {
    let mut options = ClientOptions::parse(url)
        .await
        .context("not a usable MongoDB URL")?;
    options.app_name = Some("ticketflow-audit".to_owned());
    options.server_selection_timeout = Some(CONNECT_TIMEOUT);
    options.connect_timeout = Some(CONNECT_TIMEOUT);
    let db = mongodb::Client::with_options(options)?.database(name);
    db.run_command(doc! {"ping": 1}).await?;
    Ok(db)
}

/// One violation of an invariant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// One of [`RULES`].
    pub rule: &'static str,
    /// What it is about: a booking, seat, payment or event id.
    pub subject: String,
    pub detail: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}  {}  {}", self.rule, self.subject, self.detail)
    }
}

/// A row of `bookings` (the columns the rules need).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Booking {
    pub id: Uuid,
    pub status: String,
    pub seat_ids: Vec<Uuid>,
    pub total_minor: i64,
    pub currency: String,
    pub expires_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A row of `seat_holds`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Hold {
    pub seat_id: Uuid,
    pub event_id: Uuid,
    pub booking_id: Uuid,
    pub status: String,
}

/// A row of `event_inventory` (its counts).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventCounts {
    pub event_id: Uuid,
    pub locked: i32,
    pub reserved: i32,
}

/// A document of `payments`, read leniently: a field that is missing or of another type is
/// `None` (and reported by the rule that needs it).
#[derive(Debug, Clone)]
pub struct Payment {
    pub id: String,
    pub booking_id: Option<String>,
    pub status: Option<String>,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
}

/// Everything the rules look at.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub bookings: Vec<Booking>,
    pub holds: Vec<Hold>,
    pub events: Vec<EventCounts>,
    pub payments: Vec<Payment>,
}

/// Checks every invariant at `now` with the default [`GRACE`].
pub async fn audit(stores: &Stores, now: DateTime<Utc>) -> anyhow::Result<Vec<Violation>> {
    Ok(check(&read(stores).await?, now, GRACE))
}

/// Reads the three stores (inventory, then payments, then bookings; see the crate
/// documentation). An error names the store that could not be read.
pub async fn read(stores: &Stores) -> anyhow::Result<Snapshot> {
    let (holds, events) = read_inventory(&stores.inventory)
        .await
        .context("reading the inventory store (seat_holds, event_inventory)")?;
    let payments = read_payments(&stores.payments)
        .await
        .context("reading the payments store (MongoDB collection payments)")?;
    let bookings = read_bookings(&stores.bookings)
        .await
        .context("reading the bookings store (bookings)")?;
    Ok(Snapshot {
        bookings,
        holds,
        events,
        payments,
    })
}

async fn read_inventory(pool: &PgPool) -> anyhow::Result<(Vec<Hold>, Vec<EventCounts>)> {
    let mut tx = pool.begin().await?;
    // One snapshot for both tables: the counts are compared with the holds.
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    let holds = sqlx::query_as::<_, Hold>(
        "SELECT seat_id, event_id, booking_id, status FROM seat_holds ORDER BY seat_id",
    )
    .fetch_all(&mut *tx)
    .await?;
    let events = sqlx::query_as::<_, EventCounts>(
        "SELECT event_id, locked, reserved FROM event_inventory ORDER BY event_id",
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((holds, events))
}

async fn read_bookings(pool: &PgPool) -> anyhow::Result<Vec<Booking>> {
    Ok(sqlx::query_as::<_, Booking>(
        "SELECT id, status, seat_ids, total_minor, currency, expires_at, updated_at
         FROM bookings ORDER BY id",
    )
    .fetch_all(pool)
    .await?)
}

async fn read_payments(db: &mongodb::Database) -> anyhow::Result<Vec<Payment>> {
    let projection =
        doc! {"_id": 1, "booking_id": 1, "status": 1, "amount_minor": 1, "currency": 1};
    let docs: Vec<Document> = db
        .collection::<Document>(PAYMENTS_COLLECTION)
        .find(doc! {})
        .projection(projection)
        .await?
        .try_collect()
        .await?;
    Ok(docs.iter().map(payment).collect())
}

fn payment(doc: &Document) -> Payment {
    let text = |key: &str| match doc.get(key) {
        Some(Bson::String(s)) => Some(s.clone()),
        _ => None,
    };
    let id = match doc.get("_id") {
        Some(Bson::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::from("(no _id)"),
    };
    let amount_minor = match doc.get("amount_minor") {
        Some(Bson::Int64(n)) => Some(*n),
        Some(Bson::Int32(n)) => Some(i64::from(*n)),
        _ => None,
    };
    Payment {
        id,
        booking_id: text("booking_id"),
        status: text("status"),
        amount_minor,
        currency: text("currency"),
    }
}

/// Groups `items` by `key` (a helper of the rules).
fn group<K, T>(items: &[T], key: impl Fn(&T) -> K) -> HashMap<K, Vec<&T>>
where
    K: std::hash::Hash + Eq,
{
    let mut map: HashMap<K, Vec<&T>> = HashMap::new();
    for item in items {
        map.entry(key(item)).or_default().push(item);
    }
    map
}
