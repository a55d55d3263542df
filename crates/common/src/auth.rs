//! Identity from the `x-user-*` headers the gateway injects after verifying the JWT.
//!
//! The gateway strips whatever a client sent under these names and adds `x-user-proof`: an
//! HMAC-SHA256, keyed by `INTERNAL_SECRET`, over id, email, role, request id and the time it
//! was made. A service accepts identity headers only with a proof that verifies and is at most
//! [`PROOF_VALIDITY_SECS`] old, so a request sent straight to a service with forged headers
//! gets `401` even when the service is reachable.

use std::sync::Arc;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;

use crate::config::Secret;
use crate::context::REQUEST_ID;
use crate::error::ApiError;

pub const USER_ID: &str = "x-user-id";
pub const USER_EMAIL: &str = "x-user-email";
pub const USER_ROLE: &str = "x-user-role";
pub const USER_PROOF: &str = "x-user-proof";

/// How far a proof's timestamp may be from the service's clock, either way. Gateway and
/// service forward one request within milliseconds; this only absorbs clock drift.
pub const PROOF_VALIDITY_SECS: i64 = 30;
const PROOF_VERSION: &str = "v1";

/// The one identity key of in-process tests (services', gateway's and e2e's): each passes it
/// to its `Config::for_test(..)`, so a test's gateway and services agree, and tests sign the
/// headers they forge with it. Its secret is in the source: never use it outside tests.
#[doc(hidden)]
pub fn test_identity_key() -> IdentityKey {
    IdentityKey::new(Secret::new(TEST_INTERNAL_SECRET))
}

/// The secret of [`test_identity_key`]; `INTERNAL_SECRET` from the environment refuses it.
#[doc(hidden)]
pub const TEST_INTERNAL_SECRET: &str = "ticketflow-tests-only-internal-secret-0123456789";

/// The key the gateway signs identities with and services verify them with
/// (`INTERNAL_SECRET`). `server::finish` makes it available to the extractors below.
#[derive(Clone, Debug)]
pub struct IdentityKey(Arc<Secret>);

impl IdentityKey {
    pub fn new(secret: Secret) -> Self {
        Self(Arc::new(secret))
    }

    fn mac(&self, id: &str, email: &str, role: &str, request_id: &str, at: i64) -> Hmac<Sha256> {
        // Keys of any length are valid for HMAC, so this never falls back.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.0.expose().as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        // Header values cannot hold '\n', so the fields cannot be shifted into each other.
        for field in [PROOF_VERSION, id, email, role, request_id, &at.to_string()] {
            mac.update(field.as_bytes());
            mac.update(b"\n");
        }
        mac
    }

    /// The `x-user-proof` value for this identity on the request `request_id`, made at `at`
    /// (unix seconds).
    pub fn prove(&self, id: &str, email: &str, role: &str, request_id: &str, at: i64) -> String {
        let tag = self
            .mac(id, email, role, request_id, at)
            .finalize()
            .into_bytes();
        let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        format!("{PROOF_VERSION}.{at}.{hex}")
    }

    /// Whether `proof` was made with this key for exactly these values, within
    /// [`PROOF_VALIDITY_SECS`] of `now`. The comparison is constant-time.
    pub fn verify(
        &self,
        id: &str,
        email: &str,
        role: &str,
        request_id: &str,
        proof: &str,
        now: i64,
    ) -> bool {
        let mut fields = proof.splitn(3, '.');
        let (Some(PROOF_VERSION), Some(at), Some(hex)) =
            (fields.next(), fields.next(), fields.next())
        else {
            return false;
        };
        let Ok(at) = at.parse::<i64>() else {
            return false;
        };
        let Some(tag) = decode_hex(hex) else {
            return false;
        };
        now.abs_diff(at) <= PROOF_VALIDITY_SECS.unsigned_abs()
            && self
                .mac(id, email, role, request_id, at)
                .verify_slice(&tag)
                .is_ok()
    }

    /// Replaces whatever identity `headers` carry with `identity` (or none), signed for the
    /// request id already in `headers`. The gateway calls this on every forwarded request.
    pub fn sign_headers(&self, headers: &mut HeaderMap, identity: Option<(&str, &str, Role)>) {
        for name in [USER_ID, USER_EMAIL, USER_ROLE, USER_PROOF] {
            headers.remove(name);
        }
        let Some((id, email, role)) = identity else {
            return;
        };
        let request_id = headers
            .get(REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let proof = self.prove(id, email, role.as_str(), &request_id, unix_now());
        let signed: Option<Vec<(HeaderName, HeaderValue)>> = [
            (USER_ID, id),
            (USER_EMAIL, email),
            (USER_ROLE, role.as_str()),
            (USER_PROOF, proof.as_str()),
        ]
        .into_iter()
        .map(|(name, value)| {
            Some((
                HeaderName::from_static(name),
                HeaderValue::from_str(value).ok()?,
            ))
        })
        .collect();
        // Values come from a verified JWT; if one cannot be a header the service sees no
        // identity at all rather than part of one.
        headers.extend(signed.into_iter().flatten());
    }

    /// The headers the gateway would send for this identity on a new request (with its own
    /// request id). For tests and tools that stand in for the gateway.
    pub fn forwarded_headers(&self, id: &str, email: &str, role: Role) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Ok(request_id) = HeaderValue::from_str(&Uuid::new_v4().to_string()) {
            headers.insert(REQUEST_ID, request_id);
        }
        self.sign_headers(&mut headers, Some((id, email, role)));
        headers
    }
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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
        let email = header(USER_EMAIL).ok_or_else(invalid)?;
        let raw_role = header(USER_ROLE).ok_or_else(invalid)?;
        let proof = header(USER_PROOF).ok_or_else(invalid)?;
        let Some(key) = parts.extensions.get::<IdentityKey>() else {
            // Fail closed: without the key nothing can be verified.
            tracing::error!(
                "no IdentityKey on the request; is the router built with server::finish?"
            );
            return Err(invalid());
        };
        let request_id = header(REQUEST_ID.as_str()).unwrap_or_default();
        if !key.verify(raw_id, email, raw_role, request_id, proof, unix_now()) {
            return Err(invalid());
        }
        let id = Uuid::parse_str(raw_id).map_err(|_| invalid())?;
        let role = Role::parse(raw_role).ok_or_else(invalid)?;
        Ok(Some(Self {
            id,
            email: email.to_owned(),
            role,
        }))
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

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "6f1c1a9e-3b7e-4f57-9d42-1a2b3c4d5e6f";

    fn key(text: &str) -> IdentityKey {
        IdentityKey::new(Secret::new(text.repeat(32)))
    }

    #[test]
    fn a_proof_verifies_only_for_what_it_signed() {
        let key = key("k");
        let proof = key.prove(ID, "a@b.c", "USER", "req-1", 1_000);
        assert!(key.verify(ID, "a@b.c", "USER", "req-1", &proof, 1_000));
        assert!(key.verify(
            ID,
            "a@b.c",
            "USER",
            "req-1",
            &proof,
            1_000 + PROOF_VALIDITY_SECS
        ));
        assert!(
            !key.verify(ID, "a@b.c", "ADMIN", "req-1", &proof, 1_000),
            "role changed"
        );
        assert!(
            !key.verify(ID, "x@b.c", "USER", "req-1", &proof, 1_000),
            "email changed"
        );
        assert!(
            !key.verify(ID, "a@b.c", "USER", "req-2", &proof, 1_000),
            "replayed on another request"
        );
        assert!(
            !key.verify(
                ID,
                "a@b.c",
                "USER",
                "req-1",
                &proof,
                1_001 + PROOF_VALIDITY_SECS
            ),
            "expired"
        );
        assert!(
            !self::key("j").verify(ID, "a@b.c", "USER", "req-1", &proof, 1_000),
            "other key"
        );
        let forged_time = proof.replacen(".1000.", ".1001.", 1);
        assert!(!key.verify(ID, "a@b.c", "USER", "req-1", &forged_time, 1_001));
        for junk in ["", "v1", "v1.x.00", "v1.1000.zz", "v2.1000.00", "v1.1000.é"] {
            assert!(
                !key.verify(ID, "a@b.c", "USER", "req-1", junk, 1_000),
                "{junk:?}"
            );
        }
    }

    #[test]
    fn signing_replaces_client_headers() -> anyhow::Result<()> {
        let key = key("k");
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID, "req-9".parse()?);
        headers.append(USER_ID, "forged".parse()?);
        headers.append(USER_PROOF, "v1.1.00".parse()?);
        key.sign_headers(&mut headers, Some((ID, "a@b.c", Role::Admin)));
        assert_eq!(headers.get_all(USER_ID).iter().count(), 1);
        let proof = headers
            .get(USER_PROOF)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(key.verify(ID, "a@b.c", "ADMIN", "req-9", proof, unix_now()));
        key.sign_headers(&mut headers, None);
        for name in [USER_ID, USER_EMAIL, USER_ROLE, USER_PROOF] {
            assert!(headers.get(name).is_none(), "{name}");
        }
        Ok(())
    }
}
