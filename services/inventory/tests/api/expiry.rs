//! Locks lapse: the sweeper frees them, and a late confirm reserves nothing.

use std::time::Duration;

use ticketflow_common::kafka::messages::SeatsConfirm;
use ticketflow_common::kafka::topics;
use ticketflow_testkit::eventually;
use uuid::Uuid;

use crate::support::{answer, initiated, start_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweeper_frees_lapsed_locks_and_a_late_confirm_reserves_nothing() -> anyhow::Result<()>
{
    let inventory = start_with(1, |config| {
        config.seat_lock_ttl = Duration::from_millis(1500);
        config.sweep_interval = Duration::from_millis(200);
    })
    .await?;
    let (event_id, seats) = inventory.new_event(10).await?;
    let watcher = inventory.watch(&[topics::SEATS_LOCKED, topics::SEATS_LOCK_FAILED])?;
    let availabilities = inventory.watch(&[topics::SEATS_AVAILABILITY])?;
    let booking = Uuid::new_v4();
    let wanted = vec![seats[0], seats[1]];
    inventory
        .send(initiated(booking, event_id, &wanted))
        .await?;
    assert_eq!(
        answer(&watcher, booking).await?.payload["eventType"],
        "seats.locked"
    );
    // Freed by the sweeper: rows gone, availability published, map shows them available.
    let freed = availabilities
        .expect(Duration::from_secs(15), |r| {
            r.payload["eventType"] == "seats.availability"
                && r.payload["eventId"] == event_id.to_string()
                && r.payload["version"] == 2
        })
        .await?;
    assert_eq!(
        (&freed.payload["available"], &freed.payload["locked"]),
        (&10.into(), &0.into())
    );
    assert!(inventory.holds(event_id).await?.is_empty());
    assert_eq!(
        inventory.seat_map(event_id).await?["summary"]["available"],
        10
    );
    inventory.assert_counts_match_rows(event_id).await?;

    // The confirm comes too late: nothing becomes RESERVED.
    let late = inventory
        .send(SeatsConfirm {
            booking_id: booking,
            event_id,
            seat_ids: wanted.clone(),
        })
        .await?;
    inventory.wait_handled(late.message_id).await?;
    assert!(inventory.holds(event_id).await?.is_empty());
    assert_eq!(inventory.version(event_id).await?, 2);
    inventory.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lapsed_lock_not_yet_swept_neither_confirms_nor_blocks() -> anyhow::Result<()> {
    // The sweeper effectively never runs: the lock lapses but its row stays.
    let inventory = start_with(1, |config| {
        config.seat_lock_ttl = Duration::from_millis(1000);
        config.sweep_interval = Duration::from_secs(60);
    })
    .await?;
    let (event_id, seats) = inventory.new_event(10).await?;
    let watcher = inventory.watch(&[topics::SEATS_LOCKED, topics::SEATS_LOCK_FAILED])?;
    let first = Uuid::new_v4();
    let wanted = vec![seats[4], seats[5]];
    inventory.send(initiated(first, event_id, &wanted)).await?;
    assert_eq!(
        answer(&watcher, first).await?.payload["eventType"],
        "seats.locked"
    );
    eventually(Duration::from_secs(10), "the lock to lapse", || async {
        let lapsed: bool = sqlx::query_scalar(
            "SELECT bool_and(lock_expires_at <= now()) FROM seat_holds WHERE event_id = $1",
        )
        .bind(event_id)
        .fetch_one(&inventory.pool)
        .await?;
        Ok(lapsed.then_some(()))
    })
    .await?;
    let late = inventory
        .send(SeatsConfirm {
            booking_id: first,
            event_id,
            seat_ids: wanted.clone(),
        })
        .await?;
    inventory.wait_handled(late.message_id).await?;
    let holds = inventory.holds(event_id).await?;
    assert!(
        holds.iter().all(|(_, _, status)| status == "LOCKED"),
        "{holds:?}"
    );
    // Another booking takes the lapsed seats (its lock replaces the stale rows).
    let second = Uuid::new_v4();
    inventory.send(initiated(second, event_id, &wanted)).await?;
    assert_eq!(
        answer(&watcher, second).await?.payload["eventType"],
        "seats.locked"
    );
    let holds = inventory.holds(event_id).await?;
    assert_eq!(holds.len(), 2);
    assert!(holds.iter().all(|(_, booking, _)| *booking == second));
    inventory.stop().await
}
