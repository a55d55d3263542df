//! TicketFlow API gateway: verifies the JWT, injects identity, rate limits,
//! answers CORS, and streams `/api/<prefix>…` to the owning service.
//!
//! Tests start it in-process: `run(Config::for_test(secret, identity_key, upstreams), listener, token)`.

pub mod app;
pub mod auth;
pub mod config;
pub mod domain;
pub mod middleware;
pub mod routes;
pub mod state;

use std::net::SocketAddr;

use ticketflow_common::{server, telemetry};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use app::{internal_router, router};
pub use config::{Config, InvalidUpstream, Service, Upstream, Upstreams};
pub use state::AppState;

/// The name the gateway reports in health, logs and traces.
pub const SERVICE: &str = "gateway";

/// Serves the gateway on `listener` (and `/metrics` on `METRICS_PORT` when set) until
/// `shutdown` fires, then drains in-flight requests.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let mut metrics_listener = None;
    if let Some(port) = config.metrics_port {
        let addr = SocketAddr::new(ticketflow_common::config::metrics_bind_ip()?, port);
        metrics_listener = Some(TcpListener::bind(addr).await.map_err(|e| {
            anyhow::anyhow!(
                "cannot listen on {addr} (METRICS_PORT): {e}; set METRICS_PORT to a free port, or 0 to disable it"
            )
        })?);
    }
    run_on(config, listener, metrics_listener, shutdown).await
}

/// [`run`] with the internal listener (`/metrics`, `/health/ready`) already bound, or none;
/// `config.metrics_port` is not looked at. Tests bind it to port 0 and read its address.
pub async fn run_on(
    config: Config,
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let state = AppState::new(&config)?;
    if let Some(web) = &state.web {
        let dir = web.root().display();
        if web.is_built() {
            tracing::info!(dir = %dir, "serving the web app (WEB_DIR)");
        } else {
            tracing::warn!(dir = %dir, "no web app in WEB_DIR (no index.html): `make web-build` builds it; non-API paths answer 404 until then");
        }
    }
    let metrics_shutdown = shutdown.child_token();
    let mut metrics_server = None;
    if let Some(metrics_listener) = metrics_listener {
        // Install the recorder before the first request is counted.
        telemetry::metrics_handle();
        let addr = metrics_listener.local_addr()?;
        tracing::info!(%addr, "serving /metrics on the internal metrics port");
        metrics_server = Some(tokio::spawn(server::serve(
            metrics_listener,
            app::internal_router(&state),
            metrics_shutdown.clone(),
        )));
    }
    let result = server::serve(listener, app::router(state), shutdown).await;
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
