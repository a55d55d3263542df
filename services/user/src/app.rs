//! The router: every route module's routes, health, and the shared frame.

use axum::extract::State;
use axum::{Json, Router};
use serde_json::Value;
use ticketflow_common::health::Health;
use ticketflow_common::{openapi, server};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::routes;
use crate::state::AppState;
use crate::SERVICE;

/// Every route of user-service (its README), plus `/health`, `/health/ready`, `/metrics` and `/openapi.json`
/// (every one documented: see [`ticketflow_common::openapi`]).
pub fn router(state: AppState) -> Router {
    let health = Health::new(SERVICE).database(&state.database);
    let identity_key = state.identity_key.clone();
    let api = openapi::router(SERVICE, DESCRIPTION)
        .merge(routes::users::router())
        .with_state(state)
        .merge(
            OpenApiRouter::default()
                .routes(routes!(users_health))
                .with_state(health.clone()),
        );
    server::finish(api.merge(health.router()), identity_key)
}

const DESCRIPTION: &str = "Registration, login and JWT issuing. Publishes \
    `ticketflow.user.registered`. Clients reach `/api/users/*` through the gateway.";

/// `/health` under the service's API prefix, so it is reachable through the gateway.
#[utoipa::path(
    get,
    path = "/api/users/health",
    tag = "user",
    operation_id = "users_health",
    responses((status = 200, description = "The process answers", body = openapi::Liveness)),
)]
async fn users_health(State(health): State<Health>) -> Json<Value> {
    Json(health.liveness())
}
