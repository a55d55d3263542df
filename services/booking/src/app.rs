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

/// Every route of booking-service (its README), plus `/health`, `/health/ready`, `/metrics` and
/// `/openapi.json`.
pub fn router(state: AppState) -> Router {
    let health = Health::new(SERVICE).database(&state.database);
    let identity_key = state.identity_key.clone();
    let api = openapi::router(SERVICE, DESCRIPTION)
        .merge(routes::bookings::router())
        .with_state(state)
        .merge(
            OpenApiRouter::default()
                .routes(routes!(bookings_health))
                .with_state(health.clone()),
        );
    server::finish(api.merge(health.router()), identity_key)
}

const DESCRIPTION: &str = "Bookings and the booking saga. Publishes \
    `ticketflow.booking.initiated`, `ticketflow.payment.requested`, \
    `ticketflow.booking.confirmed`, `ticketflow.booking.failed`, `ticketflow.booking.cancelled`, \
    `ticketflow.seats.confirm` and `ticketflow.seats.release`; consumes \
    `ticketflow.seats.locked`, `ticketflow.seats.lock-failed` and `ticketflow.payment.processed`. \
    Clients reach `/api/bookings/*` through the gateway.";

/// `/health` under the service's API prefix, so it is reachable through the gateway.
#[utoipa::path(
    get,
    path = "/api/bookings/health",
    tag = "booking",
    operation_id = "bookings_health",
    responses((status = 200, description = "The process answers", body = openapi::Liveness)),
)]
async fn bookings_health(State(health): State<Health>) -> Json<Value> {
    Json(health.liveness())
}
