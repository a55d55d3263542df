//! Which non-API paths the web app (`WEB_DIR`) answers, and with what caching.
//!
//! The gateway's own routes and the whole `/api` space come first and never reach here; of the
//! rest, a path naming a file (its last segment has a dot) is that file or a 404, and any
//! other path is a client route of the single-page app: `index.html`, which routes it in the
//! browser. Paths the API or operators own (`/api…`, `/health…`, `/metrics`, `/openapi.json`)
//! never fall back to the app, so a mistyped API call still gets the JSON 404 envelope.

/// What a `GET`/`HEAD` of a non-API path is answered with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebTarget {
    /// The file at this path relative to `WEB_DIR` (decoded, no leading `/`).
    File(String),
    /// `index.html`: the app's entry, also for every client route.
    Index,
    /// Not the app's: the JSON `404 NOT_FOUND` envelope.
    NotFound,
}

/// Hashed build output (`/assets/<name>-<hash>.<ext>`): its name changes with its content.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Everything else (`index.html` first): revalidate every time, so a new build shows at once.
pub const REVALIDATE: &str = "no-cache";

/// Where `path` (raw, already checked by [`super::routing::is_safe`]) goes.
pub fn resolve(path: &str) -> WebTarget {
    if is_reserved(path) {
        return WebTarget::NotFound;
    }
    let mut segments = Vec::new();
    for raw in path.split('/').filter(|s| !s.is_empty()) {
        let Some(segment) = decode(raw) else {
            return WebTarget::NotFound;
        };
        // Dotfiles (`.env`, `.git`) are never served, whatever the build put there.
        if segment.starts_with('.') {
            return WebTarget::NotFound;
        }
        segments.push(segment);
    }
    match segments.last() {
        None => WebTarget::Index,
        Some(last) if last.contains('.') => {
            if segments.len() == 1 && last == "index.html" {
                WebTarget::Index
            } else {
                WebTarget::File(segments.join("/"))
            }
        }
        Some(_) => WebTarget::Index,
    }
}

/// `Cache-Control` for a file served from `WEB_DIR` (`relative` as in [`WebTarget::File`]).
pub fn cache_control(relative: &str) -> &'static str {
    if relative.starts_with("assets/") {
        IMMUTABLE
    } else {
        REVALIDATE
    }
}

/// `Content-Type` by extension; unknown ones are `application/octet-stream` (and `nosniff`).
pub fn content_type(relative: &str) -> &'static str {
    let ext = relative
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "txt" => "text/plain; charset=utf-8",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

/// The API space and the operators' paths: never the app's, never `index.html`.
fn is_reserved(path: &str) -> bool {
    let under = |prefix: &str| {
        path == prefix
            || path
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with('/'))
    };
    under("/api") || under("/health") || under("/metrics") || path == "/openapi.json"
}

/// A path segment, percent-decoded, as UTF-8.
fn decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_routes_get_the_app_and_files_are_files() {
        let file = |p: &str| WebTarget::File(p.to_owned());
        let cases = [
            ("/", WebTarget::Index),
            ("/index.html", WebTarget::Index),
            ("/events/0b6f", WebTarget::Index),
            ("/bookings", WebTarget::Index),
            ("/admin/", WebTarget::Index),
            ("/assets/index-3f9a.js", file("assets/index-3f9a.js")),
            ("/favicon.svg", file("favicon.svg")),
            ("/assets/a%20b.css", file("assets/a b.css")),
            ("/no/such.png", file("no/such.png")),
        ];
        for (path, expected) in cases {
            assert_eq!(resolve(path), expected, "{path}");
        }
    }

    #[test]
    fn the_api_and_operator_paths_never_fall_back_to_the_app() {
        for path in [
            "/api",
            "/api/",
            "/api/nope",
            "/api/docs",
            "/health",
            "/health/ready",
            "/health/x",
            "/metrics",
            "/metrics/",
            "/openapi.json",
            "/.env",
            "/assets/.hidden.js",
            "/.git/config",
            "/%ff",
        ] {
            assert_eq!(resolve(path), WebTarget::NotFound, "{path}");
        }
        // Only whole segments are reserved.
        assert_eq!(resolve("/apis"), WebTarget::Index);
        assert_eq!(resolve("/healthy"), WebTarget::Index);
    }

    #[test]
    fn hashed_assets_are_cached_for_a_year_everything_else_revalidates() {
        assert_eq!(cache_control("assets/index-3f9a.js"), IMMUTABLE);
        assert_eq!(cache_control("favicon.svg"), REVALIDATE);
        assert_eq!(cache_control("index.html"), REVALIDATE);
        assert_eq!(
            content_type("assets/x.JS"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type("a.svg"), "image/svg+xml");
        assert_eq!(content_type("LICENSE"), "application/octet-stream");
    }
}
