//! Identity from the client's bearer token. The gateway is the only place a JWT is verified;
//! services trust the `x-user-*` headers it injects, so client-sent ones are always removed.

use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use ticketflow_common::auth::{USER_EMAIL, USER_ID, USER_ROLE};
use ticketflow_common::config::Secret;
use ticketflow_common::jwt;

/// Longest token considered (real ones are a few hundred bytes).
const MAX_TOKEN_LEN: usize = 8 * 1024;

/// A verified caller, ready to become headers.
#[derive(Debug, Clone)]
pub struct Identity {
    id: HeaderValue,
    email: HeaderValue,
    role: HeaderValue,
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
        id: HeaderValue::from_str(&claims.sub.to_string()).ok()?,
        email: HeaderValue::from_str(&claims.email).ok()?,
        role: HeaderValue::from_static(claims.role.as_str()),
    })
}

/// Removes every client-sent identity header, then adds the verified one (if any).
pub fn apply(headers: &mut HeaderMap, identity: Option<&Identity>) {
    let names = [
        HeaderName::from_static(USER_ID),
        HeaderName::from_static(USER_EMAIL),
        HeaderName::from_static(USER_ROLE),
    ];
    for name in &names {
        headers.remove(name);
    }
    if let Some(identity) = identity {
        let [id, email, role] = names;
        headers.insert(id, identity.id.clone());
        headers.insert(email, identity.email.clone());
        headers.insert(role, identity.role.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ticketflow_common::auth::Role;

    #[test]
    fn strips_forged_headers_and_injects_the_verified_identity() -> anyhow::Result<()> {
        let secret = Secret::new("s".repeat(40));
        let user = uuid_like();
        let (token, _) = jwt::issue(&secret, user, "a@b.c", Role::User, 60_000)?;
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, format!("bearer {token}").parse()?);
        headers.append(USER_ID, "forged".parse()?);
        headers.append(USER_ID, "forged-twice".parse()?);
        headers.insert(USER_ROLE, "ADMIN".parse()?);
        let identity = identify(&secret, &headers);
        assert!(identity.is_some());
        apply(&mut headers, identity.as_ref());
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

        let mut anonymous = HeaderMap::new();
        anonymous.insert(USER_EMAIL, "x@y.z".parse()?);
        anonymous.insert(header::AUTHORIZATION, "Basic abc".parse()?);
        let identity = identify(&secret, &anonymous);
        assert!(identity.is_none());
        apply(&mut anonymous, identity.as_ref());
        assert!(anonymous.get(USER_EMAIL).is_none());
        Ok(())
    }

    fn uuid_like() -> uuid::Uuid {
        uuid::Uuid::new_v4()
    }
}
