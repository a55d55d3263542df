//! Login, `/me` and the JWT.

use reqwest::StatusCode;
use ticketflow_common::auth::test_identity_key;
use ticketflow_common::config::Secret;
use ticketflow_common::{jwt, Role};
use ticketflow_testkit::TestPgDatabase;
use ticketflow_user::Config;

use crate::helpers::{code, spawn_app, spawn_ready, unique_email, JWT_SECRET};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_login_me_round_trip() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let email = unique_email();
    let registered = app.register_ok(&email, "s3cret-pass").await?;
    let user = &registered["user"];
    let id = user["id"].as_str().unwrap_or_default();

    // Login is case- and space-insensitive on the address, exact on the password.
    let (status, login) = app
        .login(&format!(" {} ", email.to_uppercase()), "s3cret-pass")
        .await?;
    assert_eq!(status, StatusCode::OK, "{login}");
    assert_eq!(
        &login["user"], user,
        "login answers the same user as register"
    );
    assert!(login["token"]
        .as_str()
        .is_some_and(|t| t.split('.').count() == 3));
    assert!(login["expiresAt"].is_string());

    let (status, me) = app.me_as(id, &email, Role::User).await?;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(
        me.as_object().map(|o| o.len()),
        Some(1),
        "only `user`: {me}"
    );
    assert_eq!(&me["user"], user);

    // The token's identity is what the gateway would turn into those headers.
    let claims = jwt::verify(
        &Secret::new(JWT_SECRET),
        login["token"].as_str().unwrap_or_default(),
    );
    assert_eq!(claims.map(|c| c.sub.to_string()), Some(id.to_owned()));
    app.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_and_unknown_email_look_the_same() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let email = unique_email();
    app.register_ok(&email, "right-password").await?;

    let (wrong_status, wrong) = app.login(&email, "wrong-password").await?;
    let (unknown_status, unknown) = app.login(&unique_email(), "right-password").await?;
    let (long_status, long) = app.login(&email, &"x".repeat(500)).await?;
    let (case_status, case) = app.login(&email, "RIGHT-PASSWORD").await?;
    for (status, body) in [
        (wrong_status, &wrong),
        (unknown_status, &unknown),
        (long_status, &long),
        (case_status, &case),
    ] {
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(code(body), "INVALID_CREDENTIALS");
        assert_eq!(body["error"]["message"], wrong["error"]["message"]);
        assert!(body["error"].get("details").is_none());
    }
    assert_eq!(wrong["error"]["message"], "Invalid email or password");
    app.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn me_needs_a_known_identity() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let (status, body) = app.get("/api/users/me").await?;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "UNAUTHORIZED")
    );

    let stranger = uuid::Uuid::new_v4().to_string();
    let (status, body) = app
        .me_as(&stranger, "ghost@example.com", Role::User)
        .await?;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"),
        "{body}"
    );

    let (status, body) = app.me_as("not-a-uuid", "x@example.com", Role::User).await?;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"),
        "{body}"
    );

    // An account deleted after its token was issued: 401 so the SPA logs out cleanly.
    let email = unique_email();
    let registered = app.register_ok(&email, "password123").await?;
    let id = registered["user"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (status, _) = app.me_as(&id, &email, Role::User).await?;
    assert_eq!(status, StatusCode::OK);
    // The same identity sent straight to the service, without the gateway's proof.
    let forged = app
        .client
        .get(app.url("/api/users/me"))
        .header("x-user-id", &id)
        .header("x-user-email", &email)
        .header("x-user-role", "USER")
        .send()
        .await?;
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    sqlx::query("DELETE FROM users WHERE id = $1::uuid")
        .bind(&id)
        .execute(&app.pool)
        .await?;
    let (status, body) = app.me_as(&id, &email, Role::User).await?;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"),
        "{body}"
    );
    app.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_claims_follow_jwt_expiration() -> anyhow::Result<()> {
    let db = TestPgDatabase::create().await?;
    let mut cfg = Config::for_test(
        db.url(),
        &ticketflow_testkit::kafka_bootstrap()?,
        test_identity_key(),
    );
    cfg.jwt_expiration_ms = 3_600_000; // one hour, not the 7-day default
    let app = spawn_ready(cfg).await?;
    let email = unique_email();
    let before = chrono::Utc::now();
    let body = app.register_ok(&email, "password123").await?;
    let after = chrono::Utc::now();

    let token = body["token"].as_str().unwrap_or_default();
    let claims = jwt::verify(&Secret::new(JWT_SECRET), token)
        .ok_or_else(|| anyhow::anyhow!("token does not verify"))?;
    assert_eq!(
        claims.sub.to_string(),
        body["user"]["id"].as_str().unwrap_or_default()
    );
    assert_eq!(claims.email, email);
    assert_eq!(claims.role, Role::User);
    assert_eq!(claims.exp - claims.iat, 3600);
    assert!((before.timestamp()..=after.timestamp()).contains(&claims.iat));

    let expires_at =
        chrono::DateTime::parse_from_rfc3339(body["expiresAt"].as_str().unwrap_or_default())?;
    assert_eq!(
        expires_at.timestamp(),
        claims.exp,
        "expiresAt is the token's exp"
    );
    let lifetime = expires_at.with_timezone(&chrono::Utc) - before;
    assert!(
        (3_599_000..=3_601_000).contains(&lifetime.num_milliseconds()),
        "{lifetime}"
    );
    // Another key does not verify it.
    assert!(jwt::verify(&Secret::new("x".repeat(40)), token).is_none());

    // Raw claim names, as the gateway and other clients read them.
    let payload = token.split('.').nth(1).unwrap_or_default();
    let decoded = decode_base64url(payload)?;
    let raw: serde_json::Value = serde_json::from_slice(&decoded)?;
    for claim in ["sub", "email", "role", "iat", "exp"] {
        assert!(raw.get(claim).is_some(), "{claim} missing in {raw}");
    }
    assert_eq!(raw["role"], "USER");
    app.stop().await
}

fn decode_base64url(text: &str) -> anyhow::Result<Vec<u8>> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.bytes() {
        let value = ALPHABET
            .iter()
            .position(|a| *a == c)
            .ok_or_else(|| anyhow::anyhow!("not base64url: {c}"))?;
        bits = (bits << 6) | u32::try_from(value)?;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push(u8::try_from((bits >> count) & 0xff)?);
        }
    }
    Ok(out)
}
