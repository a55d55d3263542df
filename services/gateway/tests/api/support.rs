//! In-process gateway + echo upstreams over real loopback HTTP, each on testkit's `Spawned`
//! (a listener of its own on port 0).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};
use ticketflow_common::auth::{test_identity_key, Role};
use ticketflow_common::config::Secret;
use ticketflow_gateway::{Config, Service, Upstreams};
use ticketflow_testkit::{unreachable_addr, Spawned};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub const SECRET: &str = "gateway-tests-secret-0123456789abcdef";

/// One request as an echo upstream received it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Seen {
    pub upstream: String,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: BTreeMap<String, Vec<String>>,
    pub body_len: usize,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .and_then(|values| values.first())
            .map(String::as_str)
    }

    pub fn header_count(&self, name: &str) -> usize {
        self.headers.get(name).map_or(0, Vec::len)
    }
}

/// A small axum upstream answering every request with what it received, as JSON.
///
/// - `GET /health` → `200 {"status":"up"}`
/// - `?respond_bytes=N` → N bytes of a fixed pattern
/// - `?raw=1` → the request body, unchanged
/// - `?hop=1` → also sends hop-by-hop and CORS headers the gateway must drop
pub struct Echo {
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    _server: Spawned,
}

/// Serves `app` on the harness's listener until it is cancelled.
pub async fn fake(app: Router) -> anyhow::Result<Spawned> {
    Spawned::start(|listener, shutdown| async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await?;
        Ok(())
    })
    .await
}

impl Echo {
    pub async fn start(name: &str) -> anyhow::Result<Self> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let state = EchoState {
            name: name.to_owned(),
            seen: Arc::clone(&seen),
        };
        let server = fake(Router::new().fallback(echo).with_state(state)).await?;
        Ok(Self {
            url: server.base.clone(),
            seen,
            _server: server,
        })
    }

    /// Every request received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Requests received so far other than health probes.
    pub fn count(&self) -> usize {
        self.seen().len()
    }
}

#[derive(Clone)]
struct EchoState {
    name: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

async fn echo(State(state): State<EchoState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in &parts.headers {
        headers
            .entry(name.as_str().to_owned())
            .or_default()
            .push(String::from_utf8_lossy(value.as_bytes()).into_owned());
    }
    let seen = json!({
        "upstream": state.name,
        "method": parts.method.as_str(),
        "path": parts.uri.path(),
        "query": parts.uri.query(),
        "headers": headers,
        "bodyLen": bytes.len(),
    });
    if let Ok(record) = serde_json::from_value::<Seen>(seen.clone()) {
        if let Ok(mut list) = state.seen.lock() {
            list.push(record);
        }
    }
    let query = parts.uri.query().unwrap_or_default();
    let param = |name: &str| {
        query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_owned())
    };
    if parts.uri.path() == "/health" {
        return axum::Json(json!({"status": "up"})).into_response();
    }
    if let Some(n) = param("respond_bytes").and_then(|n| n.parse::<usize>().ok()) {
        return Response::new(Body::from(pattern(n)));
    }
    if param("raw").is_some() {
        return Response::new(Body::from(bytes));
    }
    let mut response = axum::Json(seen).into_response();
    if param("hop").is_some() {
        let h = response.headers_mut();
        h.insert("connection", HeaderValue::from_static("x-upstream-hop"));
        h.insert("x-upstream-hop", HeaderValue::from_static("secret"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert("proxy-authenticate", HeaderValue::from_static("Basic"));
        h.insert("access-control-allow-origin", HeaderValue::from_static("*"));
        h.insert("x-upstream-kept", HeaderValue::from_static("yes"));
    }
    response
}

/// Deterministic bytes for large-body checks.
pub fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

/// A port nobody listens on.
pub fn dead_url() -> anyhow::Result<String> {
    Ok(format!("http://{}", unreachable_addr()?))
}

/// A listener that accepts connections and never answers.
pub struct Hung {
    pub url: String,
    _server: Spawned,
}

impl Hung {
    pub async fn start() -> anyhow::Result<Self> {
        let server = Spawned::start(|listener, shutdown| async move {
            let mut held = Vec::new();
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    accepted = listener.accept() => match accepted {
                        Ok((socket, _)) => held.push(socket),
                        Err(_) => break,
                    },
                }
            }
            Ok(())
        })
        .await?;
        Ok(Self {
            url: server.base.clone(),
            _server: server,
        })
    }
}

/// A gateway running in-process (testkit's `Spawned`).
pub struct Gateway {
    pub addr: SocketAddr,
    pub url: String,
    pub http: reqwest::Client,
    _server: Spawned,
}

impl Gateway {
    /// Starts it and waits until `/health` answers (failing with the gateway's own error,
    /// e.g. a config it refuses).
    pub async fn start(config: Config) -> anyhow::Result<Self> {
        Self::start_with_metrics(config, None).await
    }

    /// Also serves the internal router (`/metrics`, `/health/ready`) on `metrics_listener`.
    pub async fn start_with_metrics(
        config: Config,
        metrics_listener: Option<TcpListener>,
    ) -> anyhow::Result<Self> {
        let mut server = Spawned::start(|listener, shutdown| {
            ticketflow_gateway::run_on(config, listener, metrics_listener, shutdown)
        })
        .await?;
        server.wait_ready("/health").await?;
        Ok(Self {
            addr: server.addr,
            url: server.base.clone(),
            http: server.client.clone(),
            _server: server,
        })
    }

    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// Sends a raw HTTP/1.1 request (nothing normalised) and returns status, headers, body.
    pub async fn raw(&self, head: &str) -> anyhow::Result<RawResponse> {
        raw_request(self.addr, head.as_bytes()).await
    }
}

/// One echo server per service (events and venues share the event one).
pub struct Fleet {
    pub echoes: Vec<Echo>,
}

impl Fleet {
    pub async fn start() -> anyhow::Result<Self> {
        let mut echoes = Vec::new();
        for service in Service::ALL {
            echoes.push(Echo::start(service.name()).await?);
        }
        Ok(Self { echoes })
    }

    pub fn upstreams(&self) -> anyhow::Result<Upstreams> {
        let mut upstreams = Upstreams::all(&self.echoes[0].url)?;
        for (service, echo) in Service::ALL.iter().zip(&self.echoes) {
            upstreams = upstreams.with(*service, &echo.url)?;
        }
        Ok(upstreams)
    }

    pub fn total(&self) -> usize {
        self.echoes.iter().map(Echo::count).sum()
    }

    pub fn all_seen(&self) -> Vec<Seen> {
        self.echoes.iter().flat_map(Echo::seen).collect()
    }
}

pub fn config(upstreams: Upstreams) -> Config {
    Config::for_test(SECRET, test_identity_key(), upstreams)
}

/// One echo for every service; returns it and the gateway.
pub async fn single_echo(tweak: impl FnOnce(&mut Config)) -> anyhow::Result<(Echo, Gateway)> {
    let echo = Echo::start("echo").await?;
    let mut config = config(Upstreams::all(&echo.url)?);
    tweak(&mut config);
    let gateway = Gateway::start(config).await?;
    Ok((echo, gateway))
}

pub fn token(role: Role) -> anyhow::Result<(uuid::Uuid, String)> {
    let id = uuid::Uuid::new_v4();
    let (token, _) = ticketflow_common::jwt::issue(
        &Secret::new(SECRET),
        id,
        "fan@ticketflow.dev",
        role,
        60_000,
    )?;
    Ok((id, token))
}

/// Tokens that must never count as an identity, by name.
pub fn bad_tokens() -> anyhow::Result<Vec<(&'static str, String)>> {
    let id = uuid::Uuid::new_v4();
    let other_key = Secret::new("another-secret-of-at-least-32-bytes!!");
    let (wrong_key, _) =
        ticketflow_common::jwt::issue(&other_key, id, "x@y.z", Role::Admin, 60_000)?;
    let (expired, _) =
        ticketflow_common::jwt::issue(&Secret::new(SECRET), id, "x@y.z", Role::Admin, -120_000)?;
    let header = base64url(br#"{"alg":"none","typ":"JWT"}"#);
    let body = base64url(
        format!(r#"{{"sub":"{id}","email":"x@y.z","role":"ADMIN","iat":0,"exp":9999999999}}"#)
            .as_bytes(),
    );
    Ok(vec![
        ("wrong key", wrong_key),
        ("alg none", format!("{header}.{body}.")),
        ("expired", expired),
        ("garbage", "not-a.jwt.at-all".to_owned()),
    ])
}

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n =
            chunk.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// Asserts the error envelope and returns its request id.
pub async fn expect_error(
    response: reqwest::Response,
    status: u16,
    code: &str,
) -> anyhow::Result<String> {
    let actual = response.status().as_u16();
    let header_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body: Value = response.json().await.context("error body is not JSON")?;
    if actual != status || body["error"]["code"] != code {
        bail!("expected {status} {code}, got {actual} {body}");
    }
    let id = body["error"]["requestId"]
        .as_str()
        .ok_or_else(|| anyhow!("no requestId in {body}"))?
        .to_owned();
    if body["error"]["message"].as_str().is_none_or(str::is_empty) {
        bail!("no message in {body}");
    }
    if header_id.as_deref() != Some(id.as_str()) {
        bail!("x-request-id {header_id:?} differs from requestId {id}");
    }
    Ok(id)
}

#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn json(&self) -> anyhow::Result<Value> {
        Ok(serde_json::from_slice(&self.body)?)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Writes `request` as is (add `Connection: close`) and reads the response to EOF.
pub async fn raw_request(addr: SocketAddr, request: &[u8]) -> anyhow::Result<RawResponse> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(request).await?;
    let mut bytes = Vec::new();
    tokio::time::timeout(Duration::from_secs(15), stream.read_to_end(&mut bytes))
        .await
        .context("raw response timed out")??;
    let split = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| anyhow!("no header end in {:?}", String::from_utf8_lossy(&bytes)))?;
    let head = String::from_utf8_lossy(&bytes[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow!("bad status line in {head}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = bytes[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    if chunked {
        body = dechunk(&body)?;
    }
    Ok(RawResponse {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| anyhow!("bad chunk"))?;
        let size_text = String::from_utf8_lossy(&data[..line_end]).into_owned();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        out.extend_from_slice(data.get(..size).ok_or_else(|| anyhow!("short chunk"))?);
        data = data.get(size + 2..).ok_or_else(|| anyhow!("short chunk"))?;
    }
}
