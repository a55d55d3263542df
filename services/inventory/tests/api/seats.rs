//! Seats from `event.created`, and the seat map.

use std::time::Duration;

use reqwest::StatusCode;
use ticketflow_testkit::eventually;
use uuid::Uuid;

use crate::support::{event_created, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forty_seat_event_gets_vip_then_floor_in_layout_order() -> anyhow::Result<()> {
    let inventory = start(1).await?;
    let (event_id, _) = inventory.new_event(40).await?;
    let map = inventory.seat_map(event_id).await?;
    assert_eq!(map["eventId"], event_id.to_string());
    assert_eq!(map["total"], 40);
    assert_eq!(map["summary"]["available"], 40);
    assert_eq!(map["summary"]["locked"], 0);
    assert_eq!(map["summary"]["reserved"], 0);
    let seats = map["seats"].as_array().cloned().unwrap_or_default();
    let labels: Vec<String> = seats
        .iter()
        .map(|s| {
            format!(
                "{}{}",
                s["row"].as_str().unwrap_or_default(),
                s["seatNumber"].as_str().unwrap_or_default()
            )
        })
        .collect();
    let expected: Vec<String> = ["A", "B"]
        .iter()
        .flat_map(|row| (1..=10).map(move |n| format!("{row}{n}")))
        .chain((1..=15).map(|n| format!("C{n}")))
        .chain((1..=5).map(|n| format!("D{n}")))
        .collect();
    assert_eq!(labels, expected);
    for (index, seat) in seats.iter().enumerate() {
        let section = if index < 20 { "VIP" } else { "FLOOR" };
        assert_eq!(seat["section"], section, "{seat}");
        assert_eq!(seat["status"], "AVAILABLE");
        assert_eq!(seat["eventId"], event_id.to_string());
        assert!(seat["seatNumber"].is_string(), "{seat}");
        // Exactly the contract's fields: in particular, no holder.
        let mut keys: Vec<&str> = seat
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["eventId", "id", "row", "seatNumber", "section", "status"]
        );
    }
    inventory.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_800_seat_event_continues_with_general_rows() -> anyhow::Result<()> {
    let inventory = start(1).await?;
    let (event_id, _) = inventory.new_event(800).await?;
    let map = inventory.seat_map(event_id).await?;
    let seats = map["seats"].as_array().cloned().unwrap_or_default();
    assert_eq!(seats.len(), 800);
    let count = |section: &str| seats.iter().filter(|s| s["section"] == section).count();
    assert_eq!(
        (
            count("VIP"),
            count("FLOOR"),
            count("BALCONY"),
            count("GENERAL")
        ),
        (20, 60, 36, 684)
    );
    assert_eq!(
        (&seats[116]["row"], &seats[116]["seatNumber"]),
        (&"J".into(), &"1".into())
    );
    // Numeric order within a row: 1, 2, …, 10, not 1, 10, 2.
    assert_eq!(seats[9]["seatNumber"], "10");
    inventory.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivered_event_created_creates_nothing_twice() -> anyhow::Result<()> {
    let inventory = start(1).await?;
    let event_id = Uuid::new_v4();
    let envelope = inventory.send(event_created(event_id, 30)).await?;
    inventory.resend(&envelope).await?;
    // Another message (new messageId) for the same event, with another count.
    inventory.send(event_created(event_id, 50)).await?;
    // A later event, so we know the three before it were handled.
    let (marker, _) = inventory.new_event(5).await?;
    assert_eq!(inventory.seat_map(marker).await?["total"], 5);
    let map = inventory.seat_map(event_id).await?;
    assert_eq!(map["total"], 30);
    let seats: i64 = sqlx::query_scalar("SELECT count(*) FROM seats WHERE event_id = $1")
        .bind(event_id)
        .fetch_one(&inventory.pool)
        .await?;
    assert_eq!(seats, 30);
    inventory.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_events_have_no_seats_and_bad_ids_are_refused() -> anyhow::Result<()> {
    let inventory = start(1).await?;
    let (status, body) = inventory
        .get(&format!("/api/inventory/events/{}/seats", Uuid::new_v4()))
        .await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["seats"], serde_json::json!([]));
    assert_eq!(body["total"], 0);
    assert_eq!(body["summary"]["available"], 0);

    let (status, body) = inventory
        .get("/api/inventory/events/not-a-uuid/seats")
        .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "VALIDATION_ERROR");
    assert_eq!(body["error"]["details"][0]["field"], "eventId");
    inventory.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_seats_go_to_the_dead_letter_topic_and_the_next_event_is_served(
) -> anyhow::Result<()> {
    let inventory = start(1).await?;
    let dlt = inventory.watch(&["ticketflow.event.created.DLT"])?;
    let huge = Uuid::new_v4();
    inventory.send(event_created(huge, 10_001)).await?;
    let dead = dlt
        .expect(Duration::from_secs(20), |r| {
            r.payload["eventId"] == huge.to_string()
        })
        .await?;
    assert!(
        dead.header("x-dlt-error")
            .is_some_and(|e| e.contains("10001")),
        "{:?}",
        dead.headers
    );
    let (next, _) = inventory.new_event(3).await?;
    eventually(Duration::from_secs(5), "the next event's seats", || async {
        Ok((inventory.seat_map(next).await?["total"] == 3).then_some(()))
    })
    .await?;
    assert_eq!(inventory.seat_map(huge).await?["total"], 0);
    inventory.stop().await
}
