//! HS256 tokens: issued by user-service, verified by the gateway. One definition of the
//! claims so both ends agree.

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Role;
use crate::config::Secret;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: Uuid,
    pub email: String,
    pub role: Role,
    pub iat: i64,
    pub exp: i64,
}

/// Signs a token for the user, valid for `lifetime_ms`; returns it with its expiry.
pub fn issue(
    secret: &Secret,
    user_id: Uuid,
    email: &str,
    role: Role,
    lifetime_ms: i64,
) -> anyhow::Result<(String, DateTime<Utc>)> {
    let now = crate::time::now();
    let expires_at = now + chrono::Duration::milliseconds(lifetime_ms);
    let claims = Claims {
        sub: user_id,
        email: email.to_owned(),
        role,
        iat: now.timestamp(),
        exp: expires_at.timestamp(),
    };
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.expose().as_bytes()),
    )?;
    Ok((token, expires_at))
}

/// Checks signature (HS256 only, so `alg: none` and other keys fail) and `exp`.
pub fn verify(secret: &Secret, token: &str) -> Option<Claims> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp", "sub"]);
    jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(secret.expose().as_bytes()),
        &validation,
    )
    .ok()
    .map(|data| data.claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> Secret {
        Secret::new(s.repeat(40))
    }

    #[test]
    fn round_trip_and_wrong_key() -> anyhow::Result<()> {
        let id = Uuid::new_v4();
        let (token, exp) = issue(&secret("a"), id, "a@b.c", Role::Admin, 60_000)?;
        let claims = verify(&secret("a"), &token);
        assert_eq!(
            claims.as_ref().map(|c| (c.sub, c.role)),
            Some((id, Role::Admin))
        );
        assert_eq!(claims.map(|c| c.exp), Some(exp.timestamp()));
        assert!(verify(&secret("b"), &token).is_none());
        Ok(())
    }

    #[test]
    fn expired_and_unsigned_tokens_fail() -> anyhow::Result<()> {
        let (expired, _) = issue(&secret("a"), Uuid::new_v4(), "a@b.c", Role::User, -5_000)?;
        assert!(verify(&secret("a"), &expired).is_none());
        // alg: none with the same claims
        let header = base64url(br#"{"alg":"none","typ":"JWT"}"#);
        let body = base64url(
            format!(
                r#"{{"sub":"{}","email":"x@y.z","role":"ADMIN","iat":0,"exp":9999999999}}"#,
                Uuid::new_v4()
            )
            .as_bytes(),
        );
        assert!(verify(&secret("a"), &format!("{header}.{body}.")).is_none());
        assert!(verify(&secret("a"), "garbage").is_none());
        Ok(())
    }

    fn base64url(bytes: &[u8]) -> String {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b))
                << (8 * (3 - chunk.len()));
            for i in 0..=chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            }
        }
        out
    }
}
