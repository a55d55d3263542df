//! Identity from the client's bearer token. The gateway is the only place a JWT is verified;
//! it forwards the identity as `x-user-*` headers signed with the internal key, after removing
//! whatever the client sent under those names (see `ticketflow_common::auth`).

use axum::http::{header, HeaderMap};
use ticketflow_common::auth::{IdentityKey, Role};
use ticketflow_common::config::Secret;
use ticketflow_common::jwt;

/// Longest token considered (real ones are a few hundred bytes).
const MAX_TOKEN_LEN: usize = 8 * 1024;

/// A verified caller.
#[derive(Debug, Clone)]
pub struct Identity {
    id: String,
    email: String,
    role: Role,
}

/// Verifies `Authorization: Bearer <token>` (HS256 signature and `exp`); `None` when the
/// header is absent, not a bearer token, or the token does not verify.
pub fn identify(secret: &Secret, headers: &HeaderMap) -> Option<Identity> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = token.trim();
    if token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return None;
    }
    let claims = jwt::verify(secret, token)?;
    Some(Identity {
        id: claims.sub.to_string(),
        email: claims.email,
        role: claims.role,
    })
}

/// Removes every client-sent identity header, then adds the verified one (if any), signed for
/// the request id already in `headers`.
pub fn apply(key: &IdentityKey, headers: &mut HeaderMap, identity: Option<&Identity>) {
    key.sign_headers(
        headers,
        identity.map(|i| (i.id.as_str(), i.email.as_str(), i.role)),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use ticketflow_common::auth::{USER_EMAIL, USER_ID, USER_PROOF, USER_ROLE};
    use ticketflow_common::context::REQUEST_ID;

    #[test]
    fn strips_forged_headers_and_injects_the_verified_identity() -> anyhow::Result<()> {
        let secret = Secret::new("s".repeat(40));
        let key = IdentityKey::new(Secret::new("i".repeat(40)));
        let user = uuid::Uuid::new_v4();
        let (token, _) = jwt::issue(&secret, user, "a@b.c", Role::User, 60_000)?;
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID, "req-1".parse()?);
        headers.insert(header::AUTHORIZATION, format!("bearer {token}").parse()?);
        headers.append(USER_ID, "forged".parse()?);
        headers.append(USER_ID, "forged-twice".parse()?);
        headers.insert(USER_ROLE, "ADMIN".parse()?);
        let identity = identify(&secret, &headers);
        assert!(identity.is_some());
        apply(&key, &mut headers, identity.as_ref());
        let all: Vec<_> = headers.get_all(USER_ID).iter().collect();
        assert_eq!(all, vec![user.to_string().as_str()]);
        assert_eq!(
            headers.get(USER_ROLE).map(|v| v.as_bytes()),
            Some(&b"USER"[..])
        );
        assert_eq!(
            headers.get(USER_EMAIL).map(|v| v.as_bytes()),
            Some(&b"a@b.c"[..])
        );
        let proof = headers
            .get(USER_PROOF)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let now = i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_secs(),
        )?;
        assert!(key.verify(&user.to_string(), "a@b.c", "USER", "req-1", proof, now));

        let mut anonymous = HeaderMap::new();
        anonymous.insert(USER_EMAIL, "x@y.z".parse()?);
        anonymous.insert(USER_PROOF, "v1.1.00".parse()?);
        anonymous.insert(header::AUTHORIZATION, "Basic abc".parse()?);
        let identity = identify(&secret, &anonymous);
        assert!(identity.is_none());
        apply(&key, &mut anonymous, identity.as_ref());
        assert!(anonymous.get(USER_EMAIL).is_none());
        assert!(anonymous.get(USER_PROOF).is_none());
        Ok(())
    }
}
