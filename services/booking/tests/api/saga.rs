//! The saga as booking-service plays it, with inventory and payment played by the test.

use std::time::Duration;

use reqwest::Method;
use reqwest::StatusCode;
use ticketflow_common::kafka::messages::{
    PaymentProcessed, SeatsLockFailed, SeatsLocked, PAYMENT_FAILED, PAYMENT_SUCCESS,
};
use ticketflow_common::kafka::topics;
use uuid::Uuid;

use crate::support::{expect, id_of, start, start_with, uuid_of, Booking, User};

fn locked(booking_id: Uuid, event_id: Uuid, seats: &[Uuid]) -> SeatsLocked {
    SeatsLocked {
        booking_id,
        event_id,
        seat_ids: seats.to_vec(),
        seat_labels: (1..=seats.len()).map(|n| format!("C{n}")).collect(),
        lock_expires_at: "2030-01-01T00:00:00.000Z".into(),
    }
}

fn paid(booking_id: Uuid, success: bool) -> PaymentProcessed {
    PaymentProcessed {
        booking_id,
        payment_id: Uuid::new_v4(),
        status: if success {
            PAYMENT_SUCCESS
        } else {
            PAYMENT_FAILED
        }
        .into(),
        amount: 2998.0,
        currency: "INR".into(),
        reason: (!success).then(|| "Card declined".into()),
    }
}

/// A booking of two seats, accepted: `(user, event, seats, booking body)`.
async fn accepted(booking: &Booking) -> anyhow::Result<(User, Uuid, Vec<Uuid>, serde_json::Value)> {
    let user = User::new();
    let event_id = booking.add_event(30, 1499.0);
    let seats = vec![Uuid::new_v4(), Uuid::new_v4()];
    let (status, body) = booking.book(&user, event_id, &seats).await?;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    Ok((user, event_id, seats, body))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepted_then_locked_then_paid_is_confirmed() -> anyhow::Result<()> {
    let booking = start().await?;
    let watcher = booking.watch(&[topics::BOOKING_INITIATED, topics::PAYMENT_REQUESTED])?;
    let confirmations = booking.watch(&[topics::BOOKING_CONFIRMED])?;
    let seat_confirms = booking.watch(&[topics::SEATS_CONFIRM])?;
    let user = User::new();
    let event_id = booking.add_event(30, 1499.0);
    let seats = vec![Uuid::new_v4(), Uuid::new_v4()];
    // The client's name and amount are ignored.
    let (status, created) = booking
        .call(
            Method::POST,
            "/api/bookings",
            Some(&user),
            Some(&serde_json::json!({"eventId": event_id, "seatIds": seats,
                                     "eventName": "Free Show", "totalAmount": 1})),
            &[],
        )
        .await?;
    assert_eq!(status, StatusCode::ACCEPTED, "{created}");
    let id = id_of(&created);
    assert_eq!(created["bookingId"], id.as_str());
    assert_eq!(created["status"], "PENDING");
    assert_eq!(created["eventName"], "Monsoon Jazz");
    assert_eq!(created["venueName"], "Blue Frog");
    assert_eq!(created["totalAmount"], 2998.0);
    assert!(created["createdAt"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));
    // Readable at once.
    let (status, read) = booking.get(&user, &id).await?;
    assert_eq!(
        (status, &read["status"]),
        (StatusCode::OK, &"PENDING".into())
    );

    let initiated = expect(&watcher, "booking.initiated", &id).await?;
    assert_eq!(initiated.payload["totalAmount"], 2998.0);
    assert_eq!(initiated.payload["userEmail"], user.email.as_str());
    assert_eq!(initiated.payload["eventName"], "Monsoon Jazz");

    let booking_id = uuid_of(&created);
    booking.send(locked(booking_id, event_id, &seats)).await?;
    let requested = expect(&watcher, "payment.requested", &id).await?;
    assert_eq!(requested.payload["amount"], 2998.0);
    assert_eq!(requested.payload["userId"], user.id.to_string());
    let waiting = booking.wait_step(&user, &id, "AWAITING_PAYMENT").await?;
    assert_eq!(waiting["status"], "PENDING");
    assert_eq!(waiting["seatLabels"], serde_json::json!(["C1", "C2"]));

    let payment = paid(booking_id, true);
    let payment_id = payment.payment_id;
    booking.send(payment).await?;
    let confirmed = expect(&confirmations, "booking.confirmed", &id).await?;
    assert_eq!(
        confirmed.payload["seatLabels"],
        serde_json::json!(["C1", "C2"])
    );
    assert_eq!(confirmed.payload["venueName"], "Blue Frog");
    let confirm = expect(&seat_confirms, "seats.confirm", &id).await?;
    assert_eq!(confirm.payload["seatIds"].as_array().map(Vec::len), Some(2));
    let done = booking.wait_step(&user, &id, "CONFIRMED").await?;
    assert_eq!(done["status"], "CONFIRMED");
    assert_eq!(done["paymentId"], payment_id.to_string());
    assert!(done["confirmedAt"].as_str().is_some());
    booking.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seats_unavailable_or_payment_declined_fail_the_booking() -> anyhow::Result<()> {
    let booking = start().await?;
    // One watcher per topic: waiting on one must not skip past the other's messages.
    let watcher = booking.watch(&[topics::BOOKING_FAILED])?;
    let releases = booking.watch(&[topics::SEATS_RELEASE])?;

    let (user, event_id, seats, created) = accepted(&booking).await?;
    let id = id_of(&created);
    booking
        .send(SeatsLockFailed {
            booking_id: uuid_of(&created),
            event_id,
            reason: "SEATS_UNAVAILABLE".into(),
            conflicting_seat_ids: vec![seats[0]],
        })
        .await?;
    let failed = expect(&watcher, "booking.failed", &id).await?;
    assert_eq!(failed.payload["reason"], "SEATS_UNAVAILABLE");
    let body = booking.wait_step(&user, &id, "FAILED").await?;
    assert_eq!(
        (&body["status"], &body["failureReason"]),
        (&"FAILED".into(), &"SEATS_UNAVAILABLE".into())
    );

    let (user, event_id, seats, created) = accepted(&booking).await?;
    let id = id_of(&created);
    booking
        .send(locked(uuid_of(&created), event_id, &seats))
        .await?;
    booking.wait_step(&user, &id, "AWAITING_PAYMENT").await?;
    booking.send(paid(uuid_of(&created), false)).await?;
    let failed = expect(&watcher, "booking.failed", &id).await?;
    assert_eq!(failed.payload["reason"], "PAYMENT_FAILED");
    expect(&releases, "seats.release", &id).await?;
    let body = booking.wait_step(&user, &id, "FAILED").await?;
    assert_eq!(body["failureReason"], "PAYMENT_FAILED");
    booking.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_booking_times_out_and_a_late_lock_is_released() -> anyhow::Result<()> {
    let booking = start_with(|config| config.booking_timeout = Duration::from_millis(800)).await?;
    let watcher = booking.watch(&[topics::BOOKING_FAILED])?;
    let releases = booking.watch(&[topics::SEATS_RELEASE])?;
    let (user, event_id, seats, created) = accepted(&booking).await?;
    let id = id_of(&created);
    let failed = expect(&watcher, "booking.failed", &id).await?;
    assert_eq!(failed.payload["reason"], "TIMEOUT");
    expect(&releases, "seats.release", &id).await?;
    let body = booking.wait_step(&user, &id, "FAILED").await?;
    assert_eq!(body["failureReason"], "TIMEOUT");
    // The lock arrives after all: compensated, and the booking stays FAILED.
    booking
        .send(locked(uuid_of(&created), event_id, &seats))
        .await?;
    expect(&releases, "seats.release", &id).await?;
    let (_, body) = booking.get(&user, &id).await?;
    assert_eq!(body["status"], "FAILED");
    booking.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redelivered_saga_messages_change_nothing() -> anyhow::Result<()> {
    let booking = start().await?;
    let watcher = booking.watch(&[topics::PAYMENT_REQUESTED, topics::BOOKING_CONFIRMED])?;
    let (user, event_id, seats, created) = accepted(&booking).await?;
    let id = id_of(&created);
    let lock = booking
        .send(locked(uuid_of(&created), event_id, &seats))
        .await?;
    for _ in 0..3 {
        booking.resend(&lock).await?;
    }
    let payment = booking.send(paid(uuid_of(&created), true)).await?;
    for _ in 0..3 {
        booking.resend(&payment).await?;
    }
    booking.wait_step(&user, &id, "CONFIRMED").await?;
    let requested = watcher
        .collect(Duration::from_secs(3), |r| {
            r.payload["bookingId"] == id.as_str()
        })
        .await?;
    let count = |kind: &str| {
        requested
            .iter()
            .filter(|r| r.payload["eventType"] == kind)
            .count()
    };
    assert_eq!(count("payment.requested"), 1, "{requested:?}");
    assert_eq!(count("booking.confirmed"), 1, "{requested:?}");
    booking.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_follows_the_window_rule_and_only_the_owner_may() -> anyhow::Result<()> {
    let booking = start().await?;
    let watcher = booking.watch(&[topics::BOOKING_CANCELLED])?;
    let releases = booking.watch(&[topics::SEATS_RELEASE])?;

    // Confirmed, event in 30 days: cancellable by its owner only.
    let (user, event_id, seats, created) = accepted(&booking).await?;
    let id = id_of(&created);
    booking
        .send(locked(uuid_of(&created), event_id, &seats))
        .await?;
    booking.wait_step(&user, &id, "AWAITING_PAYMENT").await?;
    booking.send(paid(uuid_of(&created), true)).await?;
    booking.wait_step(&user, &id, "CONFIRMED").await?;
    let cancel = format!("/api/bookings/{id}/cancel");
    let stranger = User::new();
    let (status, body) = booking
        .call(Method::POST, &cancel, Some(&stranger), None, &[])
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"]["code"], "BOOKING_NOT_FOUND");
    let (status, body) = booking.get(&stranger, &id).await?;
    assert_eq!(
        (status, &body["error"]["code"]),
        (StatusCode::NOT_FOUND, &"BOOKING_NOT_FOUND".into())
    );
    let (status, body) = booking.get(&User::admin(), &id).await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = booking
        .call(Method::POST, &cancel, Some(&user), None, &[])
        .await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "CANCELLED");
    assert!(body["cancelledAt"].as_str().is_some());
    let cancelled = expect(&watcher, "booking.cancelled", &id).await?;
    assert_eq!(
        cancelled.payload["seatLabels"],
        serde_json::json!(["C1", "C2"])
    );
    expect(&releases, "seats.release", &id).await?;
    // Twice: not cancellable any more.
    let (status, body) = booking
        .call(Method::POST, &cancel, Some(&user), None, &[])
        .await?;
    assert_eq!(
        (status, &body["error"]["code"]),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            &"BOOKING_NOT_CANCELLABLE".into()
        )
    );

    // Confirmed, event in 12 hours: inside the 24-hour window.
    let soon = booking.add_event(0, 500.0);
    if let Ok(mut events) = booking.events.lock() {
        if let Some(event) = events.get_mut(&soon) {
            let date = ticketflow_common::time::now() + chrono::Duration::hours(12);
            event["date"] = ticketflow_common::time::rfc3339(&date).into();
        }
    }
    let (status, created) = booking.book(&user, soon, &[Uuid::new_v4()]).await?;
    assert_eq!(status, StatusCode::ACCEPTED, "{created}");
    let id = id_of(&created);
    booking
        .send(locked(uuid_of(&created), soon, &[Uuid::new_v4()]))
        .await?;
    booking.wait_step(&user, &id, "AWAITING_PAYMENT").await?;
    booking.send(paid(uuid_of(&created), true)).await?;
    booking.wait_step(&user, &id, "CONFIRMED").await?;
    let (status, body) = booking
        .call(
            Method::POST,
            &format!("/api/bookings/{id}/cancel"),
            Some(&user),
            None,
            &[],
        )
        .await?;
    assert_eq!(
        (status, &body["error"]["code"]),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            &"CANCELLATION_WINDOW_EXPIRED".into()
        )
    );
    // A pending booking may be cancelled whatever the date.
    let (status, created) = booking.book(&user, soon, &[Uuid::new_v4()]).await?;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (status, body) = booking
        .call(
            Method::POST,
            &format!("/api/bookings/{}/cancel", id_of(&created)),
            Some(&user),
            None,
            &[],
        )
        .await?;
    assert_eq!(
        (status, &body["status"]),
        (StatusCode::OK, &"CANCELLED".into())
    );
    booking.stop().await
}
