//! user-service's state: one `Arc<Inner>` shared by every request.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use sqlx::PgPool;
use ticketflow_common::auth::IdentityKey;
use ticketflow_common::config::Secret;
use ticketflow_common::{ApiError, ApiResult};

use crate::config::Config;
use crate::password::Passwords;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pool: PgPool,
    /// Set once migrations ran; until then store-backed routes answer `503`.
    schema_ready: AtomicBool,
    pub passwords: Passwords,
    pub jwt_secret: Secret,
    pub jwt_expiration_ms: i64,
    pub identity_key: IdentityKey,
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(pool: PgPool, config: &Config) -> Self {
        Self(Arc::new(Inner {
            pool,
            schema_ready: AtomicBool::new(false),
            passwords: Passwords::new(config.password_cost),
            jwt_secret: config.jwt_secret.clone(),
            jwt_expiration_ms: config.jwt_expiration_ms,
            identity_key: config.identity_key.clone(),
        }))
    }

    /// The pool, once the schema is in place; `503 SERVICE_UNAVAILABLE` before that.
    pub fn db(&self) -> ApiResult<&PgPool> {
        if self.schema_ready() {
            Ok(&self.0.pool)
        } else {
            Err(ApiError::unavailable(
                "The user database is not ready yet, try again shortly",
            ))
        }
    }

    /// The pool whether or not the schema is ready (readiness checks).
    pub fn pool(&self) -> &PgPool {
        &self.0.pool
    }

    pub fn schema_ready(&self) -> bool {
        self.0.schema_ready.load(Ordering::Acquire)
    }

    pub fn mark_schema_ready(&self) {
        self.0.schema_ready.store(true, Ordering::Release);
    }
}
