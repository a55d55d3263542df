//! The routing table: which upstream serves a path, and which routes are public.
//!
//! Only the `/api/<prefix>[/…]` space is ever forwarded, matched on whole path segments, and a
//! path with a dot segment, an encoded slash/backslash or a malformed escape is refused before
//! anything else, so no request can be steered to a service's `/metrics`, `/health/ready` or
//! any other internal endpoint.

use axum::http::Method;

use crate::config::Service;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Forward unchanged to this service.
    Proxy(Service),
    /// Not a path the gateway forwards: `404 NOT_FOUND`.
    NotFound,
    /// Dot segments, encoded separators or bad escapes: `400 VALIDATION_ERROR`.
    BadPath,
}

/// The service owning `/api/<prefix>`.
fn service_of(prefix: &str) -> Option<Service> {
    match prefix {
        "users" => Some(Service::User),
        "events" | "venues" => Some(Service::Event),
        "bookings" => Some(Service::Booking),
        "inventory" => Some(Service::Inventory),
        "payments" => Some(Service::Payment),
        "notifications" => Some(Service::Notification),
        _ => None,
    }
}

/// Where `path` (the raw, still percent-encoded request path) goes.
pub fn resolve(path: &str) -> Target {
    if !is_safe(path) {
        return Target::BadPath;
    }
    match api_segments(path) {
        Some(segments) => match segments.first().and_then(|prefix| service_of(prefix)) {
            Some(service) => Target::Proxy(service),
            None => Target::NotFound,
        },
        None => Target::NotFound,
    }
}

/// The segments after `/api/`, or `None` when the path is not under `/api/`.
fn api_segments(path: &str) -> Option<Vec<&str>> {
    let rest = path.strip_prefix("/api/")?;
    Some(rest.split('/').collect())
}

/// True when no segment is `.`/`..` (literally or percent-encoded), no escape hides a `/`,
/// `\` or control byte, and every escape is well formed.
pub fn is_safe(path: &str) -> bool {
    if !path.starts_with('/') {
        return false;
    }
    path.split('/')
        .all(|segment| match percent_decode(segment) {
            None => false,
            Some(bytes) => {
                bytes != b"."
                    && bytes != b".."
                    && !bytes
                        .iter()
                        .any(|&b| b == b'/' || b == b'\\' || b.is_ascii_control())
            }
        })
}

fn percent_decode(segment: &str) -> Option<Vec<u8>> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let text = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(text, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

/// Public routes: a missing or bad token there means "anonymous", elsewhere 401.
/// The gateway's own `/health`, `/health/all` and `/api/docs/openapi.json` (public) never reach
/// this check.
pub fn is_public(method: &Method, path: &str) -> bool {
    let Some(segments) = api_segments(path) else {
        return false;
    };
    let read = method == Method::GET || method == Method::HEAD;
    match segments.as_slice() {
        ["users", "register"] | ["users", "login"] => method == Method::POST,
        ["events", ..] | ["venues", ..] => read,
        // The seat map, and its Server-Sent-Events stream (long-lived, see `routes::proxy`).
        ["inventory", "events", id, "seats"] | ["inventory", "events", id, "seats", "stream"] => {
            read && !id.is_empty()
        }
        // Every service's `/api/<prefix>/health` (users, bookings, notifications have one).
        [prefix, "health"] => read && service_of(prefix).is_some(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_every_prefix_on_segment_boundaries() {
        let cases = [
            ("/api/users", Target::Proxy(Service::User)),
            ("/api/users/me", Target::Proxy(Service::User)),
            ("/api/users/", Target::Proxy(Service::User)),
            ("/api/events", Target::Proxy(Service::Event)),
            ("/api/venues/1", Target::Proxy(Service::Event)),
            ("/api/bookings/my", Target::Proxy(Service::Booking)),
            (
                "/api/inventory/events/x/seats",
                Target::Proxy(Service::Inventory),
            ),
            (
                "/api/inventory/events/x/seats/stream",
                Target::Proxy(Service::Inventory),
            ),
            ("/api/payments/booking/1", Target::Proxy(Service::Payment)),
            (
                "/api/notifications/recent",
                Target::Proxy(Service::Notification),
            ),
            ("/api/usersX", Target::NotFound),
            ("/api/users-admin/x", Target::NotFound),
            // The gateway's own API document: served by the gateway, never forwarded.
            ("/api/docs/openapi.json", Target::NotFound),
            ("/api/docs", Target::NotFound),
            ("/api", Target::NotFound),
            ("/api/", Target::NotFound),
            ("/API/users", Target::NotFound),
            ("/api//users", Target::NotFound),
            ("/metrics", Target::NotFound),
            ("/health/ready", Target::NotFound),
            ("/users", Target::NotFound),
        ];
        for (path, expected) in cases {
            assert_eq!(resolve(path), expected, "{path}");
        }
    }

    #[test]
    fn refuses_traversal_in_every_spelling() {
        for path in [
            "/api/users/../../metrics",
            "/api/users/..",
            "/api/users/./me",
            "/api/users/%2e%2e/%2E%2E/metrics",
            "/api/users/.%2e/metrics",
            "/api/users/..%2f..%2fmetrics",
            "/api/users/%2F..",
            "/api/users/..%5c..%5cmetrics",
            "/api/users/%00",
            "/api/users/%zz",
            "/api/users/%2",
            "/../api/users",
            "/api/../metrics",
        ] {
            assert_eq!(resolve(path), Target::BadPath, "{path}");
        }
        assert_eq!(resolve("/api/events/a%20b"), Target::Proxy(Service::Event));
        assert_eq!(resolve("/api/events/...x"), Target::Proxy(Service::Event));
    }

    #[test]
    fn public_routes_are_exactly_the_contract_list() {
        let public = [
            (Method::POST, "/api/users/register"),
            (Method::POST, "/api/users/login"),
            (Method::GET, "/api/events"),
            (Method::GET, "/api/events/abc"),
            (Method::HEAD, "/api/events"),
            (Method::GET, "/api/venues"),
            (Method::GET, "/api/venues/abc"),
            (Method::GET, "/api/inventory/events/abc/seats"),
            (Method::HEAD, "/api/inventory/events/abc/seats"),
            (Method::GET, "/api/inventory/events/abc/seats/stream"),
            (Method::HEAD, "/api/inventory/events/abc/seats/stream"),
            (Method::GET, "/api/users/health"),
            (Method::GET, "/api/bookings/health"),
            (Method::GET, "/api/notifications/health"),
        ];
        for (method, path) in public {
            assert!(is_public(&method, path), "{method} {path}");
        }
        let protected = [
            (Method::GET, "/api/users/register"),
            (Method::GET, "/api/users/me"),
            (Method::POST, "/api/users/me"),
            (Method::POST, "/api/events"),
            (Method::PUT, "/api/events/abc"),
            (Method::POST, "/api/venues"),
            (Method::DELETE, "/api/venues/x"),
            (Method::GET, "/api/inventory/events//seats"),
            (Method::GET, "/api/inventory/events/abc/seats/1"),
            (Method::POST, "/api/inventory/events/abc/seats"),
            (Method::POST, "/api/inventory/events/abc/seats/stream"),
            (Method::PUT, "/api/inventory/events/abc/seats/stream"),
            (Method::DELETE, "/api/inventory/events/abc/seats/stream"),
            (Method::GET, "/api/inventory/events//seats/stream"),
            (Method::GET, "/api/inventory/events/abc/seats/stream/x"),
            (Method::GET, "/api/inventory/events/abc/seats/stream/"),
            (Method::GET, "/api/inventory/events/abc/stream"),
            (Method::GET, "/api/inventory/events/seats/stream"),
            (Method::GET, "/api/inventory/events/abc/seats/streams"),
            (Method::GET, "/api/bookings/my"),
            (Method::POST, "/api/bookings"),
            (Method::GET, "/api/payments/x"),
            (Method::GET, "/api/notifications/recent"),
            (Method::POST, "/api/users/health"),
            (Method::GET, "/api/users/health/x"),
            (Method::POST, "/api/users/login/"),
            (Method::GET, "/health"),
        ];
        for (method, path) in protected {
            assert!(!is_public(&method, path), "{method} {path}");
        }
    }
}
