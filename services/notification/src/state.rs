//! notification-service's state: one `Arc<Inner>` shared by requests and the consumer.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use ticketflow_common::auth::IdentityKey;

use crate::error::NotificationError;
use crate::mail::Presentation;
use crate::mailer::Mailer;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    /// Set once MongoDB answered; until then requests needing it get `503`.
    store: OnceLock<Store>,
    pub identity_key: IdentityKey,
    pub mailer: Mailer,
    pub presentation: Presentation,
    /// Sending attempts of one mail before it is given up (`SMTP_MAX_ATTEMPTS`).
    pub max_attempts: usize,
    /// How long a claimed attempt may last before another delivery takes it over.
    pub claim_lease: Duration,
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(
        identity_key: IdentityKey,
        mailer: Mailer,
        presentation: Presentation,
        max_attempts: usize,
        claim_lease: Duration,
    ) -> Self {
        Self(Arc::new(Inner {
            store: OnceLock::new(),
            identity_key,
            mailer,
            presentation,
            max_attempts,
            claim_lease,
        }))
    }

    pub fn set_store(&self, store: Store) {
        // Only the startup task sets it, once.
        let _ = self.0.store.set(store);
    }

    /// The store once MongoDB has answered; `StoreStarting` (503) before that.
    pub fn store(&self) -> Result<&Store, NotificationError> {
        self.0.store.get().ok_or(NotificationError::StoreStarting)
    }
}
