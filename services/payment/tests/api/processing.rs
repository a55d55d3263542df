//! `payment.requested` → one charge per booking, whatever is redelivered or repeated.

use std::time::Duration;

use serde_json::json;
use ticketflow_common::kafka::messages::PaymentRequested;
use ticketflow_common::kafka::topics;
use ticketflow_payment::provider::DECLINED;
use ticketflow_testkit::eventually;

use crate::support::{next_processed, request, start, Payment, WAIT};

async fn outbox_cleared(payment: &Payment, booking: &PaymentRequested) -> anyhow::Result<()> {
    let id = booking.booking_id.to_string();
    eventually(WAIT, "outbox cleared", || async {
        let doc = payment.store.by_booking(&id).await?;
        Ok(doc
            .filter(|d| d.outbox.is_empty() && d.outbox_pending_since.is_none())
            .map(|_| ()))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_one_charges_and_publishes_success() -> anyhow::Result<()> {
    let payment = start(1, |_| {}).await?;
    let watcher = payment.processed_watcher()?;
    let booking = request(1499.99);
    payment.publish(&booking).await?;

    let message = next_processed(&watcher, booking.booking_id).await?;
    let body = &message.payload;
    assert_eq!(body["eventType"], "payment.processed");
    assert_eq!(body["bookingId"], json!(booking.booking_id));
    assert_eq!(body["status"], "SUCCESS");
    assert_eq!(body["amount"], json!(1499.99));
    assert_eq!(body["currency"], "INR");
    assert!(body.get("reason").is_none(), "{body}");

    let stored = payment.wait_payment(booking.booking_id).await?;
    assert_eq!(body["paymentId"], json!(stored.id));
    assert_eq!(stored.status, "SUCCESS");
    assert_eq!(stored.amount_minor, 149_999);
    assert_eq!(stored.user_id, booking.user_id.to_string());
    assert!(stored
        .provider_ref
        .as_deref()
        .is_some_and(|r| r.starts_with("mock_txn_")));
    assert!(stored.processed_at.is_some());
    outbox_cleared(&payment, &booking).await?;
    payment.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_zero_fails_with_a_reason() -> anyhow::Result<()> {
    let payment = start(1, |c| c.success_rate = 0.0).await?;
    let watcher = payment.processed_watcher()?;
    let booking = request(150.5);
    payment.publish(&booking).await?;

    let message = next_processed(&watcher, booking.booking_id).await?;
    assert_eq!(message.payload["status"], "FAILED");
    assert_eq!(message.payload["reason"], DECLINED);
    let stored = payment.wait_payment(booking.booking_id).await?;
    assert_eq!(stored.status, "FAILED");
    assert_eq!(stored.reason.as_deref(), Some(DECLINED));
    assert_eq!(message.payload["paymentId"], json!(stored.id));
    payment.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redeliveries_and_repeats_never_charge_twice() -> anyhow::Result<()> {
    // Half the charges fail: a second charge would show as a second document or a differing
    // outcome.
    let payment = start(1, |c| c.success_rate = 0.5).await?;
    let watcher = payment.processed_watcher()?;
    let booking = request(300.0);
    let key = booking.booking_id.to_string();
    let envelope = payment.publish(&booking).await?;
    let first = next_processed(&watcher, booking.booking_id).await?;

    for _ in 0..5 {
        payment.redeliver(&envelope, &key).await?;
    }
    // The same request again under a new messageId.
    payment.publish(&booking).await?;
    let mut answers = vec![first];
    for _ in 0..6 {
        answers.push(next_processed(&watcher, booking.booking_id).await?);
    }
    let stored = payment.wait_payment(booking.booking_id).await?;
    for answer in &answers {
        assert_eq!(answer.payload["paymentId"], json!(stored.id), "{answer:?}");
        assert_eq!(answer.payload["status"], json!(stored.status), "{answer:?}");
    }
    assert_eq!(payment.count(booking.booking_id).await?, 1);
    payment.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_requests_on_two_instances_make_one_payment() -> anyhow::Result<()> {
    let payment = start(2, |c| {
        c.success_rate = 0.5;
        c.delay = Duration::from_millis(30);
    })
    .await?;
    let watcher = payment.processed_watcher()?;
    let booking = request(99.0);
    // Twenty requests with their own messageIds; their keys spread them over every
    // partition, so both instances handle some at the same time (the handler reads the booking
    // from the payload, never the key).
    let mut sends = Vec::new();
    for i in 0..20 {
        let envelope = ticketflow_common::kafka::Envelope::new(booking.clone());
        let bytes = serde_json::to_vec(&envelope)?;
        let producer = payment.producer.clone();
        let key = format!("{}-{i}", booking.booking_id);
        sends.push(async move {
            producer
                .send_raw(topics::PAYMENT_REQUESTED, Some(&key), &bytes, &[])
                .await
        });
    }
    for sent in futures::future::join_all(sends).await {
        sent?;
    }
    let mut answers = Vec::new();
    for _ in 0..20 {
        answers.push(next_processed(&watcher, booking.booking_id).await?);
    }
    let stored = payment.wait_payment(booking.booking_id).await?;
    assert_eq!(payment.count(booking.booking_id).await?, 1);
    for answer in &answers {
        assert_eq!(answer.payload["paymentId"], json!(stored.id));
        assert_eq!(answer.payload["status"], json!(stored.status));
    }
    payment.stop().await
}
