//! Identity from the `x-user-*` headers the gateway injects after verifying the JWT.
//! The gateway strips whatever a client sent under these names, so a service trusts them;
//! services are never exposed to clients directly.

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::ApiError;

pub const USER_ID: &str = "x-user-id";
pub const USER_EMAIL: &str = "x-user-email";
pub const USER_ROLE: &str = "x-user-role";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Role {
    User,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "USER",
            Role::Admin => "ADMIN",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "USER" => Some(Role::User),
            "ADMIN" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// A signed-in caller. Rejects with `401 UNAUTHORIZED` when the headers are absent or malformed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthUser {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
}

impl AuthUser {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    fn from_parts(parts: &Parts) -> Result<Option<Self>, ApiError> {
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let Some(raw_id) = header(USER_ID) else {
            return Ok(None);
        };
        let invalid = || ApiError::unauthorized("Invalid identity");
        let id = Uuid::parse_str(raw_id).map_err(|_| invalid())?;
        let email = header(USER_EMAIL).ok_or_else(invalid)?.to_owned();
        let role = header(USER_ROLE)
            .and_then(Role::parse)
            .ok_or_else(invalid)?;
        Ok(Some(Self { id, email, role }))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Self::from_parts(parts)?.ok_or_else(|| ApiError::unauthorized("Authentication required"))
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        Ok(Self::from_parts(parts).ok().flatten())
    }
}

/// The caller if signed in, `None` otherwise; never rejects.
#[derive(Debug, Clone)]
pub struct OptionalUser(pub Option<AuthUser>);

impl<S: Send + Sync> FromRequestParts<S> for OptionalUser {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(AuthUser::from_parts(parts).ok().flatten()))
    }
}

/// A signed-in ADMIN: `401` without identity, `403 FORBIDDEN` for any other role.
#[derive(Debug, Clone)]
pub struct AdminUser(pub AuthUser);

impl<S: Send + Sync> FromRequestParts<S> for AdminUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let user = <AuthUser as FromRequestParts<S>>::from_request_parts(parts, state).await?;
        if user.is_admin() {
            Ok(Self(user))
        } else {
            Err(ApiError::forbidden("Administrator role required"))
        }
    }
}
