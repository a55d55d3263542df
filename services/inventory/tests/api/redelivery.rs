//! Redelivered messages change nothing; a failure between the Redis and the SQL step leaves
//! no seat shut.

use std::time::Duration;

use ticketflow_common::kafka::messages::{SeatsConfirm, SeatsRelease};
use ticketflow_common::kafka::topics;
use uuid::Uuid;

use crate::support::{answer, for_booking, initiated, start, statuses};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redelivering_every_message_type_changes_nothing() -> anyhow::Result<()> {
    let inventory = start(1).await?;
    let (event_id, seats) = inventory.new_event(20).await?;
    let watcher = inventory.watch(&[topics::SEATS_LOCKED, topics::SEATS_LOCK_FAILED])?;
    let booking = Uuid::new_v4();
    let wanted = vec![seats[0], seats[1]];

    // booking.initiated, then the same message again, then a new request of the same
    // booking (same key, so same partition: handled after the redelivery).
    let first = inventory
        .send(initiated(booking, event_id, &wanted))
        .await?;
    let locked = answer(&watcher, booking).await?;
    assert_eq!(locked.payload["eventType"], "seats.locked");
    inventory.resend(&first).await?;
    let again = inventory
        .send(initiated(booking, event_id, &wanted))
        .await?;
    inventory.wait_handled(again.message_id).await?;
    let answers = watcher
        .collect(Duration::from_secs(2), |r| for_booking(r, booking))
        .await?;
    // The redelivery is not answered; the new request is answered `seats.locked` again,
    // with the same expiry (the lock was not extended).
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert_eq!(answers[0].payload["eventType"], "seats.locked");
    assert_eq!(
        answers[0].payload["lockExpiresAt"],
        locked.payload["lockExpiresAt"]
    );
    assert_eq!(inventory.version(event_id).await?, 1);

    // seats.confirm twice (same message), then a new confirm of the same booking.
    let confirm = SeatsConfirm {
        booking_id: booking,
        event_id,
        seat_ids: wanted.clone(),
    };
    let sent = inventory.send(confirm.clone()).await?;
    inventory.wait_handled(sent.message_id).await?;
    assert_eq!(inventory.version(event_id).await?, 2);
    inventory.resend(&sent).await?;
    let marker = inventory.send(confirm).await?;
    inventory.wait_handled(marker.message_id).await?;
    assert_eq!(inventory.version(event_id).await?, 2);
    let status = statuses(&inventory.seat_map(event_id).await?);
    assert_eq!(
        (&status[&seats[0]][..], &status[&seats[1]][..]),
        ("RESERVED", "RESERVED")
    );

    // seats.release, redelivered after another booking took one of the seats: the
    // redelivery must not free the newcomer's seat.
    let release = SeatsRelease {
        booking_id: booking,
        event_id,
        seat_ids: wanted.clone(),
    };
    let sent = inventory.send(release.clone()).await?;
    inventory.wait_handled(sent.message_id).await?;
    assert_eq!(inventory.version(event_id).await?, 3);
    let newcomer = Uuid::new_v4();
    inventory
        .send(initiated(newcomer, event_id, &[seats[0]]))
        .await?;
    assert_eq!(
        answer(&watcher, newcomer).await?.payload["eventType"],
        "seats.locked"
    );
    inventory.resend(&sent).await?;
    let marker = inventory.send(release).await?;
    inventory.wait_handled(marker.message_id).await?;
    assert_eq!(inventory.version(event_id).await?, 4);
    let holds = inventory.holds(event_id).await?;
    assert_eq!(holds, vec![(seats[0], newcomer, "LOCKED".to_owned())]);
    inventory.assert_counts_match_rows(event_id).await?;
    inventory.stop().await
}

/// PostgreSQL fails after the Redis gate let the booking through: the message is retried,
/// then dead-lettered, and the seats are not left shut (the gate keys are given back; at
/// worst they would lapse with their TTL).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_failing_after_the_gate_leaves_no_seat_shut() -> anyhow::Result<()> {
    let inventory = start(1).await?;
    let (event_id, seats) = inventory.new_event(10).await?;
    let unlucky = Uuid::new_v4();
    // A real failure inside the SQL step, for this booking only.
    sqlx::query(&format!(
        "CREATE FUNCTION fail_unlucky() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           IF NEW.booking_id = '{unlucky}' THEN RAISE EXCEPTION 'injected failure'; END IF;
           RETURN NEW;
         END $$"
    ))
    .execute(&inventory.pool)
    .await?;
    sqlx::query(
        "CREATE TRIGGER fail_unlucky BEFORE INSERT ON seat_holds
         FOR EACH ROW EXECUTE FUNCTION fail_unlucky()",
    )
    .execute(&inventory.pool)
    .await?;
    let dlt = inventory.watch(&["ticketflow.booking.initiated.DLT"])?;
    let watcher = inventory.watch(&[topics::SEATS_LOCKED, topics::SEATS_LOCK_FAILED])?;
    let wanted = vec![seats[2], seats[3]];
    inventory
        .send(initiated(unlucky, event_id, &wanted))
        .await?;
    let dead = dlt
        .expect(Duration::from_secs(30), |r| for_booking(r, unlucky))
        .await?;
    assert!(
        dead.header("x-dlt-error")
            .is_some_and(|e| e.contains("injected failure")),
        "{:?}",
        dead.headers
    );
    // Nothing held, nothing at the gate: the next booking gets the seats at once, long
    // before the 5-minute TTL.
    assert!(inventory.holds(event_id).await?.is_empty());
    for seat in &wanted {
        assert_eq!(inventory.gate_holder(event_id, *seat).await?, None);
    }
    let next = Uuid::new_v4();
    inventory.send(initiated(next, event_id, &wanted)).await?;
    assert_eq!(
        answer(&watcher, next).await?.payload["eventType"],
        "seats.locked"
    );
    inventory.stop().await
}
