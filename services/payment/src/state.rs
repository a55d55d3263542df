//! payment-service's state: one `Arc<Inner>` shared by requests and the consumer.

use std::sync::{Arc, OnceLock};

use ticketflow_common::auth::IdentityKey;
use ticketflow_common::kafka::Producer;

use crate::error::PaymentError;
use crate::provider::MockProvider;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    /// Set once MongoDB answered; until then requests needing it get `503`.
    store: OnceLock<Store>,
    pub producer: Producer,
    pub identity_key: IdentityKey,
    pub provider: MockProvider,
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(producer: Producer, identity_key: IdentityKey, provider: MockProvider) -> Self {
        Self(Arc::new(Inner {
            store: OnceLock::new(),
            producer,
            identity_key,
            provider,
        }))
    }

    pub fn set_store(&self, store: Store) {
        // Only the startup task sets it, once.
        let _ = self.0.store.set(store);
    }

    /// The store once MongoDB has answered; `StoreStarting` (503) before that.
    pub fn store(&self) -> Result<&Store, PaymentError> {
        self.0.store.get().ok_or(PaymentError::StoreStarting)
    }
}
