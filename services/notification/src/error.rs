//! What a notification-service operation can fail with, and the one place each becomes an
//! HTTP answer (the consumer maps the same enum to retry or dead-letter in `messaging`).

use mongodb::error::Error as MongoError;
use ticketflow_common::ApiError;

use crate::store::is_unavailable;

#[derive(Debug, thiserror::Error)]
pub enum NotificationError {
    /// The mail can never be sent (bad address, refused for good, or out of attempts); its
    /// record is `FAILED`.
    #[error("undeliverable: {0}")]
    Undeliverable(String),
    /// This attempt failed and a later one may work; the record stays `PENDING`.
    #[error("{0}")]
    Smtp(String),
    /// Another delivery of the same message is sending it right now.
    #[error("another attempt is sending this mail")]
    InProgress,
    /// A template failed to render (a bug, not the message's fault; retrying cannot help).
    #[error("rendering: {0}")]
    Render(#[from] askama::Error),
    /// MongoDB has not answered since startup.
    #[error("the notification store is starting")]
    StoreStarting,
    #[error(transparent)]
    Store(#[from] MongoError),
}

impl From<NotificationError> for ApiError {
    fn from(err: NotificationError) -> Self {
        match err {
            NotificationError::StoreStarting => {
                ApiError::unavailable("The notification store is starting, try again shortly")
            }
            NotificationError::Store(err) if is_unavailable(&err) => {
                tracing::warn!(error = %err, "MongoDB unavailable");
                ApiError::unavailable("A dependency is unavailable, try again shortly")
            }
            NotificationError::Store(err) => {
                ApiError::Internal(anyhow::Error::new(err).context("MongoDB operation failed"))
            }
            // Handlers only read: none of these can happen on an HTTP path.
            other => ApiError::Internal(anyhow::anyhow!("{other}")),
        }
    }
}
