//! What a user-service operation can fail with, and the one place each becomes an HTTP answer.

use axum::http::StatusCode;
use ticketflow_common::error::unique_violation;
use ticketflow_common::ApiError;

use crate::password::PasswordError;
use crate::store::users::EMAIL_UNIQUE_INDEX;

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("an account with this email already exists")]
    EmailTaken,
    /// Unknown e-mail or wrong password: deliberately one answer.
    #[error("invalid email or password")]
    InvalidCredentials,
    /// A verified identity whose account has been deleted since its token was issued.
    #[error("this account no longer exists")]
    AccountGone,
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error(transparent)]
    Db(sqlx::Error),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// The one place a unique constraint of our schema becomes the domain error it means.
impl From<sqlx::Error> for UserError {
    fn from(err: sqlx::Error) -> Self {
        if unique_violation(&err) == Some(EMAIL_UNIQUE_INDEX) {
            return Self::EmailTaken;
        }
        Self::Db(err)
    }
}

impl From<UserError> for ApiError {
    fn from(err: UserError) -> Self {
        match err {
            UserError::EmailTaken => ApiError::new(
                StatusCode::CONFLICT,
                "EMAIL_ALREADY_EXISTS",
                "An account with this email already exists",
            ),
            UserError::InvalidCredentials => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "INVALID_CREDENTIALS",
                "Invalid email or password",
            ),
            UserError::AccountGone => ApiError::unauthorized("This account no longer exists"),
            UserError::Password(PasswordError::Busy) => {
                ApiError::unavailable("Too many sign-ins at once, try again shortly")
            }
            UserError::Password(PasswordError::Failed(err)) | UserError::Other(err) => {
                ApiError::Internal(err)
            }
            UserError::Db(err) => err.into(),
        }
    }
}
