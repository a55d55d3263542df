//! event-service's state: one `Arc<Inner>` shared by every request.

use std::sync::{Arc, OnceLock};

use ticketflow_common::auth::IdentityKey;
use ticketflow_common::kafka::Producer;
use tokio_util::task::TaskTracker;

use crate::error::EventError;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    /// Set once MongoDB answered; until then requests needing it get `503`.
    store: OnceLock<Store>,
    pub producer: Producer,
    pub identity_key: IdentityKey,
    /// Publications started by requests; shutdown waits for them.
    pub tasks: TaskTracker,
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(producer: Producer, identity_key: IdentityKey) -> Self {
        Self(Arc::new(Inner {
            store: OnceLock::new(),
            producer,
            identity_key,
            tasks: TaskTracker::new(),
        }))
    }

    pub fn set_store(&self, store: Store) {
        // Only the startup task sets it, once.
        let _ = self.0.store.set(store);
    }

    /// The store once MongoDB has answered; `StoreStarting` (503) before that.
    pub fn store(&self) -> Result<&Store, EventError> {
        self.0.store.get().ok_or(EventError::StoreStarting)
    }

    /// Stops accepting background work and waits (up to `limit`) for what is running.
    pub async fn drain(&self, limit: std::time::Duration) -> bool {
        self.0.tasks.close();
        tokio::time::timeout(limit, self.0.tasks.wait())
            .await
            .is_ok()
    }
}
