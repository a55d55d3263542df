use anyhow::ensure;
use ticketflow_common::auth::{test_identity_key, Role};

use crate::support::{bad_tokens, expect_error, single_echo, token, Seen};

const FORGED_ID: &str = "00000000-0000-4000-8000-000000000001";

fn assert_anonymous(seen: &Seen) -> anyhow::Result<()> {
    for name in ["x-user-id", "x-user-email", "x-user-role", "x-user-proof"] {
        ensure!(
            seen.header(name).is_none(),
            "{name} reached the upstream: {seen:?}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn forged_identity_headers_never_reach_an_upstream() -> anyhow::Result<()> {
    let (echo, gateway) = single_echo(|_| {}).await?;
    let forge = |rb: reqwest::RequestBuilder| {
        rb.header("x-user-id", FORGED_ID)
            .header("x-user-email", "admin@ticketflow.dev")
            .header("x-user-role", "ADMIN")
            .header("X-User-Role", "ADMIN")
            .header("x-user-proof", "v1.0.00")
    };

    // Public route, no token: forwarded anonymously.
    let response = forge(gateway.http.get(gateway.at("/api/events")))
        .send()
        .await?;
    ensure!(response.status() == 200);
    assert_anonymous(&response.json().await?)?;

    // Public POST route, no token.
    let response = forge(gateway.http.post(gateway.at("/api/users/login")))
        .body("{}")
        .send()
        .await?;
    ensure!(response.status() == 200);
    assert_anonymous(&response.json().await?)?;

    // Protected route, no token: 401, nothing forwarded.
    let before = echo.count();
    let response = forge(gateway.http.get(gateway.at("/api/bookings/my")))
        .send()
        .await?;
    expect_error(response, 401, "UNAUTHORIZED").await?;
    ensure!(echo.count() == before);

    // Valid token: the token's identity replaces the forged one, exactly once each.
    let (id, bearer) = token(Role::User)?;
    for path in ["/api/bookings/my", "/api/events"] {
        let response = forge(gateway.http.get(gateway.at(path)))
            .bearer_auth(&bearer)
            .send()
            .await?;
        ensure!(response.status() == 200);
        let seen: Seen = response.json().await?;
        ensure!(
            seen.header("x-user-id") == Some(id.to_string().as_str()),
            "{seen:?}"
        );
        ensure!(seen.header("x-user-email") == Some("fan@ticketflow.dev"));
        ensure!(seen.header("x-user-role") == Some("USER"));
        for name in ["x-user-id", "x-user-email", "x-user-role", "x-user-proof"] {
            ensure!(seen.header_count(name) == 1, "{name} duplicated: {seen:?}");
        }
        // The proof a service checks covers this identity and this request's id.
        let now = chrono::Utc::now().timestamp();
        ensure!(
            test_identity_key().verify(
                &id.to_string(),
                "fan@ticketflow.dev",
                "USER",
                seen.header("x-request-id").unwrap_or_default(),
                seen.header("x-user-proof").unwrap_or_default(),
                now,
            ),
            "proof does not verify: {seen:?}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn bad_tokens_are_anonymous_on_public_routes_and_401_elsewhere() -> anyhow::Result<()> {
    let (echo, gateway) = single_echo(|_| {}).await?;
    for (what, bad) in bad_tokens()? {
        for (method, path) in [
            ("GET", "/api/events"),
            ("GET", "/api/venues/v1"),
            ("POST", "/api/users/register"),
            ("GET", "/api/inventory/events/e1/seats"),
            ("GET", "/api/inventory/events/e1/seats/stream"),
            ("GET", "/api/users/health"),
            ("GET", "/api/bookings/health"),
            ("GET", "/api/notifications/health"),
        ] {
            let response = gateway
                .http
                .request(method.parse()?, gateway.at(path))
                .bearer_auth(&bad)
                .header("x-user-id", FORGED_ID)
                .send()
                .await?;
            ensure!(
                response.status() == 200,
                "{what} {method} {path}: {}",
                response.status()
            );
            let seen: Seen = response.json().await?;
            assert_anonymous(&seen)?;
            // The token itself is forwarded untouched; services never trust it.
            ensure!(seen.header("authorization").is_some());
        }
        let before = echo.count();
        for (method, path) in [
            ("GET", "/api/users/me"),
            ("POST", "/api/bookings"),
            ("GET", "/api/bookings/my"),
            ("POST", "/api/events"),
            ("GET", "/api/payments/p1"),
            ("GET", "/api/notifications/recent"),
            ("POST", "/api/inventory/events/e1/seats"),
            ("POST", "/api/inventory/events/e1/seats/stream"),
        ] {
            let response = gateway
                .http
                .request(method.parse()?, gateway.at(path))
                .bearer_auth(&bad)
                .send()
                .await?;
            expect_error(response, 401, "UNAUTHORIZED").await?;
        }
        ensure!(
            echo.count() == before,
            "{what}: a protected request was forwarded"
        );
    }
    // No Authorization header / another scheme: same as a bad token.
    let response = gateway.http.get(gateway.at("/api/users/me")).send().await?;
    expect_error(response, 401, "UNAUTHORIZED").await?;
    let response = gateway
        .http
        .get(gateway.at("/api/users/me"))
        .basic_auth("fan", Some("pw"))
        .send()
        .await?;
    expect_error(response, 401, "UNAUTHORIZED").await?;
    Ok(())
}

#[tokio::test]
async fn valid_token_injects_identity() -> anyhow::Result<()> {
    let (_echo, gateway) = single_echo(|_| {}).await?;
    let (id, bearer) = token(Role::Admin)?;
    let response = gateway
        .http
        .post(gateway.at("/api/events"))
        .header("authorization", format!("bearer {bearer}"))
        .send()
        .await?;
    ensure!(response.status() == 200);
    let seen: Seen = response.json().await?;
    ensure!(seen.header("x-user-id") == Some(id.to_string().as_str()));
    ensure!(seen.header("x-user-email") == Some("fan@ticketflow.dev"));
    ensure!(seen.header("x-user-role") == Some("ADMIN"));
    Ok(())
}
