//! State, router and the `run` entry point.
//!
//! Layers, outermost first: request context (`x-request-id`, `traceparent`) → metrics →
//! CORS (answers preflights itself) → rate limit → routes (`/health`, `/health/all`,
//! `/api/docs/openapi.json`, and a fallback that forwards `/api/<prefix>…` or answers the
//! 404/400 envelope).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::routing::get;
use axum::{middleware, Router};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use ticketflow_common::auth::IdentityKey;
use ticketflow_common::config::Secret;
use ticketflow_common::health::Health;
use ticketflow_common::{openapi, server, telemetry};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use utoipa_axum::routes;

use crate::config::{Config, Upstreams};
use crate::domain::rate_limit::{RateLimiter, DEFAULT_CAPACITY};
use crate::middleware::Cors;
use crate::routes;

pub type HttpClient = Client<HttpConnector, axum::body::Body>;

/// Idle pooled upstream connections are closed after this long.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
const POOL_MAX_IDLE_PER_HOST: usize = 64;
/// Connecting to an upstream never takes longer than this (within the overall timeout).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub jwt_secret: Secret,
    pub identity_key: IdentityKey,
    pub upstreams: Upstreams,
    pub client: HttpClient,
    pub upstream_timeout: Duration,
    pub trust_proxy: bool,
    pub limiter: Option<RateLimiter>,
    pub cors: Cors,
    pub health: Health,
    pub started: Instant,
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        config.validate()?;
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(CONNECT_TIMEOUT));
        connector.enforce_http(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .pool_max_idle_per_host(POOL_MAX_IDLE_PER_HOST)
            .build(connector);
        let limiter = (config.rate_limit_max > 0).then(|| {
            RateLimiter::new(
                config.rate_limit_max,
                config.rate_limit_window,
                DEFAULT_CAPACITY,
            )
        });
        Ok(Self(Arc::new(Inner {
            jwt_secret: config.jwt_secret.clone(),
            identity_key: config.identity_key.clone(),
            upstreams: config.upstreams.clone(),
            client,
            upstream_timeout: config.upstream_timeout,
            trust_proxy: config.trust_proxy,
            limiter,
            cors: Cors::new(&config.cors_origins)?,
            health: Health::new("gateway"),
            started: Instant::now(),
        })))
    }
}

/// The public router (port 3000). No `/metrics` or `/health/ready` here: see
/// [`internal_router`]. The gateway's own routes are documented (see
/// [`ticketflow_common::openapi`]); `GET /api/docs/openapi.json` merges in the services'.
pub fn router(state: AppState) -> Router {
    let own = openapi::router("TicketFlow API", routes::docs::DESCRIPTION)
        .merge(state.health.clone().liveness_router())
        .routes(routes!(routes::health::all))
        .routes(routes!(routes::docs::openapi));
    let app = openapi::attach(own)
        .fallback(routes::proxy::forward)
        .method_not_allowed_fallback(server::method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::middleware::rate_limit,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::middleware::cors,
        ))
        .layer(middleware::from_fn(crate::middleware::track))
        .with_state(state);
    server::with_request_context(app)
}

/// The internal router (`METRICS_PORT`, loopback unless `METRICS_BIND_ADDR` says otherwise):
/// `GET /metrics` and `GET /health/ready` (the gateway has no dependencies: up while serving).
pub fn internal_router(state: &AppState) -> Router {
    Router::new()
        .route("/metrics", get(telemetry::metrics_endpoint))
        .merge(state.health.clone().readiness_router())
        .fallback(server::not_found)
}

/// Serves the gateway on `listener` (and `/metrics` on `METRICS_PORT` when set) until
/// `shutdown` fires, then drains in-flight requests.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let state = AppState::new(&config)?;
    let metrics_shutdown = shutdown.child_token();
    let mut metrics_server = None;
    if let Some(port) = config.metrics_port {
        // Install the recorder before the first request is counted.
        telemetry::metrics_handle();
        let addr = SocketAddr::new(ticketflow_common::config::metrics_bind_ip()?, port);
        let metrics_listener = TcpListener::bind(addr).await.map_err(|e| {
            anyhow::anyhow!(
                "cannot listen on {addr} (METRICS_PORT): {e}; set METRICS_PORT to a free port, or 0 to disable it"
            )
        })?;
        tracing::info!(%addr, "serving /metrics on the internal metrics port");
        metrics_server = Some(tokio::spawn(server::serve(
            metrics_listener,
            internal_router(&state),
            metrics_shutdown.clone(),
        )));
    }
    let result = server::serve(listener, router(state), shutdown).await;
    metrics_shutdown.cancel();
    if let Some(task) = metrics_server {
        match task.await {
            Ok(Err(err)) => tracing::warn!(error = %err, "metrics listener failed"),
            Err(err) => tracing::warn!(error = %err, "metrics listener task failed"),
            Ok(Ok(())) => {}
        }
    }
    result
}
