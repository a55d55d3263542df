//! `GET /openapi.json`: the service's own document lists exactly the routes it serves.

use reqwest::StatusCode;
use serde_json::Value;
use ticketflow_common::openapi::operations;

use crate::helpers::spawn_app;

/// Every route user-service serves. A route added without documentation (or documented
/// without being served) makes this list, or the probe below, disagree.
const ROUTES: [&str; 8] = [
    "GET /api/users/health",
    "GET /api/users/me",
    "GET /health",
    "GET /health/ready",
    "GET /metrics",
    "GET /openapi.json",
    "POST /api/users/login",
    "POST /api/users/register",
];

#[tokio::test]
async fn the_document_lists_exactly_the_routes_served() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let response = app.client.get(app.url("/openapi.json")).send().await?;
    assert_eq!(response.status(), StatusCode::OK);
    let doc: Value = response.json().await?;
    assert_eq!(doc["info"]["title"], "user-service");
    assert_eq!(operations(&doc), ROUTES);

    // Every documented route is routed: never the router's own 404/405.
    ticketflow_testkit::assert_routed(&app.client, &app.base, &ROUTES).await?;

    // Responses name the shared envelope and the bearer scheme.
    let me = &doc["paths"]["/api/users/me"]["get"];
    assert_eq!(me["security"][0]["bearerAuth"], serde_json::json!([]));
    assert_eq!(
        me["responses"]["401"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ErrorEnvelope"
    );
    for schema in ["ErrorEnvelope", "AuthResponse", "UserView", "RegisterBody"] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "{schema} missing"
        );
    }
    app.stop().await
}
