//! The router: every route module's routes, health, and the shared frame.

use axum::Router;
use ticketflow_common::health::Health;
use ticketflow_common::{openapi, server};

use crate::routes;
use crate::state::AppState;

/// Every route of event-service (its README), plus `/health`, `/health/ready`, `/metrics` and `/openapi.json`
/// (every one documented: see [`ticketflow_common::openapi`]).
pub fn router(state: AppState) -> Router {
    let probe = state.clone();
    let health = Health::new(crate::SERVICE).check("mongodb", move || {
        let state = probe.clone();
        async move {
            let store = state.store().map_err(anyhow::Error::from)?;
            store.ping().await?;
            Ok(())
        }
    });
    let routes = openapi::router(crate::SERVICE, DESCRIPTION)
        .merge(routes::events::router())
        .merge(routes::venues::router())
        .merge(health.router())
        .with_state(state.clone());
    server::finish(routes, state.identity_key.clone())
}

const DESCRIPTION: &str = "The catalogue of events and venues. Creating an event \
    publishes `ticketflow.event.created`; `available_seats` follows inventory-service's \
    `ticketflow.seats.availability` reports (consumer group `event-service`). Clients reach \
    `/api/events/*` and `/api/venues/*` through the gateway.";
