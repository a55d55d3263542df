//! The `event_inventory` and `seats` tables: an event's layout and its seat map.

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::layout::PlannedSeat;
use crate::domain::seat::{SeatStatus, Section};

/// One seat as the seat map shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatRow {
    pub id: Uuid,
    pub section: Section,
    pub row: String,
    pub number: i32,
    pub status: SeatStatus,
}

/// An event's seats in layout order, as of `version`.
#[derive(Debug, Clone)]
pub struct SeatMap {
    pub version: i64,
    pub seats: Vec<SeatRow>,
}

/// Creates the event's inventory and its seats, once: `false` if it already existed.
pub async fn create_event(
    conn: &mut PgConnection,
    event_id: Uuid,
    seats: &[PlannedSeat],
) -> Result<bool, sqlx::Error> {
    let total = i32::try_from(seats.len()).map_err(|e| sqlx::Error::Encode(e.into()))?;
    let created = sqlx::query(
        "INSERT INTO event_inventory (event_id, total) VALUES ($1, $2)
         ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(event_id)
    .bind(total)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if !created {
        return Ok(false);
    }
    let ids: Vec<Uuid> = seats.iter().map(|_| Uuid::new_v4()).collect();
    let positions: Vec<i32> = seats
        .iter()
        .map(|s| i32::try_from(s.position).unwrap_or(i32::MAX))
        .collect();
    let sections: Vec<&str> = seats.iter().map(|s| s.section.as_str()).collect();
    let rows: Vec<&str> = seats.iter().map(|s| s.row.as_str()).collect();
    let numbers: Vec<i32> = seats
        .iter()
        .map(|s| i32::try_from(s.number).unwrap_or(i32::MAX))
        .collect();
    sqlx::query(
        "INSERT INTO seats (id, event_id, position, section, row_label, seat_number)
         SELECT id, $2, position, section, row_label, seat_number
         FROM UNNEST($1::uuid[], $3::int[], $4::text[], $5::text[], $6::int[])
              AS t (id, position, section, row_label, seat_number)",
    )
    .bind(&ids)
    .bind(event_id)
    .bind(&positions)
    .bind(&sections)
    .bind(&rows)
    .bind(&numbers)
    .execute(&mut *conn)
    .await?;
    Ok(true)
}

#[derive(sqlx::FromRow)]
struct MapRow {
    version: i64,
    id: Option<Uuid>,
    section: Option<String>,
    row_label: Option<String>,
    seat_number: Option<i32>,
    status: Option<String>,
}

/// The seat map of `event_id` in one query (one snapshot: the seats agree with the version);
/// `None` for an event this service has no seats for.
pub async fn seat_map(pool: &PgPool, event_id: Uuid) -> Result<Option<SeatMap>, sqlx::Error> {
    let rows: Vec<MapRow> = sqlx::query_as(
        "SELECT e.version, s.id, s.section, s.row_label, s.seat_number,
                COALESCE(h.status, 'AVAILABLE') AS status
         FROM event_inventory e
         LEFT JOIN seats s ON s.event_id = e.event_id
         LEFT JOIN seat_holds h ON h.seat_id = s.id
         WHERE e.event_id = $1
         ORDER BY s.position",
    )
    .bind(event_id)
    .fetch_all(pool)
    .await?;
    let Some(version) = rows.first().map(|row| row.version) else {
        return Ok(None);
    };
    let seats = rows
        .into_iter()
        .filter_map(|row| {
            let decoded = (|| {
                Some(SeatRow {
                    id: row.id?,
                    section: Section::parse(row.section.as_deref()?)?,
                    row: row.row_label?,
                    number: row.seat_number?,
                    status: SeatStatus::parse(row.status.as_deref()?)?,
                })
            })();
            decoded
        })
        .collect();
    Ok(Some(SeatMap { version, seats }))
}

/// `(event, version)` of those of `event_ids` this service has seats for.
pub async fn versions(pool: &PgPool, event_ids: &[Uuid]) -> Result<Vec<(Uuid, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT event_id, version FROM event_inventory WHERE event_id = ANY($1)")
        .bind(event_ids)
        .fetch_all(pool)
        .await
}

/// The seat map version of `event_id`, `None` for an unknown event.
pub async fn version(pool: &PgPool, event_id: Uuid) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT version FROM event_inventory WHERE event_id = $1")
        .bind(event_id)
        .fetch_optional(pool)
        .await
}

/// `(seat id, label)` of those `seat_ids` that are seats of `event_id`.
pub async fn labels(
    conn: &mut PgConnection,
    event_id: Uuid,
    seat_ids: &[Uuid],
) -> Result<Vec<(Uuid, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, row_label || seat_number::text FROM seats
         WHERE event_id = $1 AND id = ANY($2)",
    )
    .bind(event_id)
    .bind(seat_ids)
    .fetch_all(&mut *conn)
    .await
}
