//! Shared state and the router.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::extract::State;
use axum::{Json, Router};
use serde_json::Value;
use sqlx::PgPool;
use ticketflow_common::auth::IdentityKey;
use ticketflow_common::config::Secret;
use ticketflow_common::health::Health;
use ticketflow_common::{openapi, server, ApiError, ApiResult};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

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

/// Every route of CONTRACT §4, plus `/health`, `/health/ready`, `/metrics` and `/openapi.json`
/// (every one documented: see [`ticketflow_common::openapi`]).
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
    let identity_key = state.identity_key.clone();
    let api = openapi::router(SERVICE, DESCRIPTION)
        .routes(routes!(routes::users::register))
        .routes(routes!(routes::users::login))
        .routes(routes!(routes::users::me))
        .with_state(state)
        .merge(
            OpenApiRouter::default()
                .routes(routes!(users_health))
                .with_state(health.clone()),
        );
    server::finish(api.merge(health.router()), identity_key)
}

const DESCRIPTION: &str = "Registration, login and JWT issuing (CONTRACT §4). Publishes \
    `ticketflow.user.registered`. Clients reach `/api/users/*` through the gateway.";

/// `/health` under the service's API prefix, so it is reachable through the gateway.
#[utoipa::path(
    get,
    path = "/api/users/health",
    tag = "user",
    operation_id = "users_health",
    responses((status = 200, description = "The process answers", body = openapi::Liveness)),
)]
async fn users_health(State(health): State<Health>) -> Json<Value> {
    Json(health.liveness())
}
