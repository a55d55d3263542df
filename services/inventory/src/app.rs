//! The router: every route module's routes, health, and the shared frame.

use ticketflow_common::health::Health;
use ticketflow_common::{openapi, server};

use crate::routes;
use crate::state::AppState;
use crate::SERVICE;

/// Every route of inventory-service (its README), plus `/health`, `/health/ready`, `/metrics`
/// and `/openapi.json`.
pub fn router(state: AppState) -> axum::Router {
    let redis = state.clone();
    let health = Health::new(SERVICE)
        .database(&state.database)
        .check("redis", move || {
            let redis = redis.clone();
            async move {
                redis.gate()?.ping().await?;
                Ok(())
            }
        });
    let identity_key = state.identity_key.clone();
    let api = openapi::router(SERVICE, DESCRIPTION)
        .merge(routes::seats::router())
        .with_state(state);
    server::finish(api.merge(health.router()), identity_key)
}

const DESCRIPTION: &str = "Seat maps and seat locks. Consumes `ticketflow.event.created` \
    (creates the seats), `ticketflow.booking.initiated` (locks them: a Redis gate, PostgreSQL \
    as the arbiter), `ticketflow.seats.confirm` and `ticketflow.seats.release`; publishes \
    `ticketflow.seats.locked`, `ticketflow.seats.lock-failed` and \
    `ticketflow.seats.availability`. Clients reach `/api/inventory/*` through the gateway.";
