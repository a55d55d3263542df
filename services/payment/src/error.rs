//! What a payment-service operation can fail with, and the one place each becomes an HTTP
//! answer (the consumer maps the same enum to retry or dead-letter in `messaging`).

use mongodb::error::Error as MongoError;
use ticketflow_common::ApiError;

use crate::store::{is_duplicate, is_unavailable};

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    /// No such payment, or not the caller's (no existence leak).
    #[error("payment not found")]
    NotFound,
    /// The booking has a payment document already (the unique index on `booking_id`).
    #[error("the booking has a payment already")]
    AlreadyPaid,
    /// A message that can never be handled (e.g. a negative or non-finite amount).
    #[error("invalid request: {0}")]
    Invalid(String),
    /// MongoDB has not answered since startup.
    #[error("the payment store is starting")]
    StoreStarting,
    #[error(transparent)]
    Store(MongoError),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// The one place a duplicate key becomes the domain error it means.
impl From<MongoError> for PaymentError {
    fn from(err: MongoError) -> Self {
        if is_duplicate(&err) {
            return Self::AlreadyPaid;
        }
        Self::Store(err)
    }
}

impl From<PaymentError> for ApiError {
    fn from(err: PaymentError) -> Self {
        match err {
            PaymentError::NotFound => ApiError::not_found("PAYMENT_NOT_FOUND", "Payment not found"),
            PaymentError::StoreStarting => {
                ApiError::unavailable("The payment store is starting, try again shortly")
            }
            PaymentError::Store(err) if is_unavailable(&err) => {
                tracing::warn!(error = %err, "MongoDB unavailable");
                ApiError::unavailable("A dependency is unavailable, try again shortly")
            }
            PaymentError::Store(err) => {
                ApiError::Internal(anyhow::Error::new(err).context("MongoDB operation failed"))
            }
            // Handlers only read: neither can happen on an HTTP path.
            PaymentError::AlreadyPaid | PaymentError::Invalid(_) => {
                ApiError::Internal(anyhow::anyhow!("{err}"))
            }
            PaymentError::Other(err) => ApiError::Internal(err),
        }
    }
}
