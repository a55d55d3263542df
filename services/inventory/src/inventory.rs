//! The operations of inventory-service, called by the message handlers, the sweeper and the
//! routes. Every change of seat state commits together with its new version, its availability
//! message and its answer to the booking (both through the outbox).

use std::collections::{BTreeMap, HashMap, HashSet};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use ticketflow_common::kafka::messages::{
    BookingInitiated, EventCreated, SeatsAvailability, SeatsConfirm, SeatsLockFailed, SeatsLocked,
    SeatsRelease, SEATS_UNAVAILABLE,
};
use ticketflow_common::outbox;
use uuid::Uuid;

use crate::domain::layout::{self, MAX_SEATS};
use crate::domain::seat::{count_delta, SeatChange, SeatStatus};
use crate::error::InventoryError;
use crate::state::AppState;
use crate::store::seats::SeatMap;
use crate::store::{holds, seats};

/// Seats one booking may lock at once (booking-service allows far fewer); bounds the work a
/// single message can cause.
pub const MAX_SEATS_PER_LOCK: usize = 100;
/// Lapsed locks one sweep frees at most; the next sweep takes the rest.
const SWEEP_BATCH: i64 = 500;

/// What `booking.initiated` was answered with.
#[derive(Debug, Clone, PartialEq)]
pub enum LockAnswer {
    Locked {
        expires_at: DateTime<Utc>,
    },
    Failed {
        conflicting: Vec<Uuid>,
    },
    /// This very message was handled before: nothing done, nothing sent.
    AlreadyHandled,
}

/// Creates the seats of a new event, once per event.
pub async fn create_seats(state: &AppState, event: &EventCreated) -> Result<bool, InventoryError> {
    if event.total_seats > MAX_SEATS {
        return Err(InventoryError::Invalid(format!(
            "event {} wants {} seats, more than the layout's {MAX_SEATS}",
            event.event_id, event.total_seats
        )));
    }
    let planned = layout::plan(event.total_seats);
    let mut tx = state.db()?.begin().await?;
    let created = seats::create_event(&mut tx, event.event_id, &planned).await?;
    tx.commit().await?;
    if created {
        tracing::info!(event_id = %event.event_id, seats = planned.len(), "seats created");
    }
    Ok(created)
}

pub async fn seat_map(state: &AppState, event_id: Uuid) -> Result<Option<SeatMap>, InventoryError> {
    Ok(seats::seat_map(state.db()?, event_id).await?)
}

/// The seat map rendered by `render`, from the cache when the event's version has not moved
/// since it was rendered (the hottest read of a sale costs one key lookup then).
pub async fn seat_map_body<E>(
    state: &AppState,
    event_id: Uuid,
    render: impl FnOnce(Option<&SeatMap>) -> Result<Bytes, E>,
) -> Result<Bytes, InventoryError>
where
    E: Into<anyhow::Error>,
{
    let pool = state.db()?;
    if let Some(version) = seats::version(pool, event_id).await? {
        if let Some(body) = state.live.cached(event_id, version) {
            return Ok(body);
        }
    }
    let map = seats::seat_map(pool, event_id).await?;
    let body = render(map.as_ref()).map_err(Into::into)?;
    if let Some(map) = &map {
        state.live.store(event_id, map.version, body.clone());
    }
    Ok(body)
}

/// `booking.initiated`: all requested seats for the booking, or none. Redis turns most
/// conflicts away; PostgreSQL decides. The answer goes out through the outbox.
pub async fn lock(
    state: &AppState,
    message_id: Uuid,
    request: &BookingInitiated,
) -> Result<LockAnswer, InventoryError> {
    let pool = state.db()?;
    if already_processed(pool, message_id).await? {
        return Ok(LockAnswer::AlreadyHandled);
    }
    let repeated = repeated(&request.seat_ids);
    if request.seat_ids.is_empty()
        || request.seat_ids.len() > MAX_SEATS_PER_LOCK
        || !repeated.is_empty()
    {
        let conflicting = if repeated.is_empty() {
            request.seat_ids.clone()
        } else {
            repeated
        };
        return refuse(pool, message_id, request, conflicting, "request").await;
    }
    let (event_id, booking_id) = (request.event_id, request.booking_id);
    // Without Redis the gate is skipped, not the lock: PostgreSQL alone is still correct.
    let gate = match state.gate() {
        Ok(gate) => match gate
            .acquire(event_id, &request.seat_ids, booking_id, state.seat_lock_ttl)
            .await
        {
            Ok(Ok(())) => Some(gate),
            Ok(Err(conflicting)) => {
                return refuse(pool, message_id, request, conflicting, "redis").await
            }
            Err(err) => {
                tracing::warn!(error = %err, "Redis seat gate unavailable, locking in PostgreSQL alone");
                metrics::counter!("inventory_gate_bypassed_total").increment(1);
                None
            }
        },
        Err(_) => None,
    };
    let decided = lock_in_postgres(pool, message_id, request, state.seat_lock_ttl).await;
    let Some(gate) = gate else { return decided };
    let release_gate = match &decided {
        Ok(LockAnswer::Locked { .. } | LockAnswer::AlreadyHandled) => false,
        // PostgreSQL said no (or could not say): give the gate keys back at once rather than
        // leaving the seats shut until the TTL.
        Ok(LockAnswer::Failed { .. }) | Err(_) => true,
    };
    if release_gate {
        if let Err(err) = gate.release(event_id, &request.seat_ids, booking_id).await {
            tracing::warn!(error = %err, %booking_id, "could not release Redis seat keys; they lapse with their TTL");
        }
    }
    decided
}

/// The PostgreSQL half of [`lock`], usable alone: the constraint on `seat_holds`, not the
/// Redis gate, is what keeps two bookings off one seat.
pub async fn lock_in_postgres(
    pool: &PgPool,
    message_id: Uuid,
    request: &BookingInitiated,
    ttl: std::time::Duration,
) -> Result<LockAnswer, InventoryError> {
    let (event_id, booking_id) = (request.event_id, request.booking_id);
    let wanted = &request.seat_ids;
    let mut tx = pool.begin().await?;
    if !outbox::first_delivery(&mut tx, message_id).await? {
        tx.commit().await?;
        return Ok(LockAnswer::AlreadyHandled);
    }
    let labels: HashMap<Uuid, String> = seats::labels(&mut tx, event_id, wanted)
        .await?
        .into_iter()
        .collect();
    let unknown: Vec<Uuid> = wanted
        .iter()
        .filter(|id| !labels.contains_key(id))
        .copied()
        .collect();
    if !unknown.is_empty() {
        return answer_failed(tx, request, unknown, "unknown").await;
    }

    // Everything up to the decision can be undone without losing the ledger entry.
    let mut attempt = sqlx::Acquire::begin(&mut *tx).await?;
    let lapsed: HashSet<Uuid> = holds::free_lapsed(&mut attempt, wanted)
        .await?
        .into_iter()
        .collect();
    let (locked, mut expires_at) =
        holds::lock(&mut attempt, event_id, booking_id, wanted, ttl).await?;
    let locked_set: HashSet<Uuid> = locked.iter().copied().collect();
    let rest: Vec<Uuid> = wanted
        .iter()
        .filter(|id| !locked_set.contains(id))
        .copied()
        .collect();
    if !rest.is_empty() {
        // Held already: fine if by this booking (a repeated request), else a conflict.
        let (own, now) = holds::of_booking(&mut attempt, booking_id, &rest).await?;
        let own_live: HashSet<Uuid> = own
            .iter()
            .filter(|hold| hold.event_id == event_id && hold.is_live(now))
            .map(|hold| hold.seat_id)
            .collect();
        let conflicting: Vec<Uuid> = rest
            .iter()
            .filter(|id| !own_live.contains(id))
            .copied()
            .collect();
        if !conflicting.is_empty() {
            attempt.rollback().await?;
            return answer_failed(tx, request, conflicting, "postgres").await;
        }
        if let Some(earliest) = own.iter().filter_map(|hold| hold.lock_expires_at).min() {
            expires_at = expires_at.min(earliest);
        }
    }
    attempt.commit().await?;
    if !locked.is_empty() {
        let changes: Vec<SeatChange> = locked
            .iter()
            .map(|id| {
                // A lapsed lock of someone else's, freed just now, was still counted locked.
                let from = if lapsed.contains(id) {
                    SeatStatus::Locked
                } else {
                    SeatStatus::Available
                };
                SeatChange::new(*id, from, SeatStatus::Locked)
            })
            .collect();
        record_change(&mut tx, event_id, &changes).await?;
    }
    outbox::enqueue(
        &mut tx,
        SeatsLocked {
            booking_id,
            event_id,
            seat_ids: wanted.clone(),
            seat_labels: wanted
                .iter()
                .map(|id| labels.get(id).cloned().unwrap_or_default())
                .collect(),
            lock_expires_at: ticketflow_common::time::rfc3339(&expires_at),
        },
    )
    .await?;
    tx.commit().await?;
    metrics::counter!("inventory_lock_requests_total", "outcome" => "locked").increment(1);
    Ok(LockAnswer::Locked { expires_at })
}

/// `seats.confirm`: the booking's live locks become reservations, all of them or none. A
/// confirm that comes after any of its locks lapsed reserves nothing: those seats may be
/// someone else's by now.
pub async fn confirm(
    state: &AppState,
    message_id: Uuid,
    request: &SeatsConfirm,
) -> Result<usize, InventoryError> {
    let (event_id, booking_id) = (request.event_id, request.booking_id);
    let wanted = distinct(&request.seat_ids);
    let mut tx = state.db()?.begin().await?;
    if !outbox::first_delivery(&mut tx, message_id).await? {
        tx.commit().await?;
        return Ok(0);
    }
    let (held, now) = holds::of_booking(&mut tx, booking_id, &wanted).await?;
    let all_live = held.len() == wanted.len()
        && held
            .iter()
            .all(|hold| hold.event_id == event_id && hold.is_live(now));
    if !all_live {
        tx.commit().await?;
        metrics::counter!("inventory_late_confirms_total").increment(1);
        tracing::error!(
            %booking_id,
            requested = wanted.len(),
            held = held.len(),
            "seats.confirm for seats the booking no longer holds: nothing reserved"
        );
        return Ok(0);
    }
    let reserved = holds::reserve(&mut tx, booking_id, &wanted).await?;
    if !reserved.is_empty() {
        let changes: Vec<SeatChange> = reserved
            .iter()
            .map(|id| SeatChange::new(*id, SeatStatus::Locked, SeatStatus::Reserved))
            .collect();
        record_change(&mut tx, event_id, &changes).await?;
    }
    // The gate keys lapse with their TTL; after that PostgreSQL refuses the sold seats.
    tx.commit().await?;
    Ok(reserved.len())
}

/// `seats.release`: whatever the booking holds of these seats (all it holds if none are
/// named) becomes available again. Holds of other bookings are never touched.
pub async fn release(
    state: &AppState,
    message_id: Uuid,
    request: &SeatsRelease,
) -> Result<usize, InventoryError> {
    let booking_id = request.booking_id;
    let wanted = distinct(&request.seat_ids);
    let mut tx = state.db()?.begin().await?;
    if !outbox::first_delivery(&mut tx, message_id).await? {
        tx.commit().await?;
        return Ok(0);
    }
    let released = holds::release(&mut tx, booking_id, &wanted).await?;
    let mut changes: BTreeMap<Uuid, Vec<SeatChange>> = BTreeMap::new();
    let mut by_event: BTreeMap<Uuid, Vec<Uuid>> = BTreeMap::new();
    for hold in &released {
        let from = SeatStatus::parse(&hold.status).unwrap_or(SeatStatus::Locked);
        changes
            .entry(hold.event_id)
            .or_default()
            .push(SeatChange::new(hold.seat_id, from, SeatStatus::Available));
        by_event
            .entry(hold.event_id)
            .or_default()
            .push(hold.seat_id);
    }
    for (event_id, changes) in &changes {
        record_change(&mut tx, *event_id, changes).await?;
    }
    tx.commit().await?;
    by_event
        .entry(request.event_id)
        .or_default()
        .extend(&wanted);
    release_gate_keys(state, booking_id, &by_event).await;
    Ok(released.len())
}

/// Frees lapsed locks (one batch); returns how many.
pub async fn sweep(state: &AppState) -> Result<usize, InventoryError> {
    let mut tx = state.db()?.begin().await?;
    let lapsed = holds::sweep(&mut tx, SWEEP_BATCH).await?;
    if lapsed.is_empty() {
        tx.commit().await?;
        return Ok(0);
    }
    let mut by_event: BTreeMap<Uuid, Vec<SeatChange>> = BTreeMap::new();
    let mut by_booking: HashMap<Uuid, BTreeMap<Uuid, Vec<Uuid>>> = HashMap::new();
    for hold in &lapsed {
        by_event
            .entry(hold.event_id)
            .or_default()
            .push(SeatChange::new(
                hold.seat_id,
                SeatStatus::Locked,
                SeatStatus::Available,
            ));
        by_booking
            .entry(hold.booking_id)
            .or_default()
            .entry(hold.event_id)
            .or_default()
            .push(hold.seat_id);
    }
    for (event_id, changes) in &by_event {
        record_change(&mut tx, *event_id, changes).await?;
    }
    tx.commit().await?;
    for (booking_id, seats) in &by_booking {
        release_gate_keys(state, *booking_id, seats).await;
    }
    metrics::counter!("inventory_locks_lapsed_total").increment(lapsed.len() as u64);
    tracing::info!(seats = lapsed.len(), "lapsed seat locks freed");
    Ok(lapsed.len())
}

/// Moves the event's version on (which is how live streams and the seat map cache learn of
/// the change) and, with this transaction, publishes its availability.
async fn record_change(
    conn: &mut PgConnection,
    event_id: Uuid,
    changes: &[SeatChange],
) -> Result<i64, InventoryError> {
    let (version, counts) = holds::next_version(conn, event_id, count_delta(changes)).await?;
    outbox::enqueue(
        conn,
        SeatsAvailability {
            event_id,
            total: counts.total,
            available: counts.available(),
            locked: counts.locked,
            reserved: counts.reserved,
            version,
        },
    )
    .await?;
    Ok(version)
}

/// Answers `seats.lock-failed` (unless this message was answered before).
async fn refuse(
    pool: &PgPool,
    message_id: Uuid,
    request: &BookingInitiated,
    conflicting: Vec<Uuid>,
    decided_by: &'static str,
) -> Result<LockAnswer, InventoryError> {
    let mut tx = pool.begin().await?;
    if !outbox::first_delivery(&mut tx, message_id).await? {
        tx.commit().await?;
        return Ok(LockAnswer::AlreadyHandled);
    }
    answer_failed(tx, request, conflicting, decided_by).await
}

async fn answer_failed(
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    request: &BookingInitiated,
    conflicting: Vec<Uuid>,
    decided_by: &'static str,
) -> Result<LockAnswer, InventoryError> {
    outbox::enqueue(
        &mut tx,
        SeatsLockFailed {
            booking_id: request.booking_id,
            event_id: request.event_id,
            reason: SEATS_UNAVAILABLE.to_owned(),
            conflicting_seat_ids: conflicting.clone(),
        },
    )
    .await?;
    tx.commit().await?;
    metrics::counter!("inventory_lock_requests_total", "outcome" => "refused", "decided_by" => decided_by)
        .increment(1);
    Ok(LockAnswer::Failed { conflicting })
}

async fn already_processed(pool: &PgPool, message_id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM processed_messages WHERE message_id = $1)")
        .bind(message_id)
        .fetch_one(pool)
        .await
}

async fn release_gate_keys(state: &AppState, booking_id: Uuid, seats: &BTreeMap<Uuid, Vec<Uuid>>) {
    let Ok(gate) = state.gate() else { return };
    for (event_id, seat_ids) in seats {
        if let Err(err) = gate
            .release(*event_id, &distinct(seat_ids), booking_id)
            .await
        {
            tracing::warn!(error = %err, %booking_id, "could not release Redis seat keys; they lapse with their TTL");
        }
    }
}

/// Ids that appear more than once, each once, in order of first repeat.
fn repeated(ids: &[Uuid]) -> Vec<Uuid> {
    let mut seen = HashSet::new();
    let mut repeated = Vec::new();
    for id in ids {
        if !seen.insert(*id) && !repeated.contains(id) {
            repeated.push(*id);
        }
    }
    repeated
}

fn distinct(ids: &[Uuid]) -> Vec<Uuid> {
    let mut seen = HashSet::new();
    ids.iter().filter(|id| seen.insert(**id)).copied().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_lists_each_duplicate_once() {
        let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        assert_eq!(repeated(&[a, b, a, c, a, b]), vec![a, b]);
        assert!(repeated(&[a, b, c]).is_empty());
        assert_eq!(distinct(&[a, b, a, c, b]), vec![a, b, c]);
    }
}
