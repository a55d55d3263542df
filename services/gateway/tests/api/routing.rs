use anyhow::ensure;
use ticketflow_common::auth::Role;

use crate::support::{config, expect_error, token, Fleet, Gateway};

#[tokio::test]
async fn every_prefix_reaches_its_service_with_path_and_query_unchanged() -> anyhow::Result<()> {
    let fleet = Fleet::start().await?;
    let gateway = Gateway::start(config(fleet.upstreams()?)).await?;
    let (_, bearer) = token(Role::User)?;
    let cases = [
        ("GET", "/api/users/me", None, "user"),
        ("POST", "/api/users/login", None, "user"),
        ("GET", "/api/users", None, "user"),
        (
            "GET",
            "/api/events",
            Some("page=2&limit=5&search=rock%20band"),
            "event",
        ),
        ("GET", "/api/events/abc", None, "event"),
        ("POST", "/api/venues", None, "event"),
        ("GET", "/api/venues/v-1", Some("x=1"), "event"),
        ("GET", "/api/bookings/my", Some("status=PENDING"), "booking"),
        ("POST", "/api/bookings/b-1/cancel", None, "booking"),
        ("GET", "/api/inventory/events/e-1/seats", None, "inventory"),
        ("GET", "/api/payments/booking/b-1", None, "payment"),
        (
            "PUT",
            "/api/notifications/recent",
            Some("a=%2F&b"),
            "notification",
        ),
        ("DELETE", "/api/users/", None, "user"),
        ("PATCH", "/api/events/e%20x", None, "event"),
    ];
    for (method, path, query, upstream) in cases {
        let url = match query {
            Some(q) => gateway.at(&format!("{path}?{q}")),
            None => gateway.at(path),
        };
        let response = gateway
            .http
            .request(method.parse()?, &url)
            .bearer_auth(&bearer)
            .body("{}")
            .send()
            .await?;
        ensure!(
            response.status() == 200,
            "{method} {path}: {}",
            response.status()
        );
        let seen: crate::support::Seen = response.json().await?;
        ensure!(
            seen.upstream == upstream,
            "{path} went to {}",
            seen.upstream
        );
        ensure!(seen.method == method, "{path}: method {}", seen.method);
        ensure!(seen.path == path, "{path}: path {}", seen.path);
        ensure!(
            seen.query.as_deref() == query,
            "{path}: query {:?}",
            seen.query
        );
        ensure!(seen.body_len == 2, "{path}: body {}", seen.body_len);
    }
    ensure!(
        fleet.total() == cases.len(),
        "every request reached exactly one upstream"
    );
    Ok(())
}

#[tokio::test]
async fn only_the_api_prefix_space_is_forwarded() -> anyhow::Result<()> {
    let fleet = Fleet::start().await?;
    let gateway = Gateway::start(config(fleet.upstreams()?)).await?;
    let (_, bearer) = token(Role::Admin)?;
    for path in [
        "/api/usersX",
        "/api/users-admin/me",
        "/api",
        "/api/",
        "/api/unknown/x",
        "/API/users/me",
        "/metrics",
        "/users/me",
        "/",
    ] {
        let response = gateway
            .http
            .get(gateway.at(path))
            .bearer_auth(&bearer)
            .send()
            .await?;
        expect_error(response, 404, "NOT_FOUND").await?;
    }
    // Wrong method on the gateway's own route.
    let response = gateway.http.post(gateway.at("/health")).send().await?;
    expect_error(response, 405, "METHOD_NOT_ALLOWED").await?;
    ensure!(
        fleet.total() == 0,
        "no upstream may see these: {:?}",
        fleet.all_seen()
    );
    Ok(())
}

#[tokio::test]
async fn traversal_never_reaches_internal_endpoints() -> anyhow::Result<()> {
    let fleet = Fleet::start().await?;
    let gateway = Gateway::start(config(fleet.upstreams()?)).await?;
    let (_, bearer) = token(Role::Admin)?;
    // Raw requests: an HTTP client library would normalise these paths before sending.
    for path in [
        "/api/users/../../metrics",
        "/api/users/..",
        "/api/events/../../health/ready",
        "/api/users/%2e%2e/%2e%2e/metrics",
        "/api/events/.%2E/.%2e/metrics",
        "/api/users/..%2f..%2fmetrics",
        "/api/users/%2F..%2Fmetrics",
        "/api/users/..%5C..%5Cmetrics",
        "/api/./users/me",
        "/api/../metrics",
    ] {
        let raw = gateway
            .raw(&format!(
                "GET {path} HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer {bearer}\r\nConnection: close\r\n\r\n"
            ))
            .await?;
        ensure!(
            raw.status == 400,
            "{path}: {} {:?}",
            raw.status,
            String::from_utf8_lossy(&raw.body)
        );
        let body = raw.json()?;
        ensure!(
            body["error"]["code"] == "VALIDATION_ERROR",
            "{path}: {body}"
        );
    }
    for path in [
        "/metrics",
        "/api/metrics",
        "//api/users/me",
        "/api/users%2F..%2F..%2Fmetrics",
    ] {
        let raw = gateway
            .raw(&format!(
                "GET {path} HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n"
            ))
            .await?;
        let code = raw.json()?["error"]["code"].clone();
        ensure!(
            (raw.status == 404 && code == "NOT_FOUND")
                || (raw.status == 400 && code == "VALIDATION_ERROR"),
            "{path}: {} {code}",
            raw.status
        );
        ensure!(
            raw.header("x-request-id").is_some(),
            "{path}: no x-request-id"
        );
    }
    // Readiness is on the internal port only, never forwarded to a service either.
    let raw = gateway
        .raw("GET /health/ready HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n")
        .await?;
    ensure!(raw.status == 404, "{}", raw.status);
    // An absolute-form target cannot redirect the proxy to another host or path either.
    let raw = gateway
        .raw(&format!(
            "GET http://169.254.169.254/api/users/me HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer {bearer}\r\nConnection: close\r\n\r\n"
        ))
        .await?;
    ensure!(raw.status == 200, "absolute form: {}", raw.status);
    ensure!(raw.json()?["upstream"] == "user");
    let seen = fleet.all_seen();
    ensure!(
        seen.len() == 1,
        "only the absolute-form request is forwarded: {seen:?}"
    );
    ensure!(seen.iter().all(|s| s.path.starts_with("/api/")), "{seen:?}");
    Ok(())
}
