//! What a booking operation can fail with, and the one place each becomes an HTTP answer.

use axum::http::StatusCode;
use ticketflow_common::kafka::HandlerError;
use ticketflow_common::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum BookingError {
    #[error("{0}")]
    InvalidSeatCount(String),
    #[error("event not found")]
    EventNotFound,
    #[error("the event has already started")]
    EventAlreadyStarted,
    #[error("event-service is unavailable: {0}")]
    CatalogueUnavailable(String),
    #[error("booking not found")]
    NotFound,
    #[error("the booking cannot be cancelled in its current state")]
    NotCancellable,
    #[error("the event starts within the cancellation window")]
    WindowExpired(i64),
    #[error("this Idempotency-Key was used for a different booking request")]
    IdempotencyKeyReused,
    #[error("the booking database is not ready yet")]
    Starting,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<BookingError> for ApiError {
    fn from(err: BookingError) -> Self {
        let unprocessable =
            |code, message: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message);
        match err {
            BookingError::InvalidSeatCount(message) => {
                ApiError::new(StatusCode::BAD_REQUEST, "INVALID_SEAT_COUNT", message)
            }
            BookingError::EventNotFound => {
                ApiError::not_found("EVENT_NOT_FOUND", "Event not found")
            }
            BookingError::EventAlreadyStarted => unprocessable(
                "EVENT_ALREADY_STARTED",
                "This event has already started".into(),
            ),
            BookingError::CatalogueUnavailable(cause) => {
                tracing::warn!(%cause, "event-service unavailable");
                ApiError::unavailable("The event catalogue is unavailable, try again shortly")
            }
            BookingError::NotFound => ApiError::not_found("BOOKING_NOT_FOUND", "Booking not found"),
            BookingError::NotCancellable => unprocessable(
                "BOOKING_NOT_CANCELLABLE",
                "Only pending or confirmed bookings can be cancelled".into(),
            ),
            BookingError::WindowExpired(hours) => unprocessable(
                "CANCELLATION_WINDOW_EXPIRED",
                format!("Bookings cannot be cancelled within {hours} hours of the event"),
            ),
            BookingError::IdempotencyKeyReused => unprocessable(
                "IDEMPOTENCY_KEY_REUSED",
                "This Idempotency-Key was already used for a different booking request".into(),
            ),
            BookingError::Starting => {
                ApiError::unavailable("The booking database is not ready yet, try again shortly")
            }
            BookingError::Db(err) => err.into(),
            BookingError::Other(err) => ApiError::Internal(err),
        }
    }
}

/// Every failure of a message handler is worth retrying (a store or a dependency).
impl From<BookingError> for HandlerError {
    fn from(err: BookingError) -> Self {
        Self::Transient(err.into())
    }
}
