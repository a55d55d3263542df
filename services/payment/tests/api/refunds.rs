//! `booking.failed` / `booking.cancelled`: refund a charged booking, void an unpaid one.

use serde_json::json;
use ticketflow_common::kafka::messages::{BookingCancelled, BookingFailed, PaymentRequested};
use ticketflow_payment::payments::VOID_REASON;
use ticketflow_testkit::eventually;
use uuid::Uuid;

use crate::support::{next_processed, request, start, WAIT};

fn failed(booking: &PaymentRequested) -> BookingFailed {
    BookingFailed {
        booking_id: booking.booking_id,
        user_id: booking.user_id,
        user_email: "someone@ticketflow.dev".to_owned(),
        event_id: Uuid::new_v4(),
        event_name: "A test event".to_owned(),
        reason: "TIMEOUT".to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn booking_failed_after_success_refunds_once() -> anyhow::Result<()> {
    let payment = start(1, |_| {}).await?;
    let watcher = payment.processed_watcher()?;
    let booking = request(200.0);
    payment.publish(&booking).await?;
    next_processed(&watcher, booking.booking_id).await?;
    let paid = payment.wait_payment(booking.booking_id).await?;
    assert_eq!(paid.status, "SUCCESS");

    let ending = payment.publish(&failed(&booking)).await?;
    let id = booking.booking_id.to_string();
    let refunded = eventually(WAIT, "refund", || async {
        Ok(payment
            .store
            .by_booking(&id)
            .await?
            .filter(|p| p.status == "REFUNDED"))
    })
    .await?;
    assert!(refunded.refunded_at.is_some());
    assert_eq!(refunded.id, paid.id);
    assert_eq!(refunded.provider_ref, paid.provider_ref);

    // Redelivered, then a marker on the same partition (same key, handled after it): once
    // the marker's booking is voided, the redelivery has been handled too.
    payment.redeliver(&ending, &id).await?;
    let marker = request(1.0);
    let mut marker_failed = failed(&marker);
    marker_failed.booking_id = marker.booking_id;
    let bytes = serde_json::to_vec(&ticketflow_common::kafka::Envelope::new(marker_failed))?;
    payment
        .producer
        .send_raw(
            ticketflow_common::kafka::topics::BOOKING_FAILED,
            Some(&id),
            &bytes,
            &[],
        )
        .await?;
    payment.wait_payment(marker.booking_id).await?;
    let after = payment.wait_payment(booking.booking_id).await?;
    assert_eq!(
        after, refunded,
        "a redelivered booking.failed changed the payment"
    );
    assert_eq!(payment.count(booking.booking_id).await?, 1);
    payment.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booking_cancelled_before_its_request_is_never_charged() -> anyhow::Result<()> {
    let payment = start(1, |_| {}).await?;
    let watcher = payment.processed_watcher()?;
    let booking = request(450.0);
    payment
        .publish(&BookingCancelled {
            booking_id: booking.booking_id,
            user_id: booking.user_id,
            user_email: "someone@ticketflow.dev".to_owned(),
            event_id: Uuid::new_v4(),
            event_name: "A test event".to_owned(),
            seat_ids: vec![Uuid::new_v4()],
            seat_labels: vec!["A1".to_owned()],
            total_amount: 450.0,
            currency: "INR".to_owned(),
        })
        .await?;
    let void = payment.wait_payment(booking.booking_id).await?;
    assert_eq!(void.status, "FAILED");
    assert_eq!(void.reason.as_deref(), Some(VOID_REASON));
    assert_eq!(void.provider_ref, None);

    // The late request is answered FAILED, with the void payment's id, and charges nothing.
    payment.publish(&booking).await?;
    let answer = next_processed(&watcher, booking.booking_id).await?;
    assert_eq!(answer.payload["status"], "FAILED");
    assert_eq!(answer.payload["paymentId"], json!(void.id));
    assert_eq!(answer.payload["reason"], VOID_REASON);
    assert_eq!(answer.payload["amount"], json!(450.0));
    let after = payment.wait_payment(booking.booking_id).await?;
    assert_eq!(after.status, "FAILED");
    assert_eq!(after.provider_ref, None);
    assert_eq!(payment.count(booking.booking_id).await?, 1);
    payment.stop().await
}
