//! What an inventory operation can fail with, and the one place each becomes an HTTP answer
//! (or, for messages, a retry).

use ticketflow_common::kafka::HandlerError;
use ticketflow_common::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// Migrations have not run yet, or Redis has not answered yet.
    #[error("{0} is not ready yet")]
    Starting(&'static str),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error("Redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// A message that can never be applied (e.g. more seats than a layout may have).
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<InventoryError> for ApiError {
    fn from(err: InventoryError) -> Self {
        match err {
            InventoryError::Starting(what) => {
                ApiError::unavailable(format!("The {what} is not ready yet, try again shortly"))
            }
            InventoryError::Db(err) => err.into(),
            InventoryError::Redis(err) => {
                tracing::warn!(error = %err, "Redis unavailable");
                ApiError::unavailable("A dependency is unavailable, try again shortly")
            }
            InventoryError::Invalid(message) => ApiError::Internal(anyhow::anyhow!(message)),
            InventoryError::Other(err) => ApiError::Internal(err),
        }
    }
}

/// Everything but a message that can never apply is worth retrying.
impl From<InventoryError> for HandlerError {
    fn from(err: InventoryError) -> Self {
        match err {
            InventoryError::Invalid(message) => Self::Poison(anyhow::anyhow!(message)),
            other => Self::Transient(other.into()),
        }
    }
}
