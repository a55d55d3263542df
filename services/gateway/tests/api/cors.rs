use anyhow::ensure;

use crate::support::single_echo;

const ALLOWED: &str = "http://localhost:5173";

#[tokio::test]
async fn preflight_is_answered_by_the_gateway() -> anyhow::Result<()> {
    let (echo, gateway) = single_echo(|c| {
        c.cors_origins = vec![ALLOWED.to_owned(), "https://tickets.example.com".to_owned()];
    })
    .await?;
    for origin in [ALLOWED, "https://tickets.example.com"] {
        // Protected route, no token: a preflight never carries credentials.
        let response = gateway
            .http
            .request(reqwest::Method::OPTIONS, gateway.at("/api/bookings"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
            .await?;
        ensure!(response.status() == 204, "{}", response.status());
        let h = response.headers();
        let get = |name: &str| {
            h.get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
        };
        ensure!(get("access-control-allow-origin") == origin);
        ensure!(get("access-control-allow-credentials") == "true");
        ensure!(get("access-control-allow-methods").contains("POST"));
        ensure!(get("access-control-allow-methods").contains("DELETE"));
        ensure!(get("access-control-allow-headers") == "authorization, content-type");
        ensure!(!get("access-control-max-age").is_empty());
        ensure!(!get("x-request-id").is_empty());
    }

    // A disallowed origin learns nothing.
    let response = gateway
        .http
        .request(reqwest::Method::OPTIONS, gateway.at("/api/events"))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "GET")
        .send()
        .await?;
    ensure!(response
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    ensure!(response
        .headers()
        .get("access-control-allow-credentials")
        .is_none());
    ensure!(
        echo.count() == 0,
        "a preflight reached the upstream: {:?}",
        echo.seen()
    );
    Ok(())
}

#[tokio::test]
async fn actual_requests_get_cors_headers_for_allowed_origins_only() -> anyhow::Result<()> {
    let (_echo, gateway) = single_echo(|_| {}).await?;
    let response = gateway
        .http
        .get(gateway.at("/api/events?hop=1"))
        .header("origin", ALLOWED)
        .send()
        .await?;
    ensure!(response.status() == 200);
    let h = response.headers();
    let get = |name: &str| {
        h.get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    ensure!(get("access-control-allow-origin") == ALLOWED, "{h:?}");
    ensure!(get("access-control-allow-credentials") == "true");
    let exposed = get("access-control-expose-headers").to_ascii_lowercase();
    ensure!(
        exposed.contains("x-request-id") && exposed.contains("retry-after"),
        "{exposed}"
    );
    ensure!(h
        .get_all("vary")
        .iter()
        .any(|v| v.to_str().is_ok_and(|v| v.contains("origin"))));

    // Errors produced by the gateway itself carry them too (the SPA must read 401s/429s).
    let response = gateway
        .http
        .get(gateway.at("/api/bookings/my"))
        .header("origin", ALLOWED)
        .send()
        .await?;
    ensure!(response.status() == 401);
    ensure!(response
        .headers()
        .get("access-control-allow-origin")
        .is_some());

    // The upstream's own `*` never leaks through for a disallowed origin.
    let response = gateway
        .http
        .get(gateway.at("/api/events?hop=1"))
        .header("origin", "https://evil.example")
        .send()
        .await?;
    ensure!(response.status() == 200);
    ensure!(response
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    Ok(())
}
