//! The `bookings` table.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::saga::{Status, Step};

/// One booking as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Booking {
    pub id: Uuid,
    pub user_id: Uuid,
    pub user_email: String,
    pub event_id: Uuid,
    pub event_name: String,
    pub event_date: DateTime<Utc>,
    pub venue_name: String,
    pub seat_ids: Vec<Uuid>,
    pub seat_labels: Vec<String>,
    pub step: Step,
    pub total_minor: i64,
    pub currency: String,
    pub payment_id: Option<Uuid>,
    pub failure_reason: Option<String>,
    pub idempotency_key: Option<String>,
    pub request_hash: String,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
}

impl Booking {
    pub fn status(&self) -> Status {
        self.step.status()
    }
}

const COLUMNS: &str = "id, user_id, user_email, event_id, event_name, event_date, venue_name, \
    seat_ids, seat_labels, step, total_minor, currency, payment_id, failure_reason, \
    idempotency_key, request_hash, expires_at, created_at, updated_at, confirmed_at, cancelled_at";

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    user_id: Uuid,
    user_email: String,
    event_id: Uuid,
    event_name: String,
    event_date: DateTime<Utc>,
    venue_name: String,
    seat_ids: Vec<Uuid>,
    seat_labels: Vec<String>,
    step: String,
    total_minor: i64,
    currency: String,
    payment_id: Option<Uuid>,
    failure_reason: Option<String>,
    idempotency_key: Option<String>,
    request_hash: String,
    expires_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    confirmed_at: Option<DateTime<Utc>>,
    cancelled_at: Option<DateTime<Utc>>,
}

impl TryFrom<Row> for Booking {
    type Error = sqlx::Error;

    fn try_from(row: Row) -> Result<Self, Self::Error> {
        let step = Step::parse(&row.step).ok_or_else(|| {
            sqlx::Error::Decode(format!("unknown step {:?} of booking {}", row.step, row.id).into())
        })?;
        Ok(Self {
            id: row.id,
            user_id: row.user_id,
            user_email: row.user_email,
            event_id: row.event_id,
            event_name: row.event_name,
            event_date: row.event_date,
            venue_name: row.venue_name,
            seat_ids: row.seat_ids,
            seat_labels: row.seat_labels,
            step,
            total_minor: row.total_minor,
            currency: row.currency,
            payment_id: row.payment_id,
            failure_reason: row.failure_reason,
            idempotency_key: row.idempotency_key,
            request_hash: row.request_hash,
            expires_at: row.expires_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
            confirmed_at: row.confirmed_at,
            cancelled_at: row.cancelled_at,
        })
    }
}

/// Inserts `booking` unless the user already has one with its idempotency key: `false` then.
pub async fn insert(conn: &mut PgConnection, booking: &Booking) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO bookings (id, user_id, user_email, event_id, event_name, event_date,
             venue_name, seat_ids, seat_labels, step, total_minor, currency,
             idempotency_key, request_hash, expires_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16)
         ON CONFLICT (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING",
    )
    .bind(booking.id)
    .bind(booking.user_id)
    .bind(&booking.user_email)
    .bind(booking.event_id)
    .bind(&booking.event_name)
    .bind(booking.event_date)
    .bind(&booking.venue_name)
    .bind(&booking.seat_ids)
    .bind(&booking.seat_labels)
    .bind(booking.step.as_str())
    .bind(booking.total_minor)
    .bind(&booking.currency)
    .bind(&booking.idempotency_key)
    .bind(&booking.request_hash)
    .bind(booking.expires_at)
    .bind(booking.created_at)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

pub async fn find(pool: &PgPool, id: Uuid) -> Result<Option<Booking>, sqlx::Error> {
    sqlx::query_as::<_, Row>(&format!("SELECT {COLUMNS} FROM bookings WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await?
        .map(Booking::try_from)
        .transpose()
}

/// The booking, locked until the caller's transaction ends.
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> Result<Option<Booking>, sqlx::Error> {
    sqlx::query_as::<_, Row>(&format!(
        "SELECT {COLUMNS} FROM bookings WHERE id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .map(Booking::try_from)
    .transpose()
}

pub async fn find_by_key(
    conn: &mut PgConnection,
    user_id: Uuid,
    key: &str,
) -> Result<Option<Booking>, sqlx::Error> {
    sqlx::query_as::<_, Row>(&format!(
        "SELECT {COLUMNS} FROM bookings WHERE user_id = $1 AND idempotency_key = $2"
    ))
    .bind(user_id)
    .bind(key)
    .fetch_optional(&mut *conn)
    .await?
    .map(Booking::try_from)
    .transpose()
}

/// The user's bookings, newest first, at most `limit`.
pub async fn of_user(
    pool: &PgPool,
    user_id: Uuid,
    status: Option<Status>,
    limit: i64,
) -> Result<Vec<Booking>, sqlx::Error> {
    sqlx::query_as::<_, Row>(&format!(
        "SELECT {COLUMNS} FROM bookings
         WHERE user_id = $1 AND ($2::text IS NULL OR status = $2)
         ORDER BY created_at DESC, id DESC LIMIT $3"
    ))
    .bind(user_id)
    .bind(status.map(Status::as_str))
    .bind(limit)
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(Booking::try_from)
    .collect()
}

/// Writes what a transition changed.
pub async fn save(conn: &mut PgConnection, booking: &Booking) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE bookings SET step = $2, seat_labels = $3, payment_id = $4,
             failure_reason = $5, confirmed_at = $6, cancelled_at = $7, updated_at = now()
         WHERE id = $1",
    )
    .bind(booking.id)
    .bind(booking.step.as_str())
    .bind(&booking.seat_labels)
    .bind(booking.payment_id)
    .bind(&booking.failure_reason)
    .bind(booking.confirmed_at)
    .bind(booking.cancelled_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Ids of pending bookings past their deadline (rows another sweeper holds are skipped).
pub async fn timed_out(conn: &mut PgConnection, limit: i64) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM bookings WHERE status = 'PENDING' AND expires_at <= now()
         ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED",
    )
    .bind(limit)
    .fetch_all(&mut *conn)
    .await
}
