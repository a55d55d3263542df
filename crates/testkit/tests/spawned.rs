//! The harness itself: port 0, readiness, the service's own error, stop.

use std::time::Duration;

use axum::routing::get;
use axum::Router;
use ticketflow_testkit::{unreachable_addr, Spawned};

/// A service that turns ready after `delay` and serves until cancelled.
async fn slow_to_ready(
    delay: Duration,
    listener: tokio::net::TcpListener,
    shutdown: tokio_util::sync::CancellationToken,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let app = Router::new().route(
        "/health/ready",
        get(move || async move {
            if started.elapsed() >= delay {
                (axum::http::StatusCode::OK, "up")
            } else {
                (axum::http::StatusCode::SERVICE_UNAVAILABLE, "starting")
            }
        }),
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await?;
    Ok(())
}

#[tokio::test]
async fn starts_on_its_own_port_waits_for_ready_and_stops() -> anyhow::Result<()> {
    let mut a = Spawned::start(|l, s| slow_to_ready(Duration::from_millis(300), l, s)).await?;
    let b = Spawned::start(|l, s| slow_to_ready(Duration::ZERO, l, s)).await?;
    assert_ne!(a.addr.port(), 0);
    assert_ne!(a.addr, b.addr);
    assert_eq!(a.base, format!("http://{}", a.addr));
    a.wait_ready("/health/ready").await?;
    let status = a.client.get(a.url("/health/ready")).send().await?.status();
    assert_eq!(status, 200);
    a.stop().await?;
    b.stop().await?;
    Ok(())
}

#[tokio::test]
async fn a_service_that_fails_reports_its_own_error() -> anyhow::Result<()> {
    let mut failing = Spawned::start(|_listener, _shutdown| async {
        anyhow::bail!("USER_DB_URL: connection refused")
    })
    .await?;
    let err = failing
        .wait_ready("/health/ready")
        .await
        .err()
        .map(|e| format!("{e:#}"))
        .unwrap_or_default();
    assert!(err.contains("USER_DB_URL: connection refused"), "{err}");

    let failing_late = Spawned::start(|_l, shutdown| async move {
        shutdown.cancelled().await;
        anyhow::bail!("flush failed")
    })
    .await?;
    let err = failing_late.stop().await.err().map(|e| format!("{e:#}"));
    assert!(err.is_some_and(|e| e.contains("flush failed")));
    Ok(())
}

#[tokio::test]
async fn readiness_times_out_naming_the_last_answer() -> anyhow::Result<()> {
    let mut never = Spawned::start(|l, s| slow_to_ready(Duration::from_secs(3600), l, s)).await?;
    let err = never
        .wait_ready_within("/health/ready", Duration::from_millis(300))
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("503") && err.contains("starting"), "{err}");
    never.stop().await
}

#[tokio::test]
async fn unreachable_addresses_refuse_connections() -> anyhow::Result<()> {
    let addr = unreachable_addr()?;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    Ok(())
}
