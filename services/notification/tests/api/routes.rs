//! `GET /api/notifications/recent`, health, readiness and the API document.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use ticketflow_notification::notifications::bson_time;
use ticketflow_notification::store::{Metadata, NotificationDoc, SENT};
use uuid::Uuid;

use crate::support::start;

fn stored(user: Uuid, minutes_ago: i64) -> NotificationDoc {
    NotificationDoc {
        id: Uuid::new_v4().to_string(),
        message_id: Uuid::new_v4().to_string(),
        kind: "WELCOME".to_owned(),
        user_id: user.to_string(),
        booking_id: None,
        recipient_email: "someone@test.ticketflow.dev".to_owned(),
        subject: format!("mail from {minutes_ago} minutes ago"),
        status: SENT.to_owned(),
        error: None,
        metadata: Metadata::default(),
        attempts: Vec::new(),
        created_at: bson_time(Utc::now() - Duration::minutes(minutes_ago)),
        sent_at: Some(bson_time(Utc::now())),
        sending_since: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recent_is_the_callers_twenty_newest() -> anyhow::Result<()> {
    let n = start(|_| {}).await?;
    let (me, other) = (Uuid::new_v4(), Uuid::new_v4());
    for minutes_ago in 0..22 {
        n.store.record(&stored(me, minutes_ago)).await?;
    }
    n.store.record(&stored(other, 0)).await?;

    let (status, body) = n.get("/api/notifications/recent", Some(me)).await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    let list = body.as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 20);
    let subjects: Vec<String> = list
        .iter()
        .map(|n| n["subject"].as_str().unwrap_or_default().to_owned())
        .collect();
    let newest: Vec<String> = (0..20)
        .map(|m| format!("mail from {m} minutes ago"))
        .collect();
    assert_eq!(subjects, newest);
    let first = &list[0];
    for field in [
        "id",
        "type",
        "recipientEmail",
        "subject",
        "status",
        "error",
        "metadata",
        "bookingId",
        "createdAt",
        "sentAt",
    ] {
        assert!(first.get(field).is_some(), "{field} missing: {first}");
    }
    assert!(first["createdAt"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));

    let (status, body) = n.get("/api/notifications/recent", Some(other)).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.as_array().map(Vec::len), Some(1), "{body}");
    let (status, body) = n
        .get("/api/notifications/recent", Some(Uuid::new_v4()))
        .await?;
    assert_eq!((status, body), (StatusCode::OK, serde_json::json!([])));

    let (status, body) = n.get("/api/notifications/recent", None).await?;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "UNAUTHORIZED");
    n.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_and_documented_routes() -> anyhow::Result<()> {
    let n = start(|_| {}).await?;
    for path in ["/health", "/api/notifications/health"] {
        let (status, body) = n.get(path, None).await?;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(body["status"], "up");
        assert_eq!(body["service"], "notification-service");
    }
    let (status, body) = n.get("/health/ready", None).await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["checks"]["mongodb"], "up", "{body}");
    let (status, doc) = n.get("/openapi.json", None).await?;
    assert_eq!(status, StatusCode::OK);
    for path in ["/api/notifications/recent", "/api/notifications/health"] {
        assert!(doc["paths"][path]["get"].is_object(), "{path} undocumented");
    }
    let (status, body) = n.get("/api/notifications/nope", None).await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "NOT_FOUND");
    n.stop().await
}
