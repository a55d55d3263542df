//! The router: the notification routes, health, and the shared frame.

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

/// Every route of notification-service (its README), plus `/health`, `/health/ready`, `/metrics`
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
        .merge(routes::notifications::router())
        .with_state(state)
        .merge(
            OpenApiRouter::default()
                .routes(routes!(notifications_health))
                .with_state(health.clone()),
        );
    server::finish(api.merge(health.router()), identity_key)
}

const DESCRIPTION: &str = "The e-mails of sign-up and bookings (SMTP, MongoDB). Consumes \
    `ticketflow.user.registered`, `ticketflow.booking.confirmed`, `ticketflow.booking.failed` \
    and `ticketflow.booking.cancelled` (consumer group `notification-service`) and sends each \
    message's mail at most once. Clients reach `/api/notifications/*` through the gateway.";

/// `/health` under the service's API prefix, so it is reachable through the gateway.
#[utoipa::path(
    get,
    path = "/api/notifications/health",
    tag = "notification",
    operation_id = "notifications_health",
    responses((status = 200, description = "The process answers", body = openapi::Liveness)),
)]
async fn notifications_health(State(health): State<Health>) -> Json<Value> {
    Json(health.liveness())
}
