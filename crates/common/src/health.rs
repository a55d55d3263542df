//! `GET /health` (liveness: the process answers) and `GET /health/ready` (every dependency
//! answers within its time limit).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Map, Value};

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

    /// `/health` and `/health/ready`; services add their own aliases (e.g. `/api/users/health`).
    pub fn router<S: Clone + Send + Sync + 'static>(self) -> Router<S> {
        self.clone()
            .liveness_router()
            .merge(self.readiness_router())
    }

    /// `/health` alone: liveness, for a public listener.
    pub fn liveness_router<S: Clone + Send + Sync + 'static>(self) -> Router<S> {
        Router::new().route("/health", get(move || async move { Json(self.liveness()) }))
    }

    /// `/health/ready` alone: readiness names dependencies, so it belongs on an internal one.
    pub fn readiness_router<S: Clone + Send + Sync + 'static>(self) -> Router<S> {
        Router::new().route(
            "/health/ready",
            get(move || async move {
                let (up, body) = self.readiness().await;
                let status = if up {
                    StatusCode::OK
                } else {
                    StatusCode::SERVICE_UNAVAILABLE
                };
                (status, Json(body)).into_response()
            }),
        )
    }
}
