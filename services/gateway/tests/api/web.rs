//! The web app from `WEB_DIR`: files, the single-page-app fallback for client routes, caching,
//! and that none of it shadows the API, health or operator paths.

use std::path::PathBuf;

use anyhow::ensure;

use crate::support::{config, expect_error, Echo, Gateway};
use ticketflow_gateway::Upstreams;

const INDEX: &str = "<!doctype html><title>TicketFlow</title><div id=\"root\"></div>";
const SCRIPT: &str = "console.log('app')";

/// A built app in a directory of its own, removed on drop.
struct BuiltApp {
    root: PathBuf,
}

impl BuiltApp {
    fn new() -> anyhow::Result<Self> {
        let root = std::env::temp_dir().join(format!("tf-web-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(root.join("assets"))?;
        std::fs::write(root.join("index.html"), INDEX)?;
        std::fs::write(root.join("assets/index-3f9a1c.js"), SCRIPT)?;
        std::fs::write(root.join("favicon.svg"), "<svg/>")?;
        std::fs::write(root.join(".env"), "SECRET=1")?;
        Ok(Self { root })
    }
}

impl Drop for BuiltApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

async fn start(web_dir: Option<PathBuf>) -> anyhow::Result<(Echo, Gateway)> {
    let echo = Echo::start("echo").await?;
    let mut config = config(Upstreams::all(&echo.url)?);
    config.web_dir = web_dir;
    let gateway = Gateway::start(config).await?;
    Ok((echo, gateway))
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

#[tokio::test]
async fn client_routes_get_index_html_revalidated_and_assets_are_immutable() -> anyhow::Result<()> {
    let app = BuiltApp::new()?;
    let (_echo, gateway) = start(Some(app.root.clone())).await?;

    for path in [
        "/",
        "/index.html",
        "/events/0b6f2c1e",
        "/bookings",
        "/admin/venues",
    ] {
        let response = gateway.http.get(gateway.at(path)).send().await?;
        ensure!(response.status() == 200, "{path}: {}", response.status());
        ensure!(
            header(&response, "content-type").starts_with("text/html"),
            "{path}"
        );
        ensure!(header(&response, "cache-control") == "no-cache", "{path}");
        ensure!(
            header(&response, "content-security-policy").contains("default-src 'self'"),
            "{path}"
        );
        ensure!(response.text().await? == INDEX, "{path}");
    }

    let response = gateway
        .http
        .get(gateway.at("/assets/index-3f9a1c.js"))
        .send()
        .await?;
    ensure!(response.status() == 200);
    ensure!(header(&response, "content-type").starts_with("text/javascript"));
    ensure!(header(&response, "cache-control") == "public, max-age=31536000, immutable");
    ensure!(header(&response, "x-content-type-options") == "nosniff");
    ensure!(response.text().await? == SCRIPT);

    let response = gateway.http.get(gateway.at("/favicon.svg")).send().await?;
    ensure!(response.status() == 200);
    ensure!(header(&response, "content-type") == "image/svg+xml");
    ensure!(header(&response, "cache-control") == "no-cache");

    // A file that is not there is a 404, never the app (a missing script must not get HTML).
    for path in ["/assets/index-000000.js", "/robots.txt", "/.env"] {
        let response = gateway.http.get(gateway.at(path)).send().await?;
        expect_error(response, 404, "NOT_FOUND").await?;
    }

    // Revalidation: the ETag of index.html answers 304 with no body.
    let first = gateway.http.get(gateway.at("/")).send().await?;
    let etag = header(&first, "etag").to_owned();
    ensure!(etag.starts_with("W/\""), "etag {etag}");
    let again = gateway
        .http
        .get(gateway.at("/events/x"))
        .header("if-none-match", &etag)
        .send()
        .await?;
    ensure!(again.status() == 304, "{}", again.status());
    ensure!(again.text().await?.is_empty());

    // HEAD has the headers and no body.
    let head = gateway.http.head(gateway.at("/bookings")).send().await?;
    ensure!(head.status() == 200);
    ensure!(header(&head, "content-type").starts_with("text/html"));
    Ok(())
}

#[tokio::test]
async fn the_api_health_and_operator_paths_are_never_the_app() -> anyhow::Result<()> {
    let app = BuiltApp::new()?;
    let (echo, gateway) = start(Some(app.root.clone())).await?;

    // API routes are still proxied, and unknown API paths keep the JSON 404 envelope.
    let response = gateway
        .http
        .get(gateway.at("/api/events?x=1"))
        .send()
        .await?;
    ensure!(response.status() == 200);
    ensure!(echo.count() == 1, "forwarded to the service");
    for path in [
        "/api",
        "/api/",
        "/api/nope",
        "/api/nope/deeper",
        "/metrics",
        "/health/ready",
    ] {
        let response = gateway.http.get(gateway.at(path)).send().await?;
        expect_error(response, 404, "NOT_FOUND").await?;
    }
    let response = gateway.http.get(gateway.at("/health")).send().await?;
    ensure!(header(&response, "content-type").starts_with("application/json"));

    // Only GET/HEAD reach the app; a POST to a client route is the envelope 404.
    let response = gateway.http.post(gateway.at("/events/1")).send().await?;
    expect_error(response, 404, "NOT_FOUND").await?;

    // Traversal is refused before the app is looked at; a symlink out of WEB_DIR is not followed.
    let response = gateway
        .raw("GET /assets/../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await?;
    ensure!(response.status == 400, "traversal: {}", response.status);
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("/etc/hostname", app.root.join("assets/out.txt"))?;
        let response = gateway
            .http
            .get(gateway.at("/assets/out.txt"))
            .send()
            .await?;
        expect_error(response, 404, "NOT_FOUND").await?;
    }
    Ok(())
}

#[tokio::test]
async fn without_a_built_app_every_other_path_is_the_json_404() -> anyhow::Result<()> {
    let missing = std::env::temp_dir().join(format!("tf-web-missing-{}", uuid::Uuid::new_v4()));
    let (_echo, gateway) = start(Some(missing)).await?;
    for path in ["/", "/events/1", "/assets/index-1.js"] {
        let response = gateway.http.get(gateway.at(path)).send().await?;
        expect_error(response, 404, "NOT_FOUND").await?;
    }
    Ok(())
}

#[tokio::test]
async fn hashed_assets_do_not_count_against_the_rate_limit() -> anyhow::Result<()> {
    let app = BuiltApp::new()?;
    let echo = Echo::start("echo").await?;
    let mut config = config(Upstreams::all(&echo.url)?);
    config.web_dir = Some(app.root.clone());
    config.rate_limit_max = 2;
    config.rate_limit_window = std::time::Duration::from_secs(60);
    let gateway = Gateway::start(config).await?;

    for _ in 0..2 {
        let response = gateway.http.get(gateway.at("/api/events")).send().await?;
        ensure!(response.status() == 200);
    }
    let response = gateway.http.get(gateway.at("/api/events")).send().await?;
    expect_error(response, 429, "RATE_LIMITED").await?;
    // The window is used up, yet the page's code still loads…
    for _ in 0..5 {
        let response = gateway
            .http
            .get(gateway.at("/assets/index-3f9a1c.js"))
            .send()
            .await?;
        ensure!(response.status() == 200, "{}", response.status());
    }
    // …while index.html and everything else count as before.
    let response = gateway.http.get(gateway.at("/events/1")).send().await?;
    expect_error(response, 429, "RATE_LIMITED").await?;
    Ok(())
}
