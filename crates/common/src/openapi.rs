//! The API reference, generated from the code: every service builds its routes with
//! [`OpenApiRouter`] and `utoipa_axum::routes!`, so a route is registered only together with its
//! `#[utoipa::path]` documentation, and serves the resulting document at `GET /openapi.json`
//! (added by [`crate::server::finish`]). The gateway merges them at `GET /api/docs/openapi.json`.
//!
//! What every document shares lives here: the base document ([`router`]), the `bearerAuth`
//! scheme, the health bodies, and the `/openapi.json` route itself. The error envelope's schema
//! is [`crate::error::ErrorEnvelope`].

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use axum::{Extension, Json, Router};
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ComponentsBuilder, InfoBuilder, OpenApi, OpenApiBuilder};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ErrorEnvelope;

/// The security scheme of routes that need a signed-in caller: `security(("bearerAuth" = []))`.
pub const BEARER_AUTH: &str = "bearerAuth";

/// Where each service serves its own document (never forwarded by the gateway).
pub const DOCUMENT_PATH: &str = "/openapi.json";

/// An empty document titled `title` (e.g. `user-service`), with the shared components: the
/// error envelope and the `bearerAuth` scheme.
pub fn base(title: &str, description: &str) -> OpenApi {
    let bearer = HttpBuilder::new()
        .scheme(HttpAuthScheme::Bearer)
        .bearer_format("JWT")
        .description(Some(
            "The token from `POST /api/users/login` or `/register`. The gateway verifies it and \
             forwards the caller's identity to the service.",
        ))
        .build();
    let mut schemas = Vec::new();
    <ErrorEnvelope as ToSchema>::schemas(&mut schemas);
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title(title)
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(description))
                .build(),
        )
        .components(Some(
            ComponentsBuilder::new()
                .schema_from::<ErrorEnvelope>()
                .schemas_from_iter(schemas)
                .security_scheme(BEARER_AUTH, SecurityScheme::Http(bearer))
                .build(),
        ))
        .build()
}

/// A router that documents what it routes, starting from [`base`].
pub fn router<S: Clone + Send + Sync + 'static>(
    title: &str,
    description: &str,
) -> OpenApiRouter<S> {
    OpenApiRouter::with_openapi(base(title, description))
}

/// The error answers most routes share, for `responses(...)` of `#[utoipa::path]` next to the
/// route's own: `responses((status = 201, ...), AdminOnly, Invalid, Unavailable)`.
#[derive(utoipa::IntoResponses)]
pub enum AdminOnly {
    #[response(status = 401, description = "`UNAUTHORIZED`: no valid token")]
    Unauthorized(ErrorEnvelope<'static>),
    #[response(status = 403, description = "`FORBIDDEN`: not an ADMIN")]
    Forbidden(ErrorEnvelope<'static>),
}

/// `400 VALIDATION_ERROR`, every problem of the request at once in `details`.
#[derive(utoipa::IntoResponses)]
#[response(
    status = 400,
    description = "`VALIDATION_ERROR`: `details` lists every invalid field"
)]
pub struct Invalid(pub ErrorEnvelope<'static>);

/// `503 SERVICE_UNAVAILABLE`: a store the route needs is not reachable (yet).
#[derive(utoipa::IntoResponses)]
#[response(
    status = 503,
    description = "`SERVICE_UNAVAILABLE`: a store it needs is not reachable yet"
)]
pub struct Unavailable(pub ErrorEnvelope<'static>);

/// `GET /health` (the same fields in every service).
#[derive(Serialize, ToSchema)]
pub struct Liveness {
    /// Always `up`.
    pub status: String,
    /// e.g. `user-service`.
    pub service: String,
    pub version: String,
    /// Seconds since the process started.
    pub uptime: u64,
    /// RFC 3339, UTC.
    pub timestamp: String,
}

/// `GET /health/ready`.
#[derive(Serialize, ToSchema)]
pub struct Readiness {
    /// `up` when every check is up, else `down`.
    pub status: String,
    pub service: String,
    /// Each dependency's `up` or `down`, by name (e.g. `postgres`, `mongodb`).
    pub checks: BTreeMap<String, String>,
}

/// A finished document, shared with the handler that serves it.
#[derive(Clone)]
pub struct Document(Arc<OpenApi>);

impl Document {
    pub fn new(openapi: OpenApi) -> Self {
        Self(Arc::new(openapi))
    }

    pub fn openapi(&self) -> &OpenApi {
        &self.0
    }
}

/// The document of every route of this service, this one included.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "openapi",
    operation_id = "openapi",
    responses((status = 200, description = "This service's OpenAPI 3.1 document", content_type = "application/json")),
)]
pub async fn document(Extension(document): Extension<Document>) -> Response {
    Json(document.openapi()).into_response()
}

/// The plain router of `routes`, with their document available to handlers as
/// `Extension<Document>`. Call it last: routes added afterwards are not in the document.
pub fn attach<S: Clone + Send + Sync + 'static>(routes: OpenApiRouter<S>) -> Router<S> {
    let (router, openapi) = routes.split_for_parts();
    router.layer(Extension(Document::new(openapi)))
}

/// [`attach`] plus `GET /openapi.json` serving the document.
pub fn with_document<S: Clone + Send + Sync + 'static>(routes: OpenApiRouter<S>) -> Router<S> {
    attach(routes.routes(routes!(document)))
}

/// `"GET /path"` for every operation of a document (in a stable order), as tests compare them.
pub fn operations(openapi: &serde_json::Value) -> Vec<String> {
    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    let mut out: Vec<String> = openapi["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter(|method| item.get(**method).is_some())
                .map(move |method| format!("{} {path}", method.to_ascii_uppercase()))
        })
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::Health;
    use utoipa::PartialSchema;

    fn properties(schema: &utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>) -> Vec<String> {
        let value = serde_json::to_value(schema).unwrap_or_default();
        let mut keys: Vec<String> = value["properties"]
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        keys.sort();
        keys
    }

    fn keys(value: &serde_json::Value) -> Vec<String> {
        let mut keys: Vec<String> = value
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        keys.sort();
        keys
    }

    #[tokio::test]
    async fn health_schemas_name_the_fields_health_sends() {
        let health = Health::new("test-service");
        assert_eq!(properties(&Liveness::schema()), keys(&health.liveness()));
        let (_, ready) = health.readiness().await;
        assert_eq!(properties(&Readiness::schema()), keys(&ready));
    }

    #[test]
    fn envelope_schema_names_the_fields_the_envelope_sends() {
        let mut schemas = Vec::new();
        <ErrorEnvelope as ToSchema>::schemas(&mut schemas);
        let all: BTreeMap<String, _> = schemas.into_iter().collect();
        assert_eq!(properties(&ErrorEnvelope::schema()), ["error"]);
        let body = all.get("ErrorBody").map(properties).unwrap_or_default();
        assert_eq!(body, ["code", "details", "message", "requestId"]);
    }

    #[test]
    fn base_has_the_shared_components() {
        let doc = serde_json::to_value(base("x-service", "about x")).unwrap_or_default();
        assert_eq!(doc["info"]["title"], "x-service");
        let schemas = &doc["components"]["schemas"];
        for name in ["ErrorEnvelope", "ErrorBody", "FieldError"] {
            assert!(schemas.get(name).is_some(), "{name} missing from {schemas}");
        }
        assert_eq!(
            doc["components"]["securitySchemes"][BEARER_AUTH]["scheme"],
            "bearer"
        );
    }

    #[tokio::test]
    async fn the_frame_serves_a_document_of_every_route_it_serves() -> anyhow::Result<()> {
        use http_body_util::BodyExt;
        use tower::ServiceExt;

        let key = crate::auth::IdentityKey::new(crate::config::Secret::new(
            "openapi-tests-internal-secret-0123456789",
        ));
        let routes = router::<()>("test-service", "a test").merge(Health::new("t").router());
        let app = crate::server::finish(routes, key);
        let response = app
            .oneshot(axum::http::Request::get(DOCUMENT_PATH).body(axum::body::Body::empty())?)
            .await?;
        assert_eq!(response.status(), axum::http::StatusCode::OK);
        let bytes = response.into_body().collect().await?.to_bytes();
        let doc: serde_json::Value = serde_json::from_slice(&bytes)?;
        assert_eq!(doc["info"]["title"], "test-service");
        assert_eq!(
            operations(&doc),
            [
                "GET /health",
                "GET /health/ready",
                "GET /metrics",
                "GET /openapi.json"
            ]
        );
        assert!(
            doc["components"]["schemas"]["Liveness"].is_object(),
            "{doc}"
        );
        Ok(())
    }
}
