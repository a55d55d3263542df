//! The lock protocol: all or nothing, confirm, release, refusals, and contention.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use ticketflow_common::kafka::messages::{SeatsConfirm, SeatsRelease};
use ticketflow_common::kafka::topics;
use ticketflow_inventory::inventory::{lock_in_postgres, LockAnswer};
use uuid::Uuid;

use crate::support::{answer, initiated, start, statuses, uuids};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_confirm_and_release_move_only_the_bookings_seats() -> anyhow::Result<()> {
    let inventory = start(1).await?;
    let (event_id, seats) = inventory.new_event(40).await?;
    // Separate watchers: waiting on one topic must not skip past the other's messages.
    let watcher = inventory.watch(&[topics::SEATS_LOCKED, topics::SEATS_LOCK_FAILED])?;
    let availabilities = inventory.watch(&[topics::SEATS_AVAILABILITY])?;
    let booking = Uuid::new_v4();
    let wanted = vec![seats[6], seats[7]];
    inventory
        .send(initiated(booking, event_id, &wanted))
        .await?;
    let locked = answer(&watcher, booking).await?;
    assert_eq!(
        locked.payload["eventType"], "seats.locked",
        "{:?}",
        locked.payload
    );
    assert_eq!(locked.key.as_deref(), Some(booking.to_string().as_str()));
    assert_eq!(uuids(&locked.payload["seatIds"]), wanted);
    assert_eq!(
        locked.payload["seatLabels"],
        serde_json::json!(["A7", "A8"])
    );
    let expires = locked.payload["lockExpiresAt"].as_str().unwrap_or_default();
    let expires = chrono::DateTime::parse_from_rfc3339(expires)?;
    let ttl = expires.signed_duration_since(chrono::Utc::now());
    assert!(
        ttl > chrono::Duration::minutes(4) && ttl <= chrono::Duration::minutes(5),
        "{ttl}"
    );
    let map = inventory.seat_map(event_id).await?;
    assert_eq!(map["summary"]["locked"], 2);
    assert_eq!(map["summary"]["available"], 38);
    let status = statuses(&map);
    assert_eq!(status[&seats[6]], "LOCKED");
    assert_eq!(status[&seats[5]], "AVAILABLE");
    for seat in &wanted {
        assert_eq!(
            inventory.gate_holder(event_id, *seat).await?,
            Some(booking.to_string())
        );
    }
    let availability = availabilities
        .expect(Duration::from_secs(10), |r| {
            r.payload["eventType"] == "seats.availability"
                && r.payload["eventId"] == event_id.to_string()
        })
        .await?;
    assert_eq!(
        availability.key.as_deref(),
        Some(event_id.to_string().as_str())
    );
    assert_eq!(
        (
            &availability.payload["total"],
            &availability.payload["available"],
            &availability.payload["locked"],
            &availability.payload["reserved"],
            &availability.payload["version"],
        ),
        (&40.into(), &38.into(), &2.into(), &0.into(), &1.into())
    );

    // Another booking cannot release or confirm what this one holds.
    let stranger = Uuid::new_v4();
    inventory
        .send(SeatsRelease {
            booking_id: stranger,
            event_id,
            seat_ids: wanted.clone(),
        })
        .await?;
    inventory
        .send(SeatsConfirm {
            booking_id: stranger,
            event_id,
            seat_ids: wanted.clone(),
        })
        .await?;
    inventory
        .send(SeatsConfirm {
            booking_id: booking,
            event_id,
            seat_ids: wanted.clone(),
        })
        .await?;
    let reserved = availabilities
        .expect(Duration::from_secs(10), |r| {
            r.payload["eventType"] == "seats.availability"
                && r.payload["eventId"] == event_id.to_string()
                && r.payload["reserved"] == 2
        })
        .await?;
    assert_eq!(reserved.payload["locked"], 0);
    assert_eq!(
        reserved.payload["version"], 2,
        "the stranger's messages changed nothing"
    );
    let holds = inventory.holds(event_id).await?;
    assert_eq!(holds.len(), 2);
    assert!(holds
        .iter()
        .all(|(_, holder, status)| *holder == booking && status == "RESERVED"));

    // Release (a cancellation): back to AVAILABLE, Redis keys gone.
    inventory
        .send(SeatsRelease {
            booking_id: booking,
            event_id,
            seat_ids: wanted.clone(),
        })
        .await?;
    availabilities
        .expect(Duration::from_secs(10), |r| {
            r.payload["eventType"] == "seats.availability"
                && r.payload["eventId"] == event_id.to_string()
                && r.payload["available"] == 40
        })
        .await?;
    assert!(inventory.holds(event_id).await?.is_empty());
    for seat in &wanted {
        assert_eq!(inventory.gate_holder(event_id, *seat).await?, None);
    }
    inventory.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_unknown_or_repeated_seats_fail_the_whole_request() -> anyhow::Result<()> {
    let inventory = start(1).await?;
    let (event_id, seats) = inventory.new_event(10).await?;
    let (other_event, other_seats) = inventory.new_event(10).await?;
    let watcher = inventory.watch(&[topics::SEATS_LOCKED, topics::SEATS_LOCK_FAILED])?;
    let unknown = Uuid::new_v4();
    let cases = [
        (vec![seats[0], other_seats[0]], vec![other_seats[0]]),
        (vec![seats[1], unknown], vec![unknown]),
        (vec![seats[2], seats[3], seats[2]], vec![seats[2]]),
        (vec![], vec![]),
    ];
    for (wanted, conflicting) in cases {
        let booking = Uuid::new_v4();
        inventory
            .send(initiated(booking, event_id, &wanted))
            .await?;
        let failed = answer(&watcher, booking).await?;
        assert_eq!(
            failed.payload["eventType"], "seats.lock-failed",
            "{wanted:?}"
        );
        assert_eq!(failed.payload["reason"], "SEATS_UNAVAILABLE");
        assert_eq!(failed.payload["eventId"], event_id.to_string());
        assert_eq!(uuids(&failed.payload["conflictingSeatIds"]), conflicting);
    }
    // An event this service has never heard of: every seat conflicts.
    let booking = Uuid::new_v4();
    inventory
        .send(initiated(booking, Uuid::new_v4(), &[seats[4]]))
        .await?;
    let failed = answer(&watcher, booking).await?;
    assert_eq!(failed.payload["eventType"], "seats.lock-failed");
    assert_eq!(uuids(&failed.payload["conflictingSeatIds"]), vec![seats[4]]);
    // Nothing was locked by any of them, in PostgreSQL or at the gate.
    assert!(inventory.holds(event_id).await?.is_empty());
    assert!(inventory.holds(other_event).await?.is_empty());
    for seat in &seats {
        assert_eq!(inventory.gate_holder(event_id, *seat).await?, None);
    }
    inventory.stop().await
}

/// 200 bookings over overlapping seat sets, two instances consuming at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_racing_bookings_never_share_a_seat() -> anyhow::Result<()> {
    let inventory = start(2).await?;
    let (event_id, seats) = inventory.new_event(40).await?;
    let watcher = inventory.watch(&[topics::SEATS_LOCKED, topics::SEATS_LOCK_FAILED])?;
    // Booking i wants 1–4 seats from a window that slides over the first 30 seats, so
    // nearly every booking overlaps several others.
    let requests: Vec<(Uuid, Vec<Uuid>)> = (0..200)
        .map(|i: usize| {
            let start = (i * 7) % 27;
            let count = 1 + i % 4;
            (Uuid::new_v4(), seats[start..start + count].to_vec())
        })
        .collect();
    let sends = requests
        .iter()
        .map(|(booking, wanted)| inventory.send(initiated(*booking, event_id, wanted)));
    for sent in futures::future::join_all(sends).await {
        sent?;
    }
    let ours: HashSet<Uuid> = requests.iter().map(|(b, _)| *b).collect();
    let answers = watcher
        .collect(Duration::from_secs(30), |r| {
            r.payload["bookingId"]
                .as_str()
                .and_then(|b| Uuid::parse_str(b).ok())
                .is_some_and(|b| ours.contains(&b))
        })
        .await?;
    // Exactly one answer per booking.
    let mut by_booking: HashMap<Uuid, Vec<&serde_json::Value>> = HashMap::new();
    for received in &answers {
        let booking = Uuid::parse_str(received.payload["bookingId"].as_str().unwrap_or_default())?;
        by_booking
            .entry(booking)
            .or_default()
            .push(&received.payload);
    }
    assert_eq!(by_booking.len(), 200, "some bookings got no answer");
    assert!(
        by_booking.values().all(|answers| answers.len() == 1),
        "a booking was answered twice"
    );
    // The winners' seats are disjoint, and the rows agree with the answers exactly.
    let holds = inventory.holds(event_id).await?;
    let mut held: HashMap<Uuid, Uuid> = HashMap::new();
    for (seat, booking, status) in &holds {
        assert_eq!(status, "LOCKED");
        assert!(held.insert(*seat, *booking).is_none());
    }
    let mut claimed = HashSet::new();
    let mut winners = 0;
    for (booking, wanted) in &requests {
        let answer = by_booking[booking][0];
        if answer["eventType"] == "seats.locked" {
            winners += 1;
            for seat in wanted {
                assert!(claimed.insert(*seat), "seat {seat} locked by two bookings");
                assert_eq!(
                    held.get(seat),
                    Some(booking),
                    "row disagrees with the answer"
                );
            }
        } else {
            assert_eq!(answer["eventType"], "seats.lock-failed");
            let conflicting = uuids(&answer["conflictingSeatIds"]);
            assert!(!conflicting.is_empty());
            assert!(conflicting.iter().all(|seat| wanted.contains(seat)));
            assert!(wanted.iter().all(|seat| held.get(seat) != Some(booking)));
        }
    }
    assert_eq!(claimed.len(), holds.len(), "rows held by no winner");
    assert!(winners > 0);
    let map = inventory.seat_map(event_id).await?;
    assert_eq!(map["summary"]["locked"], holds.len());
    inventory.assert_counts_match_rows(event_id).await?;
    inventory.stop().await
}

/// The control: with the Redis gate left out entirely, PostgreSQL alone still refuses every
/// double hold, because a seat can have only one row in `seat_holds`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_redis_gate_postgres_alone_refuses_double_holds() -> anyhow::Result<()> {
    let inventory = start(1).await?;
    let (event_id, seats) = inventory.new_event(10).await?;
    let contested = vec![seats[0], seats[1]];
    let ttl = Duration::from_secs(60);
    let attempts: Vec<_> = (0..50)
        .map(|i| {
            let pool = inventory.pool.clone();
            // Half want both seats, half one of them: every pair overlaps.
            let wanted = if i % 2 == 0 {
                contested.clone()
            } else {
                vec![contested[i % 4 / 2]]
            };
            let request = crate::support::initiated(Uuid::new_v4(), event_id, &wanted);
            tokio::spawn(async move {
                let answer = lock_in_postgres(&pool, Uuid::new_v4(), &request, ttl).await;
                (request.booking_id, answer)
            })
        })
        .collect();
    let mut locked = Vec::new();
    for attempt in attempts {
        let (booking, answer) = attempt.await?;
        match answer? {
            LockAnswer::Locked { .. } => locked.push(booking),
            LockAnswer::Failed { conflicting } => assert!(!conflicting.is_empty()),
            LockAnswer::AlreadyHandled => anyhow::bail!("fresh message ids are never repeats"),
        }
    }
    let holds = inventory.holds(event_id).await?;
    let holders: HashSet<Uuid> = holds.iter().map(|(_, b, _)| *b).collect();
    assert!(!locked.is_empty());
    assert!(holds.len() <= 2);
    // Whoever won holds exactly what the answers say, and no seat has two holders.
    assert_eq!(holders, locked.iter().copied().collect());
    assert!(locked.len() <= 2);
    // And the table itself refuses a second hold even to a blunt INSERT.
    let (seat, _, _) = holds[0];
    let second = sqlx::query(
        "INSERT INTO seat_holds (seat_id, event_id, booking_id, status, lock_expires_at)
         VALUES ($1, $2, $3, 'LOCKED', now() + interval '1 minute')",
    )
    .bind(seat)
    .bind(event_id)
    .bind(Uuid::new_v4())
    .execute(&inventory.pool)
    .await;
    assert!(
        ticketflow_common::error::unique_violation(
            &second
                .err()
                .ok_or_else(|| anyhow::anyhow!("second hold accepted"))?
        )
        .is_some(),
        "refused by the key"
    );
    inventory.stop().await
}
