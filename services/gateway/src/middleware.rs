//! Cross-cutting layers of the public router: CORS, rate limiting, request metrics.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ticketflow_common::{telemetry, ApiError};

use crate::domain::rate_limit::Decision;
use crate::domain::routing::{self, Target};
use crate::state::AppState;
use ticketflow_common::client_ip::{client_ip, rate_limit_key};

const ALLOW_METHODS: &str = "GET, POST, PUT, PATCH, DELETE, OPTIONS, HEAD";
const EXPOSE_HEADERS: &str = "x-request-id, retry-after";
const PREFLIGHT_MAX_AGE_SECS: &str = "600";
const PREFLIGHT_VARY: &str =
    "origin, access-control-request-method, access-control-request-headers";

/// The allowed origins (`CORS_ORIGINS`), compared exactly.
#[derive(Debug, Clone)]
pub struct Cors {
    origins: Vec<HeaderValue>,
}

impl Cors {
    pub fn new(origins: &[String]) -> anyhow::Result<Self> {
        let origins = origins
            .iter()
            .map(|o| HeaderValue::from_str(o))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| anyhow::anyhow!("CORS_ORIGINS: invalid origin ({e})"))?;
        Ok(Self { origins })
    }

    fn allows(&self, origin: &HeaderValue) -> bool {
        self.origins.iter().any(|o| o == origin)
    }
}

/// An allowed origin is echoed back, with credentials.
fn allow_origin(headers: &mut axum::http::HeaderMap, origin: HeaderValue) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
        HeaderValue::from_static("true"),
    );
}

/// CORS for the whole public router. A preflight (`OPTIONS` + `Origin` +
/// `Access-Control-Request-Method`) is answered here with 204 and never forwarded; other
/// responses get `Access-Control-Allow-Origin` (echoing an allowed origin), credentials and the
/// exposed headers. The gateway is the only CORS authority: upstream `access-control-*`
/// headers are dropped by the proxy. A disallowed origin gets no `Access-Control-*` at all.
pub async fn cors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let origin = request.headers().get(header::ORIGIN).cloned();
    let allowed = origin.filter(|o| state.cors.allows(o));
    let preflight = request.method() == Method::OPTIONS
        && request.headers().contains_key(header::ORIGIN)
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        let mut response = StatusCode::NO_CONTENT.into_response();
        let headers = response.headers_mut();
        if let Some(origin) = allowed {
            allow_origin(headers, origin);
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static(ALLOW_METHODS),
            );
            if let Some(requested) = request
                .headers()
                .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
            {
                headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, requested.clone());
            }
            headers.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static(PREFLIGHT_MAX_AGE_SECS),
            );
        }
        headers.append(header::VARY, HeaderValue::from_static(PREFLIGHT_VARY));
        return response;
    }
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if let Some(origin) = allowed {
        allow_origin(headers, origin);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSE_HEADERS),
        );
    }
    headers.append(header::VARY, HeaderValue::from_static("origin"));
    response
}

/// The socket peer (unspecified when the router runs without connect info).
pub fn peer_ip(request: &Request) -> IpAddr {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// `RATE_LIMIT_MAX` per `RATE_LIMIT_WINDOW_MS` per client → `429 RATE_LIMITED` + `Retry-After`.
/// `GET /health` (liveness probes) is exempt, and so are the web app's hashed `/assets/*` when
/// it is served: immutable files read from disk, which a browser fetches once per build, and
/// which must not fail a page's lazy-loaded code because its API calls used up the window.
pub async fn rate_limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if let Some(limiter) = &state.limiter {
        let read = matches!(*request.method(), Method::GET | Method::HEAD);
        let path = request.uri().path();
        let liveness = read && path == "/health";
        let asset = read && state.web.is_some() && path.starts_with("/assets/");
        if !liveness && !asset {
            let ip = client_ip(request.headers(), peer_ip(&request), state.trust_proxy);
            if let Decision::Deny { retry_after } =
                limiter.check(rate_limit_key(ip), Instant::now())
            {
                metrics::counter!("gateway_rate_limited_total").increment(1);
                return ApiError::rate_limited(Decision::retry_after_secs(retry_after))
                    .into_response();
            }
        }
    }
    next.run(request).await
}

/// Access log line, request count and latency by method, `path` label (service name, `health`,
/// `health_ready`, `health_all`, `docs`, `web` (any other non-API path: the web app or its 404)
/// or `unmatched`) and status — label values are a fixed set, never raw paths.
pub async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let path = request.uri().path().to_owned();
    let route = match path.as_str() {
        "/health" => "health",
        "/health/ready" => "health_ready",
        "/health/all" => "health_all",
        "/api/docs/openapi.json" => "docs",
        path => match routing::resolve(path) {
            Target::Proxy(service) => service.name(),
            Target::NotFound if !path.starts_with("/api") => "web",
            Target::NotFound | Target::BadPath => "unmatched",
        },
    };
    let method = request.method().clone();
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    // Access log: path without the query string (it may carry search terms or ids).
    tracing::info!(
        method = telemetry::method_label(&method),
        path = %path,
        status,
        latency_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
        "request"
    );
    telemetry::record_http(&method, route.to_owned(), status, elapsed);
    response
}
