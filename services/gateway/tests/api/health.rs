use anyhow::ensure;
use serde_json::Value;
use ticketflow_gateway::{Service, Upstreams};

use crate::support::{config, dead_url, single_echo, Echo, Gateway, Hung, Seen};

#[tokio::test]
async fn health_reports_the_gateway_without_internal_urls() -> anyhow::Result<()> {
    let (_echo, gateway) = single_echo(|_| {}).await?;
    let response = gateway.http.get(gateway.at("/health")).send().await?;
    ensure!(response.status() == 200);
    let text = response.text().await?;
    let body: Value = serde_json::from_str(&text)?;
    ensure!(
        body["status"] == "up" && body["service"] == "gateway",
        "{body}"
    );
    ensure!(
        body["version"].is_string() && body["uptime"].is_u64() && body["timestamp"].is_string()
    );
    ensure!(
        !text.contains("127.0.0.1") && !text.contains("http://"),
        "{text}"
    );
    Ok(())
}

#[tokio::test]
async fn health_all_probes_every_service_in_contract_order() -> anyhow::Result<()> {
    let up = Echo::start("up").await?;
    let hung = Hung::start().await?;
    let upstreams = Upstreams::all(&up.url)?
        .with(Service::Event, &dead_url()?)?
        .with(Service::Payment, &hung.url)?;
    let gateway = Gateway::start(config(upstreams)).await?;
    let started = std::time::Instant::now();
    let response = gateway.http.get(gateway.at("/health/all")).send().await?;
    let elapsed = started.elapsed();
    ensure!(response.status() == 200);
    let text = response.text().await?;
    ensure!(
        !text.contains("127.0.0.1") && !text.contains("http://"),
        "{text}"
    );
    let body: Value = serde_json::from_str(&text)?;
    ensure!(
        body["status"] == "degraded" && body["gateway"] == "up",
        "{body}"
    );
    let services = body["services"].as_array().cloned().unwrap_or_default();
    let names: Vec<&str> = services.iter().filter_map(|s| s["name"].as_str()).collect();
    ensure!(
        names
            == [
                "user",
                "event",
                "booking",
                "inventory",
                "payment",
                "notification"
            ],
        "{names:?}"
    );
    let statuses: Vec<&str> = services
        .iter()
        .filter_map(|s| s["status"].as_str())
        .collect();
    ensure!(
        statuses == ["up", "down", "up", "up", "down", "up"],
        "{statuses:?}"
    );
    ensure!(services.iter().all(|s| s["latencyMs"].is_u64()), "{body}");
    // Probes run concurrently, each capped at 2 s (the hung one hits the cap).
    ensure!(
        elapsed < std::time::Duration::from_millis(3500),
        "took {elapsed:?}"
    );
    // The probe carries the request id.
    ensure!(up
        .seen()
        .iter()
        .all(|s| s.path == "/health" && s.header("x-request-id").is_some()));

    // All up → "up".
    let gateway = Gateway::start(config(Upstreams::all(&up.url)?)).await?;
    let body: Value = gateway
        .http
        .get(gateway.at("/health/all"))
        .send()
        .await?
        .json()
        .await?;
    ensure!(body["status"] == "up", "{body}");
    Ok(())
}

#[tokio::test]
async fn request_id_and_traceparent_are_propagated() -> anyhow::Result<()> {
    let (_echo, gateway) = single_echo(|_| {}).await?;
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let response = gateway
        .http
        .get(gateway.at("/api/events"))
        .header("x-request-id", "client-req-42")
        .header("traceparent", format!("00-{trace}-00f067aa0ba902b7-01"))
        .send()
        .await?;
    ensure!(response.status() == 200);
    ensure!(response
        .headers()
        .get("x-request-id")
        .is_some_and(|v| v == "client-req-42"));
    let seen: Seen = response.json().await?;
    ensure!(
        seen.header("x-request-id") == Some("client-req-42"),
        "{seen:?}"
    );
    let tp = seen.header("traceparent").unwrap_or_default();
    ensure!(
        tp.starts_with(&format!("00-{trace}-")),
        "trace continued: {tp}"
    );
    ensure!(!tp.contains("00f067aa0ba902b7"), "new parent span: {tp}");

    // No (or an insane) id from the client: one is generated and used on both sides.
    let response = gateway
        .http
        .get(gateway.at("/api/events"))
        .header("x-request-id", "bad id with spaces")
        .send()
        .await?;
    let id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_default();
    ensure!(uuid::Uuid::parse_str(&id).is_ok(), "generated id {id}");
    let seen: Seen = response.json().await?;
    ensure!(seen.header("x-request-id") == Some(id.as_str()));
    let tp = seen.header("traceparent").unwrap_or_default();
    ensure!(
        tp.len() == 55 && tp.starts_with("00-"),
        "fresh traceparent {tp}"
    );

    // Gateway-made errors carry it too.
    let response = gateway.http.get(gateway.at("/nope")).send().await?;
    ensure!(response.headers().get("x-request-id").is_some());
    Ok(())
}

#[tokio::test]
async fn metrics_are_served_on_the_internal_port_only() -> anyhow::Result<()> {
    // The internal listener on port 0 too: `run_on` takes it bound.
    let metrics = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let metrics_port = metrics.local_addr()?.port();
    let echo = Echo::start("echo").await?;
    let gateway =
        Gateway::start_with_metrics(config(Upstreams::all(&echo.url)?), Some(metrics)).await?;
    ensure!(
        gateway
            .http
            .get(gateway.at("/api/events"))
            .send()
            .await?
            .status()
            == 200
    );
    let response = gateway.http.get(gateway.at("/metrics")).send().await?;
    ensure!(response.status() == 404, "no /metrics on the public port");
    let url = format!("http://127.0.0.1:{metrics_port}/metrics");
    let text = ticketflow_testkit::eventually(
        std::time::Duration::from_secs(5),
        "metrics listener",
        || {
            let http = gateway.http.clone();
            let url = url.clone();
            async move {
                match http.get(&url).send().await {
                    Ok(r) if r.status() == 200 => Ok(Some(r.text().await?)),
                    _ => Ok(None),
                }
            }
        },
    )
    .await?;
    ensure!(text.contains("http_requests_total"), "{text}");
    ensure!(text.contains("gateway_upstream_requests_total"), "{text}");
    // Readiness lives next to /metrics, not on the public port.
    let ready = gateway
        .http
        .get(format!("http://127.0.0.1:{metrics_port}/health/ready"))
        .send()
        .await?;
    ensure!(ready.status() == 200);
    let ready: serde_json::Value = ready.json().await?;
    ensure!(ready["service"] == "gateway", "{ready}");
    let public = gateway.http.get(gateway.at("/health/ready")).send().await?;
    ensure!(
        public.status() == 404,
        "no /health/ready on the public port"
    );
    Ok(())
}
