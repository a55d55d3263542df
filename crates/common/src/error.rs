//! The one error type every handler returns and the JSON envelope clients see.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::context;

/// One invalid field of a request, as listed under `details`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// An error that becomes `{"error":{"code","message","requestId"[,"details"]}}`.
///
/// `Internal` keeps the real cause for the log and shows the client only a generic text.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    Client {
        status: StatusCode,
        code: &'static str,
        message: String,
        details: Vec<FieldError>,
        retry_after_secs: Option<u64>,
    },
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self::Client {
            status,
            code,
            message: message.into(),
            details: Vec::new(),
            retry_after_secs: None,
        }
    }

    pub fn validation(details: Vec<FieldError>) -> Self {
        let message = match details.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            _ => "Request validation failed".to_owned(),
        };
        Self::Client {
            status: StatusCode::BAD_REQUEST,
            code: "VALIDATION_ERROR",
            message,
            details,
            retry_after_secs: None,
        }
    }

    pub fn field(field: &str, message: &str) -> Self {
        Self::validation(vec![FieldError::new(field, message)])
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "FORBIDDEN", message)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "SERVICE_UNAVAILABLE",
            message,
        )
    }

    pub fn payload_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            "Request body is larger than 1 MiB",
        )
    }

    pub fn rate_limited(retry_after_secs: u64) -> Self {
        Self::Client {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: "RATE_LIMITED",
            message: "Too many requests, slow down".to_owned(),
            details: Vec::new(),
            retry_after_secs: Some(retry_after_secs),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Client { status, .. } => *status,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::Client { code, .. } => code,
            Self::Internal(_) => "INTERNAL_ERROR",
        }
    }
}

/// The body of every error response. Its schema is the one every service's OpenAPI document
/// references (`#/components/schemas/ErrorEnvelope`), so it cannot drift from what is sent.
#[derive(Serialize, ToSchema)]
pub struct ErrorEnvelope<'a> {
    error: ErrorBody<'a>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody<'a> {
    /// Machine-readable, e.g. `VALIDATION_ERROR`, `UNAUTHORIZED`, `EVENT_NOT_FOUND`.
    code: &'a str,
    /// For people; never carries internal details.
    message: &'a str,
    /// The `x-request-id` of the request, for support and logs.
    #[schema(required = true)]
    request_id: Option<String>,
    /// Present on `VALIDATION_ERROR`: one entry per invalid field.
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    details: &'a [FieldError],
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let request_id = context::current_request_id();
        let (status, code, message, details, retry_after) = match &self {
            Self::Client {
                status,
                code,
                message,
                details,
                retry_after_secs,
            } => (
                *status,
                *code,
                message.as_str(),
                details.as_slice(),
                *retry_after_secs,
            ),
            Self::Internal(cause) => {
                // The cause goes to the log only; the client gets a generic text.
                tracing::error!(error = format!("{cause:#}"), "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "INTERNAL_ERROR",
                    "Something went wrong on our side",
                    &[][..],
                    None,
                )
            }
        };
        let body = ErrorEnvelope {
            error: ErrorBody {
                code,
                message,
                request_id,
                details,
            },
        };
        let mut response = (status, axum::Json(body)).into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => {
                ApiError::field("body", "Content-Type must be application/json")
            }
            JsonRejection::JsonDataError(err) => {
                // serde's text names the field ("missing field `email`", "...: invalid type").
                let text = std::error::Error::source(&err)
                    .map(ToString::to_string)
                    .unwrap_or_else(|| err.body_text());
                ApiError::validation(vec![FieldError::new(
                    field_from_serde_message(&text),
                    strip_position(&text),
                )])
            }
            JsonRejection::JsonSyntaxError(_) => ApiError::field("body", "Malformed JSON"),
            JsonRejection::BytesRejection(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::payload_too_large()
            }
            JsonRejection::BytesRejection(_) => ApiError::field("body", "Could not read body"),
            other => ApiError::field("body", &other.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        let text = rejection.body_text();
        ApiError::field(
            &field_from_serde_message(&text),
            text.trim_start_matches("Failed to deserialize query string: "),
        )
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::field("path", &rejection.body_text())
    }
}

/// The name of the unique constraint (or index) `err` violated, if that is what it is. Each
/// service maps these names to its domain errors in one place.
#[cfg(feature = "postgres")]
pub fn unique_violation(err: &sqlx::Error) -> Option<&str> {
    match err {
        sqlx::Error::Database(db) if db.is_unique_violation() => db.constraint(),
        _ => None,
    }
}

#[cfg(feature = "postgres")]
impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                tracing::warn!(error = %err, "database unavailable");
                ApiError::unavailable("A dependency is unavailable, try again shortly")
            }
            other => ApiError::Internal(other.into()),
        }
    }
}

/// Picks the field name out of serde's "missing field `x`" / "unknown field `x`" texts.
fn field_from_serde_message(text: &str) -> String {
    let mut parts = text.split('`');
    match (parts.next(), parts.next()) {
        (Some(prefix), Some(name))
            if prefix.ends_with("missing field ") || prefix.ends_with("unknown field ") =>
        {
            name.to_owned()
        }
        _ => text
            .split_once(": ")
            .map(|(path, _)| path.trim().to_owned())
            .filter(|path| {
                !path.is_empty()
                    && path
                        .chars()
                        .all(|c| c.is_alphanumeric() || "_.[]".contains(c))
            })
            .unwrap_or_else(|| "body".to_owned()),
    }
}

fn strip_position(text: &str) -> String {
    match text.find(" at line ") {
        Some(idx) => text[..idx].to_owned(),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_missing_field_name() {
        assert_eq!(
            field_from_serde_message("missing field `email` at line 1 column 2"),
            "email"
        );
        assert_eq!(
            field_from_serde_message("name: invalid type: integer `3`, expected a string"),
            "name"
        );
        assert_eq!(field_from_serde_message("garbage happened"), "body");
    }

    #[test]
    fn strips_position_suffix() {
        assert_eq!(
            strip_position("missing field `email` at line 1 column 2"),
            "missing field `email`"
        );
    }
}
