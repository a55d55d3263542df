//! Health, readiness and behaviour while the database is unreachable.

use reqwest::StatusCode;
use ticketflow_common::auth::test_identity_key;
use ticketflow_testkit::unreachable_addr;
use ticketflow_user::Config;

use crate::helpers::{code, spawn, spawn_app, unique_email};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_endpoints_answer() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    for path in ["/health", "/api/users/health"] {
        let (status, body) = app.get(path).await?;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(body["status"], "up", "{path}");
        assert_eq!(body["service"], "user-service", "{path}");
        assert!(
            crate::helpers::is_wire_timestamp(&body["timestamp"]),
            "{body}"
        );
    }
    let (status, body) = app.get("/health/ready").await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["checks"]["postgres"], "up");
    assert_eq!(body["checks"]["schema"], "up");

    // Envelope fallbacks from the shared frame.
    let (status, body) = app.get("/api/users/register").await?;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED")
    );
    let (status, body) = app.get("/api/users/nope").await?;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "NOT_FOUND"));
    app.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_database_means_503_not_a_crash() -> anyhow::Result<()> {
    let dead_pg = format!(
        "postgres://postgres@{}/ticketflow_users",
        unreachable_addr()?
    );
    let kafka = ticketflow_testkit::kafka_bootstrap()?;
    let app = spawn(Config::for_test(&dead_pg, &kafka, test_identity_key())).await?;
    // Liveness is up at once, readiness says which dependency is missing.
    let (status, body) = app.get("/health").await?;
    assert_eq!(
        (status, &body["status"]),
        (StatusCode::OK, &serde_json::json!("up"))
    );
    let (status, body) = app.get("/health/ready").await?;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["checks"]["postgres"], "down");
    assert_eq!(body["checks"]["schema"], "down");

    let (status, body) = app.register("Ada", &unique_email(), "password123").await?;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE")
    );
    let (status, body) = app.login(&unique_email(), "password123").await?;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE")
    );
    // Validation still answers first: it needs no database.
    let (status, body) = app.register("A", "bad", "x").await?;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "VALIDATION_ERROR")
    );
    app.stop().await
}
