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

    /// Joins `span` to the caller's trace and makes the `traceparent` we pass on name it.
    ///
    /// With OpenTelemetry export on, `span` gets the incoming `traceparent` as its parent (via
    /// the registered W3C propagator) and our outgoing `traceparent` carries `span`'s own trace
    /// and span ids, so what we send and what we export link up. Without export there is no
    /// span context, and the random child id made by `from_incoming` stays.
    pub fn link(&mut self, span: &tracing::Span, incoming_traceparent: Option<&str>) {
        use opentelemetry::trace::TraceContextExt as _;
        use tracing_opentelemetry::OpenTelemetrySpanExt as _;

        if let Some(parent) = incoming_traceparent.filter(|tp| valid_traceparent(tp)) {
            let carrier = Traceparent(parent);
            let cx = opentelemetry::global::get_text_map_propagator(|p| p.extract(&carrier));
            span.set_parent(cx);
        }
        let cx = span.context();
        let own = cx.span().span_context().clone();
        if own.is_valid() {
            self.traceparent = format!(
                "00-{}-{}-{:02x}",
                own.trace_id(),
                own.span_id(),
                own.trace_flags().to_u8()
            );
        }
    }
}

/// A carrier holding just an incoming `traceparent`, for the propagator to read.
struct Traceparent<'a>(&'a str);

impl opentelemetry::propagation::Extractor for Traceparent<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        (key == "traceparent").then_some(self.0)
    }

    fn keys(&self) -> Vec<&str> {
        vec!["traceparent"]
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
    let (mut ctx, incoming_traceparent) = {
        let headers = request.headers();
        let header = |name: &HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
        let incoming = header(&TRACEPARENT).map(str::to_owned);
        (
            RequestContext::from_incoming(header(&REQUEST_ID), incoming.as_deref()),
            incoming,
        )
    };
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %ctx.request_id,
    );
    ctx.link(&span, incoming_traceparent.as_deref());
    for (name, value) in [
        (REQUEST_ID, &ctx.request_id),
        (TRACEPARENT, &ctx.traceparent),
    ] {
        if let Ok(value) = HeaderValue::from_str(value) {
            request.headers_mut().insert(name, value);
        }
    }
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
    fn with_export_on_the_traceparent_we_send_names_our_exported_span() {
        use opentelemetry::trace::{TraceContextExt as _, TracerProvider as _};
        use tracing_opentelemetry::OpenTelemetrySpanExt as _;
        use tracing_subscriber::layer::SubscriberExt as _;

        opentelemetry::global::set_text_map_propagator(
            opentelemetry_sdk::propagation::TraceContextPropagator::new(),
        );
        let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("request");
            let mut ctx = RequestContext::from_incoming(None, Some(parent));
            ctx.link(&span, Some(parent));
            let exported = span.context().span().span_context().clone();
            assert_eq!(
                exported.trace_id().to_string(),
                "4bf92f3577b34da6a3ce929d0e0e4736",
                "the exported span continues the caller's trace"
            );
            assert_eq!(
                ctx.traceparent,
                format!("00-{}-{}-01", exported.trace_id(), exported.span_id()),
                "the next hop's parent is the span we export"
            );
        });
    }

    #[test]
    fn rejects_zero_trace_ids() {
        assert!(!valid_traceparent(
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01"
        ));
    }
}
