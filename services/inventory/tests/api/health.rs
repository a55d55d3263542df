//! Health, readiness, OpenAPI, and behaviour while a store is unreachable.

use reqwest::StatusCode;
use ticketflow_common::auth::test_identity_key;
use ticketflow_inventory::Config;
use ticketflow_testkit::{kafka_bootstrap, setting, unreachable_addr, Spawned};

use crate::support::start;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_and_documented_routes() -> anyhow::Result<()> {
    let inventory = start(1).await?;
    let (status, body) = inventory.get("/health").await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["service"], "inventory-service");
    let (status, body) = inventory.get("/health/ready").await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    for check in ["postgres", "schema", "redis"] {
        assert_eq!(body["checks"][check], "up", "{body}");
    }
    let (status, doc) = inventory.get("/openapi.json").await?;
    assert_eq!(status, StatusCode::OK);
    for path in [
        "/api/inventory/events/{eventId}/seats",
        "/api/inventory/events/{eventId}/seats/stream",
    ] {
        assert!(doc["paths"][path]["get"].is_object(), "{path} undocumented");
    }
    inventory.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_stores_mean_503_not_a_crash() -> anyhow::Result<()> {
    let dead = unreachable_addr()?;
    let config = Config::for_test(
        &format!("postgres://postgres@{dead}/ticketflow_inventory"),
        &format!("redis://{dead}"),
        &kafka_bootstrap()?,
        "",
        test_identity_key(),
    );
    let service =
        Spawned::start(|listener, shutdown| ticketflow_inventory::run(config, listener, shutdown))
            .await?;
    let get = |path: &str| service.client.get(service.url(path)).send();
    assert_eq!(get("/health").await?.status(), StatusCode::OK);
    let ready = get("/health/ready").await?;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let ready: serde_json::Value = ready.json().await?;
    for check in ["postgres", "schema", "redis"] {
        assert_eq!(ready["checks"][check], "down", "{ready}");
    }
    let seats = get(&format!(
        "/api/inventory/events/{}/seats",
        uuid::Uuid::new_v4()
    ))
    .await?;
    assert_eq!(seats.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = seats.json().await?;
    assert_eq!(body["error"]["code"], "SERVICE_UNAVAILABLE");
    // Redis alone being reachable changes nothing for readiness of the database.
    let _ = setting("REDIS_URL")?;
    service.stop().await
}
