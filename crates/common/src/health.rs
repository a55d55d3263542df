//! `GET /health` (liveness: the process answers) and `GET /health/ready` (every dependency
//! answers within its time limit).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::openapi;

type CheckFuture = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>;
type Check = Arc<dyn Fn() -> CheckFuture + Send + Sync>;

const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Clone)]
pub struct Health {
    service: &'static str,
    started: Instant,
    checks: Vec<(&'static str, Check)>,
}

impl Health {
    pub fn new(service: &'static str) -> Self {
        Self {
            service,
            started: Instant::now(),
            checks: Vec::new(),
        }
    }

    /// Adds a readiness check; `f` is called on every `/health/ready`.
    pub fn check<F, Fut>(mut self, name: &'static str, f: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        self.checks.push((name, Arc::new(move || Box::pin(f()))));
        self
    }

    /// `postgres` (the server answers) and `schema` (migrations applied).
    #[cfg(feature = "postgres")]
    pub fn database(self, database: &crate::pg::Database) -> Self {
        let schema = database.clone();
        self.postgres(database.pool().clone())
            .check("schema", move || {
                let ready = schema.schema_ready();
                async move {
                    anyhow::ensure!(ready, "migrations not applied yet");
                    Ok(())
                }
            })
    }

    #[cfg(feature = "postgres")]
    pub fn postgres(self, pool: sqlx::PgPool) -> Self {
        self.check("postgres", move || {
            let pool = pool.clone();
            async move {
                sqlx::query("SELECT 1").execute(&pool).await?;
                Ok(())
            }
        })
    }

    pub fn liveness(&self) -> Value {
        json!({
            "status": "up",
            "service": self.service,
            "version": env!("CARGO_PKG_VERSION"),
            "uptime": self.started.elapsed().as_secs(),
            "timestamp": crate::time::now_rfc3339(),
        })
    }

    /// Runs every check at once; `(all_up, body)`.
    pub async fn readiness(&self) -> (bool, Value) {
        let results =
            futures::future::join_all(self.checks.iter().map(|(name, check)| async move {
                let outcome = tokio::time::timeout(CHECK_TIMEOUT, check()).await;
                let up = match outcome {
                    Ok(Ok(())) => true,
                    Ok(Err(err)) => {
                        tracing::warn!(dependency = name, error = format!("{err:#}"), "not ready");
                        false
                    }
                    Err(_) => {
                        tracing::warn!(dependency = name, "readiness check timed out");
                        false
                    }
                };
                (*name, up)
            }))
            .await;
        let all_up = results.iter().all(|(_, up)| *up);
        let checks: Map<String, Value> = results
            .into_iter()
            .map(|(name, up)| (name.to_owned(), json!(if up { "up" } else { "down" })))
            .collect();
        let body = json!({
            "status": if all_up { "up" } else { "down" },
            "service": self.service,
            "checks": checks,
        });
        (all_up, body)
    }

    /// `/health` and `/health/ready`, documented; services add their own aliases (e.g.
    /// `/api/users/health`).
    pub fn router<S: Clone + Send + Sync + 'static>(self) -> OpenApiRouter<S> {
        self.clone()
            .liveness_router()
            .merge(self.readiness_router())
    }

    /// `/health` alone: liveness, for a public listener.
    pub fn liveness_router<S: Clone + Send + Sync + 'static>(self) -> OpenApiRouter<S> {
        OpenApiRouter::default()
            .routes(routes!(liveness))
            .with_state(self)
    }

    /// `/health/ready` alone: readiness names dependencies, so it belongs on an internal one.
    pub fn readiness_router<S: Clone + Send + Sync + 'static>(self) -> OpenApiRouter<S> {
        OpenApiRouter::default()
            .routes(routes!(readiness))
            .with_state(self)
    }
}

/// Liveness: the process answers.
#[utoipa::path(
    get,
    path = "/health",
    tag = "health",
    operation_id = "health",
    responses((status = 200, description = "The process answers", body = openapi::Liveness)),
)]
async fn liveness(State(health): State<Health>) -> Json<Value> {
    Json(health.liveness())
}

/// Readiness: every dependency answers within its time limit.
#[utoipa::path(
    get,
    path = "/health/ready",
    tag = "health",
    operation_id = "health_ready",
    responses(
        (status = 200, description = "Every dependency is up", body = openapi::Readiness),
        (status = 503, description = "A dependency is down (same body, `status: down`)", body = openapi::Readiness),
    ),
)]
async fn readiness(State(health): State<Health>) -> Response {
    let (up, body) = health.readiness().await;
    let status = if up {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}
