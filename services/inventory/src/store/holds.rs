//! The `seat_holds` table: which booking holds which seat, and until when. Its primary key
//! (`seat_id`) is the arbiter: a seat has at most one hold, so two bookings can never both
//! lock or both buy it, even if the Redis gate was bypassed or lost its keys.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::seat::{Counts, SeatStatus};

/// Removes lapsed locks among `seat_ids` (the sweeper would, a little later); returns them.
pub async fn free_lapsed(
    conn: &mut PgConnection,
    seat_ids: &[Uuid],
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "DELETE FROM seat_holds
         WHERE seat_id = ANY($1) AND status = 'LOCKED' AND lock_expires_at <= now()
         RETURNING seat_id",
    )
    .bind(seat_ids)
    .fetch_all(&mut *conn)
    .await
}

/// Locks every seat of `seat_ids` that has no hold yet for `booking_id` until now + `ttl`.
/// A seat someone else holds (or is taking, in a transaction not yet committed) is skipped:
/// the unique key makes this insert wait for that transaction and then conflict. Returns
/// the seats locked and their expiry (the database's clock, as the sweeper's).
pub async fn lock(
    conn: &mut PgConnection,
    event_id: Uuid,
    booking_id: Uuid,
    seat_ids: &[Uuid],
    ttl: Duration,
) -> Result<(Vec<Uuid>, DateTime<Utc>), sqlx::Error> {
    let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
    // Sorted, so two transactions always take overlapping seats in the same order (no
    // deadlock between them).
    let mut sorted = seat_ids.to_vec();
    sorted.sort_unstable();
    let expires_at: DateTime<Utc> =
        sqlx::query_scalar("SELECT now() + make_interval(secs => $1::float8 / 1000)")
            .bind(ttl_ms as f64)
            .fetch_one(&mut *conn)
            .await?;
    let locked = sqlx::query_scalar(
        "INSERT INTO seat_holds (seat_id, event_id, booking_id, status, lock_expires_at)
         SELECT seat_id, $2, $3, 'LOCKED', $4 FROM UNNEST($1::uuid[]) AS t (seat_id)
         ORDER BY seat_id
         ON CONFLICT (seat_id) DO NOTHING
         RETURNING seat_id",
    )
    .bind(&sorted)
    .bind(event_id)
    .bind(booking_id)
    .bind(expires_at)
    .fetch_all(&mut *conn)
    .await?;
    Ok((locked, expires_at))
}

/// One hold of a booking.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Hold {
    pub seat_id: Uuid,
    pub event_id: Uuid,
    pub status: String,
    pub lock_expires_at: Option<DateTime<Utc>>,
}

impl Hold {
    /// A lock that has not lapsed, or a reservation.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.status == SeatStatus::Reserved.as_str()
            || self.lock_expires_at.is_some_and(|at| at > now)
    }
}

/// The holds `booking_id` has on `seat_ids`, locked for the rest of the transaction.
pub async fn of_booking(
    conn: &mut PgConnection,
    booking_id: Uuid,
    seat_ids: &[Uuid],
) -> Result<(Vec<Hold>, DateTime<Utc>), sqlx::Error> {
    let holds = sqlx::query_as(
        "SELECT seat_id, event_id, status, lock_expires_at FROM seat_holds
         WHERE booking_id = $1 AND seat_id = ANY($2)
         ORDER BY seat_id
         FOR UPDATE",
    )
    .bind(booking_id)
    .bind(seat_ids)
    .fetch_all(&mut *conn)
    .await?;
    let now = sqlx::query_scalar("SELECT now()")
        .fetch_one(&mut *conn)
        .await?;
    Ok((holds, now))
}

/// Turns the booking's live locks on `seat_ids` into reservations; returns those changed.
pub async fn reserve(
    conn: &mut PgConnection,
    booking_id: Uuid,
    seat_ids: &[Uuid],
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE seat_holds SET status = 'RESERVED', lock_expires_at = NULL
         WHERE booking_id = $1 AND seat_id = ANY($2)
           AND status = 'LOCKED' AND lock_expires_at > now()
         RETURNING seat_id",
    )
    .bind(booking_id)
    .bind(seat_ids)
    .fetch_all(&mut *conn)
    .await
}

/// A hold a release removed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Released {
    pub seat_id: Uuid,
    pub event_id: Uuid,
    pub status: String,
}

/// Drops whatever `booking_id` holds among `seat_ids` (every hold it has when empty).
pub async fn release(
    conn: &mut PgConnection,
    booking_id: Uuid,
    seat_ids: &[Uuid],
) -> Result<Vec<Released>, sqlx::Error> {
    sqlx::query_as(
        "DELETE FROM seat_holds
         WHERE booking_id = $1 AND (cardinality($2::uuid[]) = 0 OR seat_id = ANY($2))
         RETURNING seat_id, event_id, status",
    )
    .bind(booking_id)
    .bind(seat_ids)
    .fetch_all(&mut *conn)
    .await
}

/// A lapsed lock the sweeper removed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Lapsed {
    pub seat_id: Uuid,
    pub event_id: Uuid,
    pub booking_id: Uuid,
}

/// Removes up to `limit` lapsed locks; rows another sweeper is taking are skipped.
pub async fn sweep(conn: &mut PgConnection, limit: i64) -> Result<Vec<Lapsed>, sqlx::Error> {
    sqlx::query_as(
        "DELETE FROM seat_holds WHERE seat_id IN (
             SELECT seat_id FROM seat_holds
             WHERE status = 'LOCKED' AND lock_expires_at <= now()
             ORDER BY lock_expires_at
             LIMIT $1
             FOR UPDATE SKIP LOCKED)
         RETURNING seat_id, event_id, booking_id",
    )
    .bind(limit)
    .fetch_all(&mut *conn)
    .await
}

/// Moves the event's version on by one and its counts by `(locked, reserved)`; returns the
/// new version and counts. The row lock taken here orders concurrent changes of one event
/// (every later change waits for this transaction), and the table's checks refuse counts
/// that would leave the seats' range.
pub async fn next_version(
    conn: &mut PgConnection,
    event_id: Uuid,
    (locked, reserved): (i64, i64),
) -> Result<(i64, Counts), sqlx::Error> {
    let (version, total, locked, reserved): (i64, i32, i32, i32) = sqlx::query_as(
        "UPDATE event_inventory
         SET version = version + 1, locked = locked + $2, reserved = reserved + $3
         WHERE event_id = $1
         RETURNING version, total, locked, reserved",
    )
    .bind(event_id)
    .bind(i32::try_from(locked).map_err(|e| sqlx::Error::Encode(e.into()))?)
    .bind(i32::try_from(reserved).map_err(|e| sqlx::Error::Encode(e.into()))?)
    .fetch_one(&mut *conn)
    .await?;
    Ok((
        version,
        Counts {
            total: i64::from(total),
            locked: i64::from(locked),
            reserved: i64::from(reserved),
        },
    ))
}
