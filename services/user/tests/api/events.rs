//! `ticketflow.user.registered`: published exactly when a user row commits, through the outbox.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use ticketflow_common::auth::test_identity_key;
use ticketflow_common::kafka::topics::USER_REGISTERED;
use ticketflow_testkit::{unreachable_addr, TestPgDatabase, TopicWatcher};
use ticketflow_user::Config;

use crate::helpers::{is_wire_timestamp, spawn_app, spawn_ready, unique_email};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_publishes_user_registered() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let watcher = TopicWatcher::new(&[USER_REGISTERED])?;
    let email = unique_email();
    let request_id = format!("req-{}", uuid::Uuid::new_v4().simple());
    let response = app
        .client
        .post(app.url("/api/users/register"))
        .header("x-request-id", &request_id)
        .json(&json!({"name": "  Grace Hopper ", "email": email, "password": "password123"}))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: serde_json::Value = response.json().await?;
    let user_id = body["user"]["id"].as_str().unwrap_or_default().to_owned();

    let message = watcher
        .expect(Duration::from_secs(20), |m| {
            m.payload["userId"] == user_id.as_str()
        })
        .await?;
    assert_eq!(
        message.key.as_deref(),
        Some(user_id.as_str()),
        "keyed by userId"
    );
    let payload = &message.payload;
    assert_eq!(payload["eventType"], "user.registered");
    assert_eq!(payload["email"], email.as_str());
    assert_eq!(payload["name"], "Grace Hopper");
    assert!(uuid::Uuid::parse_str(payload["messageId"].as_str().unwrap_or_default()).is_ok());
    assert!(is_wire_timestamp(&payload["timestamp"]), "{payload}");
    let mut keys: Vec<&String> = payload
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    keys.sort();
    assert_eq!(
        keys,
        [
            "email",
            "eventType",
            "messageId",
            "name",
            "timestamp",
            "userId"
        ]
    );
    // Correlation headers carry the request that caused it.
    assert_eq!(message.header("x-request-id"), Some(request_id.as_str()));
    assert!(message
        .header("traceparent")
        .is_some_and(ticketflow_common::context::valid_traceparent));

    // Exactly once: no second copy of the message shows up.
    let copies = watcher
        .collect(Duration::from_secs(2), |m| {
            m.payload["userId"] == user_id.as_str()
        })
        .await?;
    assert!(copies.is_empty(), "duplicate publication: {copies:?}");
    app.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_registration_publishes_nothing() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let watcher = TopicWatcher::new(&[USER_REGISTERED])?;
    let email = unique_email();
    app.register_ok(&email, "password123").await?;
    watcher
        .expect(Duration::from_secs(20), |m| {
            m.payload["email"] == email.as_str()
        })
        .await?;

    let (status, _) = app
        .register("Copycat", &email.to_uppercase(), "password456")
        .await?;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = app.register("X", &email, "short").await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let stray = watcher
        .collect(Duration::from_secs(3), |m| {
            m.payload["email"]
                .as_str()
                .is_some_and(|e| e.eq_ignore_ascii_case(&email))
        })
        .await?;
    assert!(
        stray.is_empty(),
        "published for a failed registration: {stray:?}"
    );
    app.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_works_while_kafka_is_down_and_publishes_later() -> anyhow::Result<()> {
    // A broker address where nothing listens.
    let db = TestPgDatabase::create().await?;
    let dead_kafka = unreachable_addr()?.to_string();
    let app = spawn_ready(Config::for_test(db.url(), &dead_kafka, test_identity_key())).await?;
    let email = unique_email();
    let body = app.register_ok(&email, "password123").await?;
    let user_id = body["user"]["id"].as_str().unwrap_or_default().to_owned();
    let pending: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox WHERE message_key = $1 AND published_at IS NULL",
    )
    .bind(&user_id)
    .fetch_one(&app.pool)
    .await?;
    assert_eq!(pending, 1, "the message waits in the outbox");
    let (status, _) = app.login(&email, "password123").await?;
    assert_eq!(status, StatusCode::OK);
    app.stop().await?;

    // Kafka "comes back": the next service on the same database publishes the message.
    let watcher = TopicWatcher::new(&[USER_REGISTERED])?;
    let app = spawn_ready(Config::for_test(
        db.url(),
        &ticketflow_testkit::kafka_bootstrap()?,
        test_identity_key(),
    ))
    .await?;
    let message = watcher
        .expect(Duration::from_secs(30), |m| {
            m.payload["userId"] == user_id.as_str()
        })
        .await?;
    assert_eq!(message.key.as_deref(), Some(user_id.as_str()));
    assert_eq!(message.payload["email"], email.as_str());
    ticketflow_testkit::eventually(
        Duration::from_secs(10),
        "outbox row marked sent",
        || async {
            let published: bool = sqlx::query_scalar(
                "SELECT published_at IS NOT NULL FROM outbox WHERE message_key = $1",
            )
            .bind(&user_id)
            .fetch_one(&app.pool)
            .await?;
            Ok(published.then_some(()))
        },
    )
    .await?;
    app.stop().await
}
