//! Health, readiness, the API document, and behaviour while MongoDB is unreachable.

use reqwest::StatusCode;
use ticketflow_common::auth::{test_identity_key, Role};
use ticketflow_common::kafka::topics;
use ticketflow_payment::Config;
use ticketflow_testkit::{kafka_bootstrap, private_topics, unreachable_addr, Spawned};
use uuid::Uuid;

use crate::support::start;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_metrics_and_documented_routes() -> anyhow::Result<()> {
    let payment = start(1, |_| {}).await?;
    for path in ["/health", "/api/payments/health"] {
        let (status, body) = payment.get(path, None).await?;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(body["service"], "payment-service");
    }
    let (status, body) = payment.get("/health/ready", None).await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["checks"]["mongodb"], "up", "{body}");

    let (status, doc) = payment.get("/openapi.json", None).await?;
    assert_eq!(status, StatusCode::OK);
    for path in [
        "/api/payments/{id}",
        "/api/payments/booking/{bookingId}",
        "/api/payments/health",
    ] {
        assert!(doc["paths"][path]["get"].is_object(), "{path} undocumented");
    }

    let base = &payment.instances[0].base;
    let metrics = payment.client.get(format!("{base}/metrics")).send().await?;
    assert_eq!(metrics.status(), StatusCode::OK);
    payment.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_mongo_means_503_not_a_crash() -> anyhow::Result<()> {
    let dead = unreachable_addr()?;
    let prefix = private_topics(&[topics::PAYMENT_REQUESTED]).await?;
    let config = Config::for_test(
        &format!("mongodb://{dead}"),
        "ticketflow_payments",
        &kafka_bootstrap()?,
        &prefix,
        test_identity_key(),
    );
    let service =
        Spawned::start(|listener, shutdown| ticketflow_payment::run(config, listener, shutdown))
            .await?;
    assert_eq!(
        service
            .client
            .get(service.url("/health"))
            .send()
            .await?
            .status(),
        StatusCode::OK
    );
    let ready = service
        .client
        .get(service.url("/health/ready"))
        .send()
        .await?;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let ready: serde_json::Value = ready.json().await?;
    assert_eq!(ready["checks"]["mongodb"], "down", "{ready}");

    let headers =
        test_identity_key().forwarded_headers(&Uuid::new_v4().to_string(), "a@b.c", Role::User);
    let reply = service
        .client
        .get(service.url(&format!("/api/payments/{}", Uuid::new_v4())))
        .headers(headers)
        .send()
        .await?;
    assert_eq!(reply.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = reply.json().await?;
    assert_eq!(body["error"]["code"], "SERVICE_UNAVAILABLE");
    service.stop().await
}
