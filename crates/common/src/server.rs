//! The HTTP frame every service shares: envelope fallbacks, request context, metrics,
//! body limit, graceful shutdown.

use std::net::SocketAddr;
use std::time::Duration;

use axum::http::StatusCode;
use axum::{middleware, Extension, Router};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::IdentityKey;
use crate::error::ApiError;
use crate::{context, openapi, telemetry};

/// Largest request body a service accepts (the gateway enforces the same).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

pub async fn not_found() -> ApiError {
    ApiError::not_found("NOT_FOUND", "No such route")
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        "Method not allowed on this route",
    )
}

/// Wraps a service's routes: `/metrics`, `/openapi.json` (the document of every route in
/// `routes`, see [`crate::openapi`]), envelope 404/405, metrics, body limit, request context, and
/// the key that identity headers are verified with (see [`crate::auth`]).
pub fn finish(routes: impl Into<OpenApiRouter>, identity: IdentityKey) -> Router {
    // Installed before the first request so no count is lost.
    telemetry::metrics_handle();
    let routes = routes.into().routes(routes!(telemetry::metrics_endpoint));
    let app = openapi::with_document(routes)
        .route_layer(middleware::from_fn(telemetry::track_http))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(Extension(identity))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::GATEWAY_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(middleware::from_fn(payload_too_large));
    with_request_context(app)
}

/// The two outermost layers of every service and the gateway: the request context (request id,
/// `traceparent`, the request span) and, inside its span, the access log — one INFO line per
/// response with status and latency (5xx also as an error).
pub fn with_request_context(app: Router) -> Router {
    use tower_http::trace::{DefaultOnResponse, TraceLayer};
    use tower_http::LatencyUnit;

    let access_log = TraceLayer::new_for_http()
        // The span is the one `context::middleware` opened, with the request id on it.
        .make_span_with(|_: &axum::extract::Request| tracing::Span::current())
        .on_request(())
        .on_response(
            DefaultOnResponse::new()
                .level(tracing::Level::INFO)
                .latency_unit(LatencyUnit::Millis),
        );
    app.layer(access_log)
        .layer(middleware::from_fn(context::middleware))
}

/// The body limit answers 413 with a plain body; give it the envelope.
async fn payload_too_large(
    request: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let response = next.run(request).await;
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE
        && !response
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
    {
        return ApiError::payload_too_large().into_response();
    }
    response
}

/// Cancelled on SIGTERM or Ctrl-C.
pub fn shutdown_token() -> CancellationToken {
    let token = CancellationToken::new();
    let trigger = token.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => {},
            _ = term => {},
        }
        tracing::info!("shutdown requested");
        trigger.cancel();
    });
    token
}

/// What every binary's `main` ends with: `Ok` → exit 0; an error → `<service>: <error chain>`
/// on stderr (the JSON log may not be set up yet, or at all for one-off commands) and exit 1.
#[allow(clippy::print_stderr)]
pub fn exit_code(service: &str, result: anyhow::Result<()>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "{service} stopped");
            eprintln!("{service}: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Listens on `BIND_ADDR` (loopback unless configured) and `port`.
pub async fn bind(port: u16) -> anyhow::Result<TcpListener> {
    let addr = SocketAddr::new(crate::config::bind_ip()?, port);
    TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))
}

/// Limits of the accept loop, the same for every service and the gateway.
#[derive(Debug, Clone, Copy)]
pub struct ServeLimits {
    /// A connection that has not sent complete request headers within this is closed, so a
    /// client sending half a request line cannot hold a connection (and a file descriptor).
    pub header_read_timeout: Duration,
    /// Connections served at once; past this a new connection is closed at once (a fast
    /// refusal, never a hang), so idle or slow clients cannot exhaust file descriptors.
    pub max_connections: usize,
    /// How long shutdown waits for in-flight requests.
    pub drain: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            max_connections: 4096,
            drain: Duration::from_secs(20),
        }
    }
}

/// Serves until `shutdown` fires, then lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    serve_with(listener, app, shutdown, ServeLimits::default()).await
}

/// [`serve`] with explicit limits. `axum::serve` has neither a header-read timeout nor a
/// connection cap, so this is hyper's HTTP/1 connection with both.
pub async fn serve_with(
    listener: TcpListener,
    app: Router,
    shutdown: CancellationToken,
    limits: ServeLimits,
) -> anyhow::Result<()> {
    use axum::extract::ConnectInfo;
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;
    use tower::ServiceExt;

    tracing::info!(addr = %listener.local_addr()?, "listening");
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    loop {
        let (stream, peer) = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(slot) = std::sync::Arc::clone(&slots).try_acquire_owned() else {
            metrics::counter!("http_connections_refused_total").increment(1);
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = app.clone().map_request(
            move |mut request: axum::extract::Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request.map(axum::body::Body::new)
            },
        );
        let connection = graceful
            .watch(http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service)));
        tokio::spawn(async move {
            // Errors here are a client going away or timing out; nothing to act on.
            let _ = connection.await;
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("shutdown: some connections were still busy after the drain limit");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn services_listen_on_loopback_unless_told_otherwise() -> anyhow::Result<()> {
        if std::env::var_os("BIND_ADDR").is_some() {
            return Ok(()); // an operator's explicit choice; the default is what is under test
        }
        let listener = super::bind(0).await?;
        assert!(listener.local_addr()?.ip().is_loopback());
        Ok(())
    }
}
