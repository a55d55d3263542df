use std::time::Duration;

use anyhow::ensure;

use crate::support::{expect_error, single_echo, Seen};

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after_then_resets() -> anyhow::Result<()> {
    let (echo, gateway) = single_echo(|c| {
        c.rate_limit_max = 3;
        c.rate_limit_window = Duration::from_millis(1000);
    })
    .await?;
    for _ in 0..3 {
        let response = gateway.http.get(gateway.at("/api/events")).send().await?;
        ensure!(response.status() == 200);
    }
    let response = gateway.http.get(gateway.at("/api/events")).send().await?;
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    expect_error(response, 429, "RATE_LIMITED").await?;
    ensure!(
        retry_after.as_deref() == Some("1"),
        "Retry-After {retry_after:?}"
    );
    // Every route counts, unknown ones too; the liveness probe does not.
    let response = gateway.http.get(gateway.at("/nope")).send().await?;
    expect_error(response, 429, "RATE_LIMITED").await?;
    let response = gateway.http.get(gateway.at("/health")).send().await?;
    ensure!(response.status() == 200, "/health is exempt");
    ensure!(echo.count() == 3, "limited requests are not forwarded");

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let response = gateway.http.get(gateway.at("/api/events")).send().await?;
    ensure!(
        response.status() == 200,
        "window reset: {}",
        response.status()
    );
    Ok(())
}

#[tokio::test]
async fn rate_limit_zero_disables_it() -> anyhow::Result<()> {
    let (_echo, gateway) = single_echo(|c| {
        c.rate_limit_max = 0;
        c.rate_limit_window = Duration::from_millis(60_000);
    })
    .await?;
    for _ in 0..150 {
        let response = gateway.http.get(gateway.at("/api/events")).send().await?;
        ensure!(response.status() == 200);
    }
    Ok(())
}

#[tokio::test]
async fn without_trust_proxy_the_socket_peer_is_the_client() -> anyhow::Result<()> {
    let (_echo, gateway) = single_echo(|c| {
        c.rate_limit_max = 2;
        c.rate_limit_window = Duration::from_millis(60_000);
        c.trust_proxy = false;
    })
    .await?;
    let get = |xff: &'static str| {
        gateway
            .http
            .get(gateway.at("/api/events"))
            .header("x-forwarded-for", xff)
            .header("x-forwarded-proto", "https")
            .header("forwarded", "for=6.6.6.6")
            .send()
    };
    let response = get("1.1.1.1").await?;
    ensure!(response.status() == 200);
    let seen: Seen = response.json().await?;
    ensure!(
        seen.header("x-forwarded-for") == Some("127.0.0.1"),
        "{seen:?}"
    );
    ensure!(seen.header("x-forwarded-proto") == Some("http"));
    ensure!(seen.header("forwarded").is_none());
    ensure!(get("2.2.2.2").await?.status() == 200);
    // A spoofed X-Forwarded-For does not buy a fresh budget.
    expect_error(get("3.3.3.3").await?, 429, "RATE_LIMITED").await?;
    Ok(())
}

#[tokio::test]
async fn with_trust_proxy_the_first_forwarded_for_is_the_client() -> anyhow::Result<()> {
    let (_echo, gateway) = single_echo(|c| {
        c.rate_limit_max = 2;
        c.rate_limit_window = Duration::from_millis(60_000);
        c.trust_proxy = true;
    })
    .await?;
    let get = |xff: &'static str| {
        gateway
            .http
            .get(gateway.at("/api/events"))
            .header("x-forwarded-for", xff)
            .header("x-forwarded-proto", "https")
            .header("x-forwarded-host", "tickets.example.com")
            .send()
    };
    let response = get("203.0.113.5, 10.0.0.1").await?;
    ensure!(response.status() == 200);
    let seen: Seen = response.json().await?;
    ensure!(
        seen.header("x-forwarded-for") == Some("203.0.113.5, 10.0.0.1, 127.0.0.1"),
        "{seen:?}"
    );
    ensure!(seen.header("x-forwarded-proto") == Some("https"));
    ensure!(seen.header("x-forwarded-host") == Some("tickets.example.com"));
    ensure!(get("203.0.113.5").await?.status() == 200);
    expect_error(get("203.0.113.5, 10.0.0.9").await?, 429, "RATE_LIMITED").await?;
    // Another client behind the same proxy has its own budget.
    ensure!(get("198.51.100.7").await?.status() == 200);
    Ok(())
}
