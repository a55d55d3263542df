//! `GET /api/docs/openapi.json`: the gateway's document merged with the services' documents,
//! here served by small fake upstreams.

use std::time::{Duration, Instant};

use anyhow::ensure;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use ticketflow_common::openapi::operations;
use ticketflow_gateway::{Service, Upstreams};
use ticketflow_testkit::Spawned;

use crate::support::{config, dead_url, expect_error, fake, Echo, Fleet, Gateway, Hung};

/// An upstream whose `GET /openapi.json` answers `status` with `document`.
struct FakeService {
    url: String,
    _server: Spawned,
}

impl FakeService {
    async fn start(status: StatusCode, document: Value) -> anyhow::Result<Self> {
        let app = Router::new().route(
            "/openapi.json",
            get(move || {
                let document = document.clone();
                async move { (status, Json(document)) }
            }),
        );
        let server = fake(app).await?;
        Ok(Self {
            url: server.base.clone(),
            _server: server,
        })
    }
}

fn user_document() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {"title": "user-service", "version": "0.1.0"},
        "paths": {
            "/health": {"get": {"operationId": "health", "responses": {}}},
            "/api/users/me": {"get": {
                "operationId": "me",
                "responses": {"200": {"description": "me", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/UserView"}}}}}
            }}
        },
        "components": {"schemas": {"UserView": {"type": "object"}}}
    })
}

fn event_document() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {"title": "event-service", "version": "0.1.0"},
        "paths": {
            "/metrics": {"get": {"operationId": "metrics", "responses": {}}},
            "/api/events/{id}": {
                "get": {"operationId": "get_event", "responses": {}},
                "put": {"operationId": "update_event", "responses": {}}
            }
        },
        "components": {"schemas": {"EventView": {"type": "object"}}}
    })
}

#[tokio::test]
async fn merges_every_service_that_answers_and_lists_the_rest() -> anyhow::Result<()> {
    let user = FakeService::start(StatusCode::OK, user_document()).await?;
    let event = FakeService::start(StatusCode::OK, event_document()).await?;
    let hung = Hung::start().await?;
    let echo = Echo::start("not-a-document").await?;
    let broken = FakeService::start(StatusCode::INTERNAL_SERVER_ERROR, event_document()).await?;
    let upstreams = Upstreams::all(&dead_url()?)?
        .with(Service::User, &user.url)?
        .with(Service::Event, &event.url)?
        .with(Service::Inventory, &hung.url)?
        .with(Service::Payment, &echo.url)?
        .with(Service::Notification, &broken.url)?;
    let gateway = Gateway::start(config(upstreams)).await?;

    let started = Instant::now();
    // Public: no token.
    let response = gateway
        .http
        .get(gateway.at("/api/docs/openapi.json"))
        .send()
        .await?;
    let elapsed = started.elapsed();
    ensure!(response.status() == 200, "{}", response.status());
    let doc: Value = response.json().await?;

    assert_eq!(
        operations(&doc),
        [
            "GET /api/docs/openapi.json",
            "GET /api/events/{id}",
            "GET /api/users/me",
            "GET /health",
            "GET /health/all",
            "PUT /api/events/{id}",
        ]
    );
    assert_eq!(doc["x-merged-services"], json!(["user", "event"]));
    assert_eq!(
        doc["x-unavailable-services"],
        json!(["booking", "inventory", "payment", "notification"])
    );
    assert_eq!(doc["x-internal-routes"]["user"], json!(["GET /health"]));
    assert_eq!(doc["x-internal-routes"]["event"], json!(["GET /metrics"]));
    // The gateway's /health is its own, not user-service's.
    assert_eq!(doc["paths"]["/health"]["get"]["tags"], json!(["health"]));
    let schemas = &doc["components"]["schemas"];
    for name in ["UserView", "EventView", "ErrorEnvelope", "AllHealth"] {
        assert!(schemas[name].is_object(), "{name} missing: {schemas}");
    }
    assert_eq!(doc["info"]["title"], "TicketFlow API");
    // Fetched concurrently: the hung service costs one probe timeout (2 s), not more.
    ensure!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    Ok(())
}

#[tokio::test]
async fn with_no_service_up_the_gateway_still_documents_itself() -> anyhow::Result<()> {
    let gateway = Gateway::start(config(Upstreams::all(&dead_url()?)?)).await?;
    let response = gateway
        .http
        .get(gateway.at("/api/docs/openapi.json"))
        .send()
        .await?;
    ensure!(response.status() == 200);
    let doc: Value = response.json().await?;
    assert_eq!(
        operations(&doc),
        [
            "GET /api/docs/openapi.json",
            "GET /health",
            "GET /health/all"
        ]
    );
    assert_eq!(doc["x-merged-services"], json!([]));
    assert_eq!(
        doc["x-unavailable-services"].as_array().map(Vec::len),
        Some(6)
    );
    let description = doc["info"]["description"].as_str().unwrap_or_default();
    assert!(description.contains("/api/<prefix>"), "{description}");
    Ok(())
}

#[tokio::test]
async fn docs_are_the_gateways_own_and_never_forwarded() -> anyhow::Result<()> {
    let fleet = Fleet::start().await?;
    let gateway = Gateway::start(config(fleet.upstreams()?)).await?;
    expect_error(
        gateway
            .http
            .get(gateway.at("/api/docs/other"))
            .send()
            .await?,
        404,
        "NOT_FOUND",
    )
    .await?;
    expect_error(
        gateway
            .http
            .post(gateway.at("/api/docs/openapi.json"))
            .send()
            .await?,
        405,
        "METHOD_NOT_ALLOWED",
    )
    .await?;
    expect_error(
        gateway.http.get(gateway.at("/openapi.json")).send().await?,
        404,
        "NOT_FOUND",
    )
    .await?;
    // Only the document fetches reached the services, at their own /openapi.json.
    let response = gateway
        .http
        .get(gateway.at("/api/docs/openapi.json"))
        .send()
        .await?;
    ensure!(response.status() == 200);
    let seen = fleet.all_seen();
    ensure!(
        seen.len() == Service::ALL.len() && seen.iter().all(|s| s.path == "/openapi.json"),
        "{seen:?}"
    );
    Ok(())
}
