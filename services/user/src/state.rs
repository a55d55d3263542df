//! user-service's state: one `Arc<Inner>` shared by every request.

use std::sync::Arc;

use sqlx::PgPool;
use ticketflow_common::auth::IdentityKey;
use ticketflow_common::config::Secret;
use ticketflow_common::pg::Database;
use ticketflow_common::{ApiError, ApiResult};

use crate::config::Config;
use crate::password::Passwords;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    /// Store-backed routes answer `503` until the schema is in place.
    pub database: Database,
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
    pub fn new(database: Database, config: &Config) -> Self {
        Self(Arc::new(Inner {
            database,
            passwords: Passwords::new(config.password_cost),
            jwt_secret: config.jwt_secret.clone(),
            jwt_expiration_ms: config.jwt_expiration_ms,
            identity_key: config.identity_key.clone(),
        }))
    }

    /// The pool, once the schema is in place; `503 SERVICE_UNAVAILABLE` before that.
    pub fn db(&self) -> ApiResult<&PgPool> {
        self.database.ready().ok_or_else(|| {
            ApiError::unavailable("The user database is not ready yet, try again shortly")
        })
    }
}
