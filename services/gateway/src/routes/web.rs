//! The web app: files of the built single-page app in `WEB_DIR` (`frontend/dist` by default),
//! for every `GET`/`HEAD` that no API or health route took (see [`crate::domain::web`] for
//! which paths, and the caching rules). `index.html` answers every client route, so a deep
//! link such as `/events/<id>` loads the app, which then routes it.
//!
//! A missing `WEB_DIR` (app not built) or file is the usual JSON `404 NOT_FOUND`. Files are
//! read whole: the build's are small and the hashed ones are cached by browsers for a year.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use ticketflow_common::ApiError;

use crate::domain::web::{self, WebTarget};

/// The app's own page: scripts, styles and API calls only from the gateway's origin (no
/// inline script); posters may be any `https:` image (`image_url` can point elsewhere).
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
style-src 'self' 'unsafe-inline'; img-src 'self' https: data:; connect-src 'self'; \
font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// The built app's directory.
#[derive(Debug, Clone)]
pub struct WebDir {
    root: PathBuf,
}

impl WebDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// True when the directory holds a built app (`index.html`).
    pub fn is_built(&self) -> bool {
        self.root.join("index.html").is_file()
    }

    /// The answer for `method path`, or `None` when the app has nothing for it (the caller
    /// answers the JSON 404).
    pub async fn serve(
        &self,
        method: &Method,
        path: &str,
        request: &HeaderMap,
    ) -> Option<Response> {
        if method != Method::GET && method != Method::HEAD {
            return None;
        }
        let (relative, cache) = match web::resolve(path) {
            WebTarget::NotFound => return None,
            WebTarget::Index => ("index.html".to_owned(), web::REVALIDATE),
            WebTarget::File(relative) => {
                let cache = web::cache_control(&relative);
                (relative, cache)
            }
        };
        let file = self.locate(&relative).await?;
        let metadata = tokio::fs::metadata(&file).await.ok()?;
        if !metadata.is_file() {
            return None;
        }
        let etag = etag(&metadata);
        let mut response = if etag
            .as_ref()
            .is_some_and(|tag| matches_if_none_match(request, tag))
        {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            match tokio::fs::read(&file).await {
                Ok(bytes) => Response::new(Body::from(bytes)),
                Err(err) => {
                    tracing::warn!(file = %file.display(), error = %err, "cannot read web file");
                    return Some(ApiError::Internal(err.into()).into_response());
                }
            }
        };
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(web::content_type(&relative)),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        if let Some(etag) = etag {
            headers.insert(header::ETAG, etag);
        }
        if relative == "index.html" {
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONTENT_SECURITY_POLICY),
            );
            headers.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("same-origin"),
            );
        }
        Some(response)
    }

    /// The file inside the root, never outside it (a symlink out of the build is refused).
    async fn locate(&self, relative: &str) -> Option<PathBuf> {
        let root = tokio::fs::canonicalize(&self.root).await.ok()?;
        let file = tokio::fs::canonicalize(root.join(relative)).await.ok()?;
        file.starts_with(&root).then_some(file)
    }
}

/// A weak validator from size and modification time (a rebuild changes both or either).
fn etag(metadata: &std::fs::Metadata) -> Option<HeaderValue> {
    let modified = metadata
        .modified()
        .ok()?
        .duration_since(UNIX_EPOCH)
        .ok()?
        .as_millis();
    HeaderValue::from_str(&format!("W/\"{:x}-{modified:x}\"", metadata.len())).ok()
}

fn matches_if_none_match(request: &HeaderMap, etag: &HeaderValue) -> bool {
    let Some(tag) = etag.to_str().ok() else {
        return false;
    };
    let weak = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|candidate| candidate.trim() == "*" || weak(candidate) == weak(tag))
}
