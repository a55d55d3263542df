//! Shared state and the router.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::routing::{get, post};
use axum::{Json, Router};
use sqlx::PgPool;
use ticketflow_common::auth::IdentityKey;
use ticketflow_common::config::Secret;
use ticketflow_common::health::Health;
use ticketflow_common::{server, ApiError, ApiResult};

use crate::config::Config;
use crate::password::Passwords;
use crate::routes;

pub const SERVICE: &str = "user-service";

#[derive(Clone)]
pub struct AppState {
    pool: PgPool,
    schema_ready: Arc<AtomicBool>,
    pub passwords: Passwords,
    pub jwt_secret: Secret,
    pub jwt_expiration_ms: i64,
    identity_key: IdentityKey,
}

impl AppState {
    pub fn new(pool: PgPool, config: &Config) -> Self {
        Self {
            pool,
            schema_ready: Arc::new(AtomicBool::new(false)),
            passwords: Passwords::new(config.password_cost),
            jwt_secret: config.jwt_secret.clone(),
            jwt_expiration_ms: config.jwt_expiration_ms,
            identity_key: config.identity_key.clone(),
        }
    }

    /// The pool, once the schema is in place; `503 SERVICE_UNAVAILABLE` before that.
    pub fn db(&self) -> ApiResult<&PgPool> {
        if self.schema_ready() {
            Ok(&self.pool)
        } else {
            Err(ApiError::unavailable(
                "The user database is not ready yet, try again shortly",
            ))
        }
    }

    pub fn schema_ready(&self) -> bool {
        self.schema_ready.load(Ordering::Acquire)
    }

    pub fn mark_schema_ready(&self) {
        self.schema_ready.store(true, Ordering::Release);
    }
}

/// Every route of CONTRACT §4, plus `/health`, `/health/ready` and `/metrics`.
pub fn router(state: AppState) -> Router {
    let ready = state.clone();
    let health = Health::new(SERVICE)
        .postgres(state.pool.clone())
        .check("schema", move || {
            let ready = ready.schema_ready();
            async move {
                anyhow::ensure!(ready, "migrations not applied yet");
                Ok(())
            }
        });
    let live = health.clone();
    let identity_key = state.identity_key.clone();
    let api = Router::new()
        .route("/api/users/register", post(routes::users::register))
        .route("/api/users/login", post(routes::users::login))
        .route("/api/users/me", get(routes::users::me))
        .route(
            "/api/users/health",
            get(move || async move { Json(live.liveness()) }),
        )
        .with_state(state);
    server::finish(api.merge(health.router()), identity_key)
}
