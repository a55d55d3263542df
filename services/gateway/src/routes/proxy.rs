//! The reverse proxy: everything under `/api/<prefix>` goes to its service, streamed both ways;
//! any other path is the web app's (`routes::web`) or a 404.
//!
//! Responses are never buffered: the upstream body is handed to hyper frame by frame as it
//! arrives, so long-lived streams (Server-Sent Events such as inventory's
//! `GET /api/inventory/events/:eventId/seats/stream`) pass through as they are produced.
//! `UPSTREAM_TIMEOUT_MS` bounds only the wait for the upstream's response headers; once they
//! have arrived the body may take as long as it likes (it ends when the upstream ends it or
//! the client goes away, which drops the upstream connection).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode, Version};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use ticketflow_common::context::{RequestContext, REQUEST_ID, TRACEPARENT};
use ticketflow_common::server::MAX_BODY_BYTES;
use ticketflow_common::ApiError;

use crate::auth;
use crate::domain::routing::{self, Target};
use crate::middleware::peer_ip;
use crate::state::AppState;
use ticketflow_common::client_ip::{canonical, X_FORWARDED_FOR};

const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
const FORWARDED: HeaderName = HeaderName::from_static("forwarded");
/// nginx (e.g. an ingress in front of the gateway) buffers responses unless told not to.
const X_ACCEL_BUFFERING: HeaderName = HeaderName::from_static("x-accel-buffering");

/// Hop-by-hop headers (RFC 9110 §7.6.1) and friends: never forwarded in either direction.
const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    // The gateway has read (or is reading) the body itself; `100-continue` ends here.
    header::EXPECT,
];

/// The fallback handler of the public router.
pub async fn forward(State(state): State<AppState>, request: Request) -> Response {
    let path = request.uri().path();
    let service = match routing::resolve(path) {
        Target::Proxy(service) => service,
        Target::NotFound => {
            // Not the API's: the web app's, if it has the path (after every API route).
            if let Some(web) = &state.web {
                if let Some(response) = web.serve(request.method(), path, request.headers()).await {
                    return response;
                }
            }
            return ApiError::not_found("NOT_FOUND", "No such route").into_response();
        }
        Target::BadPath => {
            return ApiError::field(
                "path",
                "must not contain '.' or '..' segments, encoded separators or malformed escapes",
            )
            .into_response()
        }
    };

    let identity = auth::identify(&state.jwt_secret, request.headers());
    if identity.is_none() && !routing::is_public(request.method(), path) {
        return ApiError::unauthorized("Authentication required").into_response();
    }

    if declared_length(request.headers()).is_some_and(|len| len > MAX_BODY_BYTES as u64) {
        return ApiError::payload_too_large().into_response();
    }

    let peer = canonical(peer_ip(&request));
    let (parts, body) = request.into_parts();
    let upstream = state.upstreams.get(service);
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or("/");
    let uri = match upstream.uri(path_and_query) {
        Ok(uri) => uri,
        Err(err) => {
            tracing::warn!(error = %err, "cannot build upstream URI");
            return ApiError::field("path", "Invalid request target").into_response();
        }
    };

    let original_host = parts.headers.get(header::HOST).cloned().or_else(|| {
        parts
            .uri
            .authority()
            .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
    });
    let mut headers = parts.headers;
    let chunked = headers.contains_key(header::TRANSFER_ENCODING);
    strip_hop_by_hop(&mut headers);
    if chunked {
        // Framing is the transport's business; never forward a conflicting length.
        headers.remove(header::CONTENT_LENGTH);
    }
    set_forwarding_headers(&mut headers, peer, original_host, state.trust_proxy);
    match HeaderValue::from_str(upstream.authority().as_str()) {
        Ok(host) => {
            headers.insert(header::HOST, host);
        }
        Err(_) => {
            headers.remove(header::HOST);
        }
    }
    if let Some(ctx) = RequestContext::current() {
        for (name, value) in [(REQUEST_ID, ctx.request_id), (TRACEPARENT, ctx.traceparent)] {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        }
    }
    // After the request id is set: the proof covers it.
    auth::apply(&state.identity_key, &mut headers, identity.as_ref());

    // Stream the body through, refusing it once it passes 1 MiB (chunked uploads have no
    // Content-Length to check up front). The flag tells a body overflow from a dead upstream.
    let overflowed = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&overflowed);
    let body = Limited::new(body, MAX_BODY_BYTES).map_err(move |err| {
        if err.is::<LengthLimitError>() {
            flag.store(true, Ordering::Relaxed);
        }
        err
    });

    let mut outgoing = axum::http::Request::new(Body::new(body));
    *outgoing.method_mut() = parts.method.clone();
    *outgoing.uri_mut() = uri;
    *outgoing.version_mut() = Version::HTTP_11;
    *outgoing.headers_mut() = headers;

    let started = Instant::now();
    // The timeout covers sending the request and receiving the response head only: the future
    // of `request` resolves with the head, and the body (`Incoming`) is streamed afterwards,
    // outside of it.
    let result = tokio::time::timeout(state.upstream_timeout, state.client.request(outgoing)).await;
    let elapsed = started.elapsed().as_secs_f64();
    let (outcome, response) = match result {
        Ok(Ok(response)) => ("ok", upstream_response(response)),
        Ok(Err(_)) if overflowed.load(Ordering::Relaxed) => (
            "payload_too_large",
            ApiError::payload_too_large().into_response(),
        ),
        Ok(Err(err)) => {
            tracing::warn!(
                service = service.name(),
                error = %error_chain(&err),
                "upstream unreachable"
            );
            (
                "unavailable",
                ApiError::unavailable(format!(
                    "The {} service is unavailable, try again shortly",
                    service.name()
                ))
                .into_response(),
            )
        }
        Err(_) => {
            tracing::warn!(
                service = service.name(),
                timeout_ms = u64::try_from(state.upstream_timeout.as_millis()).unwrap_or(u64::MAX),
                "upstream timed out"
            );
            (
                "timeout",
                ApiError::new(
                    StatusCode::GATEWAY_TIMEOUT,
                    "GATEWAY_TIMEOUT",
                    format!("The {} service did not answer in time", service.name()),
                )
                .into_response(),
            )
        }
    };
    metrics::counter!(
        "gateway_upstream_requests_total",
        "service" => service.name(),
        "outcome" => outcome
    )
    .increment(1);
    metrics::histogram!("gateway_upstream_duration_seconds", "service" => service.name())
        .record(elapsed);
    response
}

/// The upstream's response with hop-by-hop and CORS headers removed, body streamed (never
/// collected, never timed out).
fn upstream_response(response: hyper::Response<hyper::body::Incoming>) -> Response {
    let (mut parts, body) = response.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    mark_event_stream(&mut parts.headers);
    let cors: Vec<HeaderName> = parts
        .headers
        .keys()
        .filter(|name| name.as_str().starts_with("access-control-"))
        .cloned()
        .collect();
    for name in cors {
        parts.headers.remove(name);
    }
    Response::from_parts(parts, Body::new(body))
}

/// For a `text/event-stream` response: `X-Accel-Buffering: no` and `Cache-Control: no-cache`
/// unless the upstream set them, so a buffering proxy in front (nginx) passes each event on at
/// once and nothing caches the stream.
fn mark_event_stream(headers: &mut HeaderMap) {
    if !is_event_stream(headers) {
        return;
    }
    if !headers.contains_key(&X_ACCEL_BUFFERING) {
        headers.insert(X_ACCEL_BUFFERING, HeaderValue::from_static("no"));
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
}

/// `Content-Type: text/event-stream` (any case, parameters ignored).
fn is_event_stream(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("text/event-stream"))
}

/// The declared `Content-Length`, if any (hyper has already refused malformed ones).
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Removes hop-by-hop headers, every `Proxy-*` header and whatever `Connection` lists.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let listed: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in listed.iter().chain(HOP_BY_HOP.iter()) {
        headers.remove(name);
    }
    let proxy: Vec<HeaderName> = headers
        .keys()
        .filter(|name| name.as_str().starts_with("proxy-"))
        .cloned()
        .collect();
    for name in proxy {
        headers.remove(name);
    }
}

/// `X-Forwarded-For/Proto/Host`. Behind a trusted proxy the chain is kept and extended;
/// otherwise whatever the client claimed is replaced by what the gateway saw.
fn set_forwarding_headers(
    headers: &mut HeaderMap,
    peer: std::net::IpAddr,
    original_host: Option<HeaderValue>,
    trust_proxy: bool,
) {
    let prior_for: Vec<String> = headers
        .get_all(X_FORWARDED_FOR)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_owned)
        .collect();
    let chain = if trust_proxy && !prior_for.is_empty() {
        format!("{}, {peer}", prior_for.join(", "))
    } else {
        peer.to_string()
    };
    headers.remove(X_FORWARDED_FOR);
    if let Ok(value) = HeaderValue::from_str(&chain) {
        headers.insert(X_FORWARDED_FOR, value);
    }
    if !(trust_proxy && headers.contains_key(&X_FORWARDED_PROTO)) {
        headers.insert(X_FORWARDED_PROTO, HeaderValue::from_static("http"));
    }
    if !(trust_proxy && headers.contains_key(&X_FORWARDED_HOST)) {
        match original_host {
            Some(host) => {
                headers.insert(X_FORWARDED_HOST, host);
            }
            None => {
                headers.remove(X_FORWARDED_HOST);
            }
        }
    }
    if !trust_proxy {
        headers.remove(FORWARDED);
    }
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_hop_by_hop_and_connection_listed_headers() -> anyhow::Result<()> {
        let mut h = HeaderMap::new();
        h.insert(header::CONNECTION, "keep-alive, X-Secret-Hop".parse()?);
        h.insert("x-secret-hop", "1".parse()?);
        h.insert("keep-alive", "timeout=5".parse()?);
        h.insert("proxy-authorization", "Basic x".parse()?);
        h.insert("proxy-anything", "1".parse()?);
        h.insert(header::TE, "trailers".parse()?);
        h.insert(header::TRAILER, "x".parse()?);
        h.insert(header::TRANSFER_ENCODING, "chunked".parse()?);
        h.insert(header::UPGRADE, "websocket".parse()?);
        h.insert(header::CONTENT_TYPE, "application/json".parse()?);
        strip_hop_by_hop(&mut h);
        let left: Vec<&str> = h.keys().map(HeaderName::as_str).collect();
        assert_eq!(left, vec!["content-type"]);
        Ok(())
    }

    #[test]
    fn event_streams_are_marked_unbuffered_and_uncached() -> anyhow::Result<()> {
        let mut sse = HeaderMap::new();
        sse.insert(header::CONTENT_TYPE, "text/event-stream".parse()?);
        mark_event_stream(&mut sse);
        assert_eq!(
            sse.get(&X_ACCEL_BUFFERING),
            Some(&HeaderValue::from_static("no"))
        );
        assert_eq!(
            sse.get(header::CACHE_CONTROL),
            Some(&HeaderValue::from_static("no-cache"))
        );

        // Parameters and case do not matter; what the upstream chose is kept.
        let mut chosen = HeaderMap::new();
        chosen.insert(
            header::CONTENT_TYPE,
            "Text/Event-Stream; charset=utf-8".parse()?,
        );
        chosen.insert(header::CACHE_CONTROL, "no-store".parse()?);
        chosen.insert(X_ACCEL_BUFFERING, "yes".parse()?);
        let before = chosen.clone();
        mark_event_stream(&mut chosen);
        assert_eq!(chosen, before);

        // Anything else is left alone.
        for content_type in ["application/json", "text/plain", "text/event-streamx"] {
            let mut other = HeaderMap::new();
            other.insert(header::CONTENT_TYPE, content_type.parse()?);
            mark_event_stream(&mut other);
            assert_eq!(other.len(), 1, "{content_type}");
        }
        let mut none = HeaderMap::new();
        mark_event_stream(&mut none);
        assert!(none.is_empty());
        Ok(())
    }

    #[test]
    fn forwarding_headers_trust_only_a_trusted_proxy() -> anyhow::Result<()> {
        let peer: std::net::IpAddr = "10.1.1.1".parse()?;
        let mut h = HeaderMap::new();
        h.insert(X_FORWARDED_FOR, "6.6.6.6".parse()?);
        h.insert(X_FORWARDED_PROTO, "https".parse()?);
        h.insert(FORWARDED, "for=6.6.6.6".parse()?);
        let mut untrusted = h.clone();
        set_forwarding_headers(&mut untrusted, peer, Some("gw:3000".parse()?), false);
        assert_eq!(
            untrusted.get(X_FORWARDED_FOR),
            Some(&HeaderValue::from_static("10.1.1.1"))
        );
        assert_eq!(
            untrusted.get(X_FORWARDED_PROTO),
            Some(&HeaderValue::from_static("http"))
        );
        assert_eq!(
            untrusted.get(X_FORWARDED_HOST),
            Some(&HeaderValue::from_static("gw:3000"))
        );
        assert!(untrusted.get(FORWARDED).is_none());
        set_forwarding_headers(&mut h, peer, Some("gw:3000".parse()?), true);
        assert_eq!(
            h.get(X_FORWARDED_FOR),
            Some(&HeaderValue::from_static("6.6.6.6, 10.1.1.1"))
        );
        assert_eq!(
            h.get(X_FORWARDED_PROTO),
            Some(&HeaderValue::from_static("https"))
        );
        Ok(())
    }
}
