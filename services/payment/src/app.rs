//! The router: the payment routes, health, and the shared frame.

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

/// Every route of payment-service (its README), plus `/health`, `/health/ready`, `/metrics`
/// and `/openapi.json` (every one documented: see [`ticketflow_common::openapi`]).
pub fn router(state: AppState) -> Router {
    let probe = state.clone();
    let health = Health::new(SERVICE).check("mongodb", move || {
        let state = probe.clone();
        async move {
            let store = state.store().map_err(anyhow::Error::from)?;
            store.ping().await?;
            Ok(())
        }
    });
    let identity_key = state.identity_key.clone();
    let api = openapi::router(SERVICE, DESCRIPTION)
        .merge(routes::payments::router())
        .with_state(state)
        .merge(
            OpenApiRouter::default()
                .routes(routes!(payments_health))
                .with_state(health.clone()),
        );
    server::finish(api.merge(health.router()), identity_key)
}

const DESCRIPTION: &str = "Payments of bookings through a mock provider (MongoDB). Consumes \
    `ticketflow.payment.requested` (charges at most once per booking) and \
    `ticketflow.booking.failed` / `ticketflow.booking.cancelled` (refunds), publishes \
    `ticketflow.payment.processed` (consumer group `payment-service`). Clients reach \
    `/api/payments/*` through the gateway.";

/// `/health` under the service's API prefix, so it is reachable through the gateway.
#[utoipa::path(
    get,
    path = "/api/payments/health",
    tag = "payment",
    operation_id = "payments_health",
    responses((status = 200, description = "The process answers", body = openapi::Liveness)),
)]
async fn payments_health(State(health): State<Health>) -> Json<Value> {
    Json(health.liveness())
}
