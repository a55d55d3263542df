//! What an event-service operation can fail with, and the one place each becomes an HTTP answer.

use axum::http::StatusCode;
use mongodb::error::Error as MongoError;
use ticketflow_common::ApiError;

use crate::store::{is_duplicate, is_unavailable};

/// The code a client gets when it tries to change `total_seats` of an existing event.
pub const SEATS_ALREADY_ALLOCATED: &str = "SEATS_ALREADY_ALLOCATED";

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("event not found")]
    EventNotFound,
    #[error("venue not found")]
    VenueNotFound,
    /// A document with this id exists already (only possible with caller-chosen ids: seed).
    #[error("a document with this id exists already")]
    AlreadyExists,
    /// `total_seats` differs from the number already announced.
    #[error("total_seats cannot change (now {current})")]
    SeatsAlreadyAllocated { current: i64 },
    /// MongoDB has not answered since startup.
    #[error("the event store is starting")]
    StoreStarting,
    #[error(transparent)]
    Store(MongoError),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// The one place a duplicate `_id` becomes the domain error it means.
impl From<MongoError> for EventError {
    fn from(err: MongoError) -> Self {
        if is_duplicate(&err) {
            return Self::AlreadyExists;
        }
        Self::Store(err)
    }
}

impl From<EventError> for ApiError {
    fn from(err: EventError) -> Self {
        match err {
            EventError::EventNotFound => ApiError::not_found("EVENT_NOT_FOUND", "Event not found"),
            EventError::VenueNotFound => ApiError::not_found("VENUE_NOT_FOUND", "Venue not found"),
            EventError::SeatsAlreadyAllocated { current } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                SEATS_ALREADY_ALLOCATED,
                format!(
                    "total_seats cannot change once an event is created (seats for {current} \
                     are already laid out); create a new event instead"
                ),
            ),
            EventError::StoreStarting => {
                ApiError::unavailable("The event store is starting, try again shortly")
            }
            EventError::Store(err) if is_unavailable(&err) => {
                tracing::warn!(error = %err, "MongoDB unavailable");
                ApiError::unavailable("A dependency is unavailable, try again shortly")
            }
            EventError::Store(err) => {
                ApiError::Internal(anyhow::Error::new(err).context("MongoDB operation failed"))
            }
            // Fresh ids are random UUIDs: a clash is a bug, not the client's problem.
            EventError::AlreadyExists => {
                ApiError::Internal(anyhow::anyhow!("a fresh document id already exists"))
            }
            EventError::Other(err) => ApiError::Internal(err),
        }
    }
}
