//! Per-request correlation: `x-request-id` and W3C `traceparent`.
//!
//! The HTTP middleware (and the Kafka consumer runner, from message headers) puts both into a
//! task-local, so the error envelope, outgoing Kafka headers and logs can read them without
//! threading them through every call.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use rand::Rng;
use tracing::Instrument;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
pub const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
const MAX_REQUEST_ID_LEN: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    pub request_id: String,
    pub traceparent: String,
}

tokio::task_local! {
    static CURRENT: RequestContext;
}

impl RequestContext {
    /// Builds a context from incoming values, keeping them only when well formed.
    pub fn from_incoming(request_id: Option<&str>, traceparent: Option<&str>) -> Self {
        Self {
            request_id: request_id
                .filter(|id| valid_request_id(id))
                .map(str::to_owned)
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            traceparent: traceparent
                .filter(|tp| valid_traceparent(tp))
                .map(child_traceparent)
                .unwrap_or_else(new_traceparent),
        }
    }

    pub fn current() -> Option<Self> {
        CURRENT.try_with(Clone::clone).ok()
    }

    /// Runs `fut` with `self` as the current context.
    pub async fn scope<F: std::future::Future>(self, fut: F) -> F::Output {
        CURRENT.scope(self, fut).await
    }
}

/// The request id of the request (or Kafka message) being handled, if any.
pub fn current_request_id() -> Option<String> {
    CURRENT.try_with(|c| c.request_id.clone()).ok()
}

fn valid_request_id(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= MAX_REQUEST_ID_LEN
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

/// `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`, ids not all zero.
pub fn valid_traceparent(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let hex = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit());
    parts.len() == 4
        && parts[0] == "00"
        && hex(parts[1], 32)
        && hex(parts[2], 16)
        && hex(parts[3], 2)
        && parts[1].bytes().any(|b| b != b'0')
        && parts[2].bytes().any(|b| b != b'0')
}

fn random_hex(bytes: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..bytes)
        .map(|_| format!("{:02x}", rng.gen::<u8>()))
        .collect()
}

pub fn new_traceparent() -> String {
    format!("00-{}-{}-01", random_hex(16), random_hex(8))
}

/// Same trace, new span id: this hop becomes the parent of the next one.
fn child_traceparent(parent: &str) -> String {
    let trace_id = parent.split('-').nth(1).unwrap_or_default();
    let flags = parent.rsplit('-').next().unwrap_or("01");
    format!("00-{trace_id}-{}-{flags}", random_hex(8))
}

/// Middleware: the outermost layer of every service and the gateway.
pub async fn middleware(mut request: Request, next: Next) -> Response {
    let ctx = {
        let headers = request.headers();
        let header = |name: &HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
        RequestContext::from_incoming(header(&REQUEST_ID), header(&TRACEPARENT))
    };
    for (name, value) in [
        (REQUEST_ID, &ctx.request_id),
        (TRACEPARENT, &ctx.traceparent),
    ] {
        if let Ok(value) = HeaderValue::from_str(value) {
            request.headers_mut().insert(name, value);
        }
    }
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %ctx.request_id,
    );
    let request_id = ctx.request_id.clone();
    let mut response = ctx.scope(next.run(request).instrument(span)).await;
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_sane_ids_and_replaces_odd_ones() {
        let ctx = RequestContext::from_incoming(Some("abc-123"), None);
        assert_eq!(ctx.request_id, "abc-123");
        assert!(valid_traceparent(&ctx.traceparent));
        let odd = RequestContext::from_incoming(Some("bad id\n"), Some("nonsense"));
        assert_ne!(odd.request_id, "bad id\n");
        assert!(uuid::Uuid::parse_str(&odd.request_id).is_ok());
    }

    #[test]
    fn continues_an_incoming_trace() {
        let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let ctx = RequestContext::from_incoming(None, Some(parent));
        assert!(ctx
            .traceparent
            .starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"));
        assert!(!ctx.traceparent.contains("00f067aa0ba902b7"));
        assert!(valid_traceparent(&ctx.traceparent));
    }

    #[test]
    fn rejects_zero_trace_ids() {
        assert!(!valid_traceparent(
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01"
        ));
    }
}
