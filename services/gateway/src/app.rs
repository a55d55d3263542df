//! The routers: public (port 3000) and internal (`METRICS_PORT`).
//!
//! Layers, outermost first: request context (`x-request-id`, `traceparent`) → metrics →
//! CORS (answers preflights itself) → rate limit → routes (`/health`, `/health/all`,
//! `/api/docs/openapi.json`, and a fallback that forwards `/api/<prefix>…` or answers the
//! 404/400 envelope).

use axum::routing::get;
use axum::{middleware, Router};
use ticketflow_common::{openapi, server, telemetry};

use crate::routes;
use crate::state::AppState;

/// The public router (port 3000). No `/metrics` or `/health/ready` here: see
/// [`internal_router`]. The gateway's own routes are documented (see
/// [`ticketflow_common::openapi`]); `GET /api/docs/openapi.json` merges in the services'.
pub fn router(state: AppState) -> Router {
    let own = openapi::router("TicketFlow API", routes::docs::DESCRIPTION)
        .merge(state.health.clone().liveness_router())
        .merge(routes::health::router())
        .merge(routes::docs::router());
    let app = openapi::attach(own)
        .fallback(routes::proxy::forward)
        .method_not_allowed_fallback(server::method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::middleware::rate_limit,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::middleware::cors,
        ))
        .layer(middleware::from_fn(crate::middleware::track))
        .with_state(state);
    server::with_request_context(app)
}

/// The internal router (`METRICS_PORT`, loopback unless `METRICS_BIND_ADDR` says otherwise):
/// `GET /metrics` and `GET /health/ready` (the gateway has no dependencies: up while serving).
pub fn internal_router(state: &AppState) -> Router {
    Router::new()
        .route("/metrics", get(telemetry::metrics_endpoint))
        .merge(state.health.clone().readiness_router())
        .fallback(server::not_found)
}
