//! The live seat stream, straight from the service (through the gateway: `crates/e2e`).

use std::time::Duration;

use reqwest::StatusCode;
use ticketflow_common::kafka::topics;
use uuid::Uuid;

use crate::support::{answer, initiated, start_with, SseReader};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_then_every_seat_change_from_either_instance() -> anyhow::Result<()> {
    let inventory = start_with(2, |config| {
        config.stream_heartbeat = Duration::from_millis(300);
    })
    .await?;
    let (event_id, seats) = inventory.new_event(10).await?;
    let watcher = inventory.watch(&[topics::SEATS_LOCKED, topics::SEATS_LOCK_FAILED])?;
    let path = format!("/api/inventory/events/{event_id}/seats/stream");
    let response = inventory.client.get(inventory.url(&path)).send().await?;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    let mut stream = SseReader::new(response);
    let snapshot = stream.next(Duration::from_secs(5)).await?;
    assert_eq!(snapshot.event, "snapshot");
    assert_eq!(snapshot.data, inventory.seat_map(event_id).await?);
    assert_eq!(snapshot.id, "0");

    // A lock made through Kafka: whichever instance handles it, this stream (on instance 0)
    // hears of it.
    let booking = Uuid::new_v4();
    inventory
        .send(initiated(booking, event_id, &[seats[3], seats[4]]))
        .await?;
    assert_eq!(
        answer(&watcher, booking).await?.payload["eventType"],
        "seats.locked"
    );
    let mut changed = Vec::new();
    for _ in 0..2 {
        let event = stream.next(Duration::from_secs(5)).await?;
        assert_eq!(event.event, "seat");
        assert_eq!(event.data["status"], "LOCKED");
        assert_eq!(event.data["version"], 1);
        assert_eq!(event.id, "1");
        changed.push(event.data["seatId"].as_str().unwrap_or_default().to_owned());
    }
    changed.sort();
    let mut expected = vec![seats[3].to_string(), seats[4].to_string()];
    expected.sort();
    assert_eq!(changed, expected);
    // Idle: heartbeats (comment lines) keep it open.
    let quiet = stream.next(Duration::from_millis(1000)).await;
    assert!(quiet.is_err(), "no change, no event: {quiet:?}");
    assert!(stream.comments >= 1, "no heartbeat");
    inventory.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_per_client_are_bounded() -> anyhow::Result<()> {
    // Quick heartbeats: a write is how the server notices a client has gone.
    let inventory = start_with(1, |config| {
        config.streams_per_client = 2;
        config.stream_heartbeat = Duration::from_millis(200);
    })
    .await?;
    let path = format!("/api/inventory/events/{}/seats/stream", Uuid::new_v4());
    let open = |client: &str| {
        inventory
            .client
            .get(inventory.url(&path))
            .header("x-forwarded-for", client)
            .send()
    };
    let first = open("198.51.100.7").await?;
    let second = open("198.51.100.7").await?;
    assert_eq!(
        (first.status(), second.status()),
        (StatusCode::OK, StatusCode::OK)
    );
    let third = open("198.51.100.7").await?;
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(third.headers().contains_key("retry-after"));
    let body: serde_json::Value = third.json().await?;
    assert_eq!(body["error"]["code"], "RATE_LIMITED");
    // Another client is not affected; closing a stream frees its slot.
    assert_eq!(open("198.51.100.8").await?.status(), StatusCode::OK);
    drop(first);
    ticketflow_testkit::eventually(Duration::from_secs(5), "the slot to be freed", || async {
        let again = open("198.51.100.7").await?;
        Ok((again.status() == StatusCode::OK).then_some(()))
    })
    .await?;
    drop(second);
    inventory.stop().await
}
