//! `GET /openapi.json`: the service's own document lists exactly the routes it serves.

use reqwest::{Method, StatusCode};
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
    for route in ROUTES {
        let (method, path) = route.split_once(' ').unwrap_or_default();
        let response = app
            .client
            .request(Method::from_bytes(method.as_bytes())?, app.url(path))
            .send()
            .await?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let code = body["error"]["code"].as_str().unwrap_or_default();
        assert!(
            !matches!(code, "NOT_FOUND" | "METHOD_NOT_ALLOWED"),
            "{route}: {status} {body}"
        );
    }

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
