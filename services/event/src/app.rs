//! Shared state and the router.

use std::sync::{Arc, OnceLock};

use axum::Router;
use ticketflow_common::auth::IdentityKey;
use ticketflow_common::health::Health;
use ticketflow_common::kafka::Producer;
use ticketflow_common::{openapi, server, ApiError, ApiResult};
use tokio_util::task::TaskTracker;
use utoipa_axum::routes;

use crate::routes;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    /// Set once MongoDB answered; until then requests needing it get `503`.
    store: OnceLock<Store>,
    producer: Producer,
    identity_key: IdentityKey,
    /// Publications started by requests; shutdown waits for them.
    tasks: TaskTracker,
}

impl AppState {
    pub fn new(producer: Producer, identity_key: IdentityKey) -> Self {
        Self {
            inner: Arc::new(Inner {
                store: OnceLock::new(),
                producer,
                identity_key,
                tasks: TaskTracker::new(),
            }),
        }
    }

    pub fn set_store(&self, store: Store) {
        // Only the startup task sets it, once.
        let _ = self.inner.store.set(store);
    }

    pub fn store(&self) -> ApiResult<&Store> {
        self.inner
            .store
            .get()
            .ok_or_else(|| ApiError::unavailable("The event store is starting, try again shortly"))
    }

    pub fn producer(&self) -> &Producer {
        &self.inner.producer
    }

    /// Background work started by a request, awaited on shutdown (`drain`).
    pub fn tasks(&self) -> &TaskTracker {
        &self.inner.tasks
    }

    /// Stops accepting background work and waits (up to `limit`) for what is running.
    pub async fn drain(&self, limit: std::time::Duration) -> bool {
        self.inner.tasks.close();
        tokio::time::timeout(limit, self.inner.tasks.wait())
            .await
            .is_ok()
    }
}

/// Every route of CONTRACT §5, plus `/health`, `/health/ready`, `/metrics` and `/openapi.json`
/// (every one documented: see [`ticketflow_common::openapi`]).
pub fn router(state: AppState) -> Router {
    let probe = state.clone();
    let health = Health::new(crate::SERVICE).check("mongodb", move || {
        let state = probe.clone();
        async move {
            let store = state
                .inner
                .store
                .get()
                .ok_or_else(|| anyhow::anyhow!("not connected yet"))?;
            store.ping().await?;
            Ok(())
        }
    });
    let routes = openapi::router(crate::SERVICE, DESCRIPTION)
        .routes(routes!(routes::events::list, routes::events::create))
        .routes(routes!(routes::events::get, routes::events::update))
        .routes(routes!(routes::events::poster))
        .routes(routes!(routes::venues::list, routes::venues::create))
        .routes(routes!(routes::venues::get))
        .merge(health.router())
        .with_state(state.clone());
    server::finish(routes, state.inner.identity_key.clone())
}

const DESCRIPTION: &str = "The catalogue of events and venues (CONTRACT §5). Creating an event \
    publishes `ticketflow.event.created`. Clients reach `/api/events/*` and `/api/venues/*` \
    through the gateway.";
