use std::time::{Duration, Instant};

use anyhow::ensure;
use ticketflow_common::auth::Role;
use ticketflow_gateway::{Service, Upstreams};

use crate::support::{config, dead_url, expect_error, token, Echo, Gateway, Hung};

#[tokio::test]
async fn stopped_upstream_is_503_service_unavailable() -> anyhow::Result<()> {
    let echo = Echo::start("echo").await?;
    let upstreams = Upstreams::all(&echo.url)?.with(Service::Booking, &dead_url()?)?;
    let gateway = Gateway::start(config(upstreams)).await?;
    let (_, bearer) = token(Role::User)?;
    let response = gateway
        .http
        .get(gateway.at("/api/bookings/my"))
        .bearer_auth(&bearer)
        .send()
        .await?;
    expect_error(response, 503, "SERVICE_UNAVAILABLE").await?;
    // The other services are unaffected.
    let response = gateway.http.get(gateway.at("/api/events")).send().await?;
    ensure!(response.status() == 200);
    Ok(())
}

#[tokio::test]
async fn hung_upstream_is_504_gateway_timeout_within_the_limit() -> anyhow::Result<()> {
    let hung = Hung::start().await?;
    let mut config = config(Upstreams::all(&hung.url)?);
    config.upstream_timeout = Duration::from_millis(500);
    let gateway = Gateway::start(config).await?;
    let started = Instant::now();
    let response = gateway.http.get(gateway.at("/api/events")).send().await?;
    let elapsed = started.elapsed();
    expect_error(response, 504, "GATEWAY_TIMEOUT").await?;
    ensure!(
        elapsed >= Duration::from_millis(450) && elapsed < Duration::from_secs(5),
        "took {elapsed:?}"
    );
    Ok(())
}
