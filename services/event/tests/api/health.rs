use reqwest::Method;
use serde_json::json;
use ticketflow_common::auth::test_identity_key;
use ticketflow_event::Config;
use ticketflow_testkit::{kafka_bootstrap, unreachable_addr};

use crate::support::{private_prefix, Service, ANON};

#[tokio::test]
async fn health_ready_and_envelope_fallbacks() -> anyhow::Result<()> {
    let svc = Service::start().await?;
    let health = svc.get("/health").await?;
    let body = health.expect(200)?;
    assert_eq!(body["status"], "up");
    assert_eq!(body["service"], "event-service");

    let ready = svc.get("/health/ready").await?;
    assert_eq!(ready.expect(200)?["checks"]["mongodb"], "up");

    svc.get("/api/nope").await?.expect_error(404, "NOT_FOUND")?;
    svc.call(Method::DELETE, "/api/events", ANON, None)
        .await?
        .expect_error(405, "METHOD_NOT_ALLOWED")?;
    // Every response carries a request id, echoed in error envelopes.
    let reply = svc.get("/api/events/unknown").await?;
    let header = reply
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(!header.is_empty());
    assert_eq!(reply.body["error"]["requestId"], json!(header));
    svc.stop().await
}

#[tokio::test]
async fn store_down_means_503_while_health_stays_up() -> anyhow::Result<()> {
    // Nothing listens on this port: MongoDB "is still starting".
    let url = format!("mongodb://{}", unreachable_addr()?);
    let mut config = Config::for_test(
        &url,
        "tftest_unreachable",
        &kafka_bootstrap()?,
        test_identity_key(),
    );
    // Kafka is reachable: should MongoDB answer after all, it consumes only its own topics.
    config.kafka_topic_prefix = private_prefix().await?;
    let svc = Service::spawn(config).await?;
    let live = svc.get("/health").await?;
    assert_eq!(live.expect(200)?["service"], "event-service");
    let ready = svc.get("/health/ready").await?;
    assert_eq!(ready.expect(503)?["checks"]["mongodb"], "down");
    svc.get("/api/events")
        .await?
        .expect_error(503, "SERVICE_UNAVAILABLE")?;
    svc.get("/api/venues")
        .await?
        .expect_error(503, "SERVICE_UNAVAILABLE")?;
    // Auth and validation still answer before the store is needed.
    svc.post("/api/events", ANON, &json!({}))
        .await?
        .expect_error(401, "UNAUTHORIZED")?;
    Ok(())
}
