//! `GET /openapi.json`: the service's own document lists exactly the routes it serves.

use reqwest::StatusCode;
use serde_json::Value;
use ticketflow_common::openapi::operations;

use crate::support::Service;

/// Every route event-service serves. A route added without documentation (or documented
/// without being served) makes this list, or the probe below, disagree.
const ROUTES: [&str; 12] = [
    "GET /api/events",
    "GET /api/events/{id}",
    "GET /api/events/{id}/poster",
    "GET /api/venues",
    "GET /api/venues/{id}",
    "GET /health",
    "GET /health/ready",
    "GET /metrics",
    "GET /openapi.json",
    "POST /api/events",
    "POST /api/venues",
    "PUT /api/events/{id}",
];

#[tokio::test]
async fn the_document_lists_exactly_the_routes_served() -> anyhow::Result<()> {
    let svc = Service::start().await?;
    let response = svc
        .client
        .get(format!("{}/openapi.json", svc.base))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    let doc: Value = response.json().await?;
    assert_eq!(doc["info"]["title"], "event-service");
    assert_eq!(operations(&doc), ROUTES);

    // Every documented route is routed: never the router's own 404/405.
    ticketflow_testkit::assert_routed(&svc.client, &svc.base, &ROUTES).await?;

    // Operation ids are unique (events and venues both have a list, get and create).
    let mut ids: Vec<&str> = doc["paths"]
        .as_object()
        .into_iter()
        .flat_map(|paths| paths.values())
        .filter_map(|item| item.as_object())
        .flat_map(|item| item.values())
        .filter_map(|op| op["operationId"].as_str())
        .collect();
    let count = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), count, "duplicate operationId in {ids:?}");

    let poster = &doc["paths"]["/api/events/{id}/poster"]["get"]["responses"];
    assert!(
        poster["200"]["content"]["image/svg+xml"].is_object(),
        "{poster}"
    );
    assert!(poster["304"].is_object(), "{poster}");
    let create = &doc["paths"]["/api/events"]["post"];
    assert_eq!(create["security"][0]["bearerAuth"], serde_json::json!([]));
    assert_eq!(
        create["responses"]["403"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ErrorEnvelope"
    );
    for schema in [
        "EventView",
        "VenueView",
        "EventPage",
        "NewEventBody",
        "NewVenueBody",
    ] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "{schema} missing"
        );
    }
    svc.stop().await
}
