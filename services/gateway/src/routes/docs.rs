//! `GET /api/docs/openapi.json` (public): the gateway's own document merged with every
//! service's `GET /openapi.json`, fetched concurrently at request time (see
//! [`crate::domain::docs`] for how they merge). A service that does not answer in time, or not
//! with a document, is skipped and listed under `x-unavailable-services`: the answer is always
//! `200`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use http_body_util::{BodyExt, Limited};
use serde_json::Value;
use ticketflow_common::openapi::{Document, DOCUMENT_PATH};
use ticketflow_common::ApiError;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::config::Service;
use crate::domain::docs;
use crate::routes::health::{upstream_get, PROBE_TIMEOUT};
use crate::state::AppState;

/// A service document larger than this is not read to the end (and counts as unavailable).
const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

/// What the gateway's own document says about the rest.
pub const DESCRIPTION: &str = "The TicketFlow HTTP API as clients see it on the gateway.\n\n\
Everything under `/api/<prefix>` is proxied to the service that owns it: `users` → \
user-service; `events`, `venues` → event-service; `bookings`, `inventory`, `payments`, \
`notifications` → the services of those names. The gateway verifies the bearer token and \
forwards the caller's identity; routes without a security requirement are public.\n\n\
This document merges each running service's own `GET /openapi.json` at request time. \
`x-merged-services` names the services merged, `x-unavailable-services` those that did not \
answer (their routes are absent), and `x-internal-routes` what each service serves only on \
its own port (health, metrics, its document), never through the gateway.";

/// This module's routes: `GET /api/docs/openapi.json`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(openapi))
}

/// The gateway's routes and, merged in, every service's.
#[utoipa::path(
    get,
    path = "/api/docs/openapi.json",
    tag = "gateway",
    operation_id = "api_docs",
    responses((status = 200, description = "This document: the gateway's routes merged with every service's that answered", content_type = "application/json")),
)]
pub async fn openapi(
    State(state): State<AppState>,
    Extension(own): Extension<Document>,
) -> Response {
    let fetched = futures::future::join_all(Service::ALL.map(|service| {
        let state = &state;
        async move { (service, fetch(state, service).await) }
    }))
    .await;
    let own = match serde_json::to_value(own.openapi()) {
        Ok(own) => own,
        Err(err) => return ApiError::Internal(err.into()).into_response(),
    };
    Json(docs::merge(own, fetched)).into_response()
}

/// The service's document, or `None` (logged) when it does not give one in time.
async fn fetch(state: &AppState, service: Service) -> Option<Value> {
    let outcome = tokio::time::timeout(PROBE_TIMEOUT, async {
        let response = upstream_get(state, service, DOCUMENT_PATH).await?;
        let status = response.status();
        let body = Limited::new(response.into_body(), MAX_DOCUMENT_BYTES)
            .collect()
            .await
            .map_err(|e| anyhow::anyhow!("reading the document: {e}"))?
            .to_bytes();
        anyhow::ensure!(status.is_success(), "answered {status}");
        Ok(serde_json::from_slice::<Value>(&body)?)
    })
    .await;
    match outcome {
        Ok(Ok(document)) => Some(document),
        Ok(Err(err)) => {
            tracing::debug!(
                service = service.name(),
                error = format!("{err:#}"),
                "no API document"
            );
            None
        }
        Err(_) => {
            tracing::debug!(service = service.name(), "API document timed out");
            None
        }
    }
}
