//! The HTTP frame: error envelope, extractors, fallbacks, body limit, readiness.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use http_body_util::BodyExt;
use serde::Deserialize;
use serde_json::Value;
use ticketflow_common::auth::IdentityKey;
use ticketflow_common::config::Secret;
use ticketflow_common::health::Health;
use ticketflow_common::{server, AdminUser, ApiError, ApiJson, AuthUser, OptionalUser};
use tower::ServiceExt;

#[derive(Deserialize)]
#[allow(dead_code)]
struct Signup {
    email: String,
    age: u32,
}

const KEY: &str = "test-internal-secret-0123456789abcdef";

fn key() -> IdentityKey {
    IdentityKey::new(Secret::new(KEY))
}

fn app() -> Router {
    server::finish(
        Router::new()
            .route(
                "/signup",
                post(|ApiJson(body): ApiJson<Signup>| async move { body.email }),
            )
            .route("/me", get(|user: AuthUser| async move { user.email }))
            .route(
                "/admin",
                get(|AdminUser(user): AdminUser| async move { user.id.to_string() }),
            )
            .route(
                "/maybe",
                get(|OptionalUser(user): OptionalUser| async move {
                    user.map_or("anonymous".to_owned(), |u| u.email)
                }),
            )
            .route(
                "/boom",
                get(|| async {
                    Err::<(), _>(ApiError::Internal(anyhow::anyhow!(
                        "password=hunter2 connection refused at 10.0.0.7"
                    )))
                }),
            ),
        key(),
    )
}

struct Reply {
    status: StatusCode,
    request_id: Option<String>,
    body: Value,
    text: String,
}

async fn call(request: Request<Body>) -> anyhow::Result<Reply> {
    let response = app().oneshot(request).await?;
    let status = response.status();
    let request_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = response.into_body().collect().await?.to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Ok(Reply {
        status,
        request_id,
        body,
        text,
    })
}

fn json_post(uri: &str, body: &str) -> anyhow::Result<Request<Body>> {
    Ok(Request::post(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))?)
}

fn assert_envelope(reply: &Reply, status: StatusCode, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.text);
    assert_eq!(reply.body["error"]["code"], code, "{}", reply.text);
    assert!(reply.body["error"]["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
    assert_eq!(
        reply.body["error"]["requestId"].as_str(),
        reply.request_id.as_deref(),
        "envelope requestId must echo the x-request-id header"
    );
}

#[tokio::test]
async fn malformed_json_is_a_validation_error() -> anyhow::Result<()> {
    let reply = call(json_post("/signup", "{\"email\": ")?).await?;
    assert_envelope(&reply, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(reply.body["error"]["details"][0]["field"], "body");
    Ok(())
}

#[tokio::test]
async fn wrong_content_type_is_a_validation_error() -> anyhow::Result<()> {
    let request = Request::post("/signup")
        .header("content-type", "text/plain")
        .body(Body::from("{\"email\":\"a@b.c\",\"age\":3}"))?;
    let reply = call(request).await?;
    assert_envelope(&reply, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert!(reply.body["error"]["details"][0]["message"]
        .as_str()
        .is_some_and(|m| m.contains("application/json")));
    Ok(())
}

#[tokio::test]
async fn missing_and_mistyped_fields_are_named_in_details() -> anyhow::Result<()> {
    let reply = call(json_post("/signup", "{\"age\": 3}")?).await?;
    assert_envelope(&reply, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(
        reply.body["error"]["details"][0]["field"], "email",
        "{}",
        reply.text
    );

    let reply = call(json_post(
        "/signup",
        "{\"email\":\"a@b.c\",\"age\":\"old\"}",
    )?)
    .await?;
    assert_envelope(&reply, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(
        reply.body["error"]["details"][0]["field"], "age",
        "{}",
        reply.text
    );

    let ok = call(json_post("/signup", "{\"email\":\"a@b.c\",\"age\":3}")?).await?;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.text, "a@b.c");
    Ok(())
}

#[tokio::test]
async fn unknown_route_and_wrong_method_get_the_envelope() -> anyhow::Result<()> {
    let reply = call(Request::get("/nowhere").body(Body::empty())?).await?;
    assert_envelope(&reply, StatusCode::NOT_FOUND, "NOT_FOUND");
    let reply = call(Request::delete("/signup").body(Body::empty())?).await?;
    assert_envelope(&reply, StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED");
    Ok(())
}

#[tokio::test]
async fn request_id_is_echoed_or_generated() -> anyhow::Result<()> {
    let reply = call(
        Request::get("/nowhere")
            .header("x-request-id", "client-chosen-1")
            .body(Body::empty())?,
    )
    .await?;
    assert_eq!(reply.request_id.as_deref(), Some("client-chosen-1"));
    assert_eq!(reply.body["error"]["requestId"], "client-chosen-1");
    let reply = call(Request::get("/nowhere").body(Body::empty())?).await?;
    assert!(reply
        .request_id
        .as_deref()
        .is_some_and(|id| uuid::Uuid::parse_str(id).is_ok()));
    Ok(())
}

#[tokio::test]
async fn internal_errors_never_leak() -> anyhow::Result<()> {
    let reply = call(Request::get("/boom").body(Body::empty())?).await?;
    assert_envelope(&reply, StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR");
    assert!(!reply.text.contains("hunter2"));
    assert!(!reply.text.contains("10.0.0.7"));
    Ok(())
}

#[tokio::test]
async fn bodies_over_one_mebibyte_are_rejected() -> anyhow::Result<()> {
    let big = format!(
        "{{\"email\":\"{}\",\"age\":1}}",
        "a".repeat(2 * 1024 * 1024)
    );
    // Streamed body: caught while reading it.
    let reply = call(json_post("/signup", &big)?).await?;
    assert_envelope(&reply, StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE");
    // Declared length: refused before the handler runs.
    let declared = Request::post("/signup")
        .header("content-type", "application/json")
        .header("content-length", big.len())
        .body(Body::from(big))?;
    let reply = call(declared).await?;
    assert_envelope(&reply, StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE");
    Ok(())
}

const USER_ID: &str = "6f1c1a9e-3b7e-4f57-9d42-1a2b3c4d5e6f";

/// A request as the gateway forwards it: identity headers signed with `signer`.
fn signed(uri: &str, id: &str, role: &str, signer: &IdentityKey) -> anyhow::Result<Request<Body>> {
    let now = chrono::Utc::now().timestamp();
    let proof = signer.prove(id, "ann@example.com", role, "req-1", now);
    Ok(Request::get(uri)
        .header("x-request-id", "req-1")
        .header("x-user-id", id)
        .header("x-user-email", "ann@example.com")
        .header("x-user-role", role)
        .header("x-user-proof", proof)
        .body(Body::empty())?)
}

fn as_user(uri: &str, role: &str) -> anyhow::Result<Request<Body>> {
    signed(uri, USER_ID, role, &key())
}

#[tokio::test]
async fn identity_without_the_gateways_proof_is_refused() -> anyhow::Result<()> {
    // What anyone who can reach a service could send: the right headers, no valid proof.
    let forged = || {
        Request::get("/admin")
            .header("x-user-id", USER_ID)
            .header("x-user-email", "ann@example.com")
            .header("x-user-role", "ADMIN")
    };
    let bare = call(forged().body(Body::empty())?).await?;
    assert_envelope(&bare, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    let junk = call(
        forged()
            .header("x-user-proof", "v1.1.abcd")
            .body(Body::empty())?,
    )
    .await?;
    assert_envelope(&junk, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    let other_key = IdentityKey::new(Secret::new("another-secret-0123456789abcdefghij"));
    let wrong_key = call(signed("/admin", USER_ID, "ADMIN", &other_key)?).await?;
    assert_envelope(&wrong_key, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    // A proof for USER does not make the same caller ADMIN.
    let mut upgraded = as_user("/admin", "USER")?;
    upgraded
        .headers_mut()
        .insert("x-user-role", "ADMIN".parse()?);
    assert_envelope(
        &call(upgraded).await?,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
    );
    // Optional identity: a forged one counts as anonymous.
    let mut maybe = forged().body(Body::empty())?;
    *maybe.uri_mut() = "/maybe".parse()?;
    assert_eq!(call(maybe).await?.text, "anonymous");
    Ok(())
}

#[tokio::test]
async fn auth_user_requires_identity() -> anyhow::Result<()> {
    let reply = call(Request::get("/me").body(Body::empty())?).await?;
    assert_envelope(&reply, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");

    let bad_id = signed("/me", "not-a-uuid", "USER", &key())?;
    assert_envelope(
        &call(bad_id).await?,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
    );
    assert_envelope(
        &call(as_user("/me", "ROOT")?).await?,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
    );

    let ok = call(as_user("/me", "USER")?).await?;
    assert_eq!(
        (ok.status, ok.text.as_str()),
        (StatusCode::OK, "ann@example.com")
    );
    Ok(())
}

#[tokio::test]
async fn admin_user_requires_the_admin_role() -> anyhow::Result<()> {
    let anonymous = call(Request::get("/admin").body(Body::empty())?).await?;
    assert_envelope(&anonymous, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    let user = call(as_user("/admin", "USER")?).await?;
    assert_envelope(&user, StatusCode::FORBIDDEN, "FORBIDDEN");
    let admin = call(as_user("/admin", "ADMIN")?).await?;
    assert_eq!(
        (admin.status, admin.text.as_str()),
        (StatusCode::OK, USER_ID)
    );
    Ok(())
}

#[tokio::test]
async fn optional_user_never_rejects() -> anyhow::Result<()> {
    let anonymous = call(Request::get("/maybe").body(Body::empty())?).await?;
    assert_eq!(
        (anonymous.status, anonymous.text.as_str()),
        (StatusCode::OK, "anonymous")
    );
    let user = call(as_user("/maybe", "USER")?).await?;
    assert_eq!(user.text, "ann@example.com");
    Ok(())
}

#[tokio::test]
async fn readiness_reports_each_dependency() -> anyhow::Result<()> {
    let db = ticketflow_testkit::TestPgDatabase::create().await?;
    let pool = db.pool().await?;
    let health = Health::new("test-service")
        .postgres(pool)
        .check("broken", || async { anyhow::bail!("nope") });
    let app: Router = server::finish(health.router(), key());

    let live = app
        .clone()
        .oneshot(Request::get("/health").body(Body::empty())?)
        .await?;
    assert_eq!(live.status(), StatusCode::OK);
    let live: Value = serde_json::from_slice(&live.into_body().collect().await?.to_bytes())?;
    assert_eq!(
        (live["status"].as_str(), live["service"].as_str()),
        (Some("up"), Some("test-service"))
    );

    let ready = app
        .oneshot(Request::get("/health/ready").body(Body::empty())?)
        .await?;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let ready: Value = serde_json::from_slice(&ready.into_body().collect().await?.to_bytes())?;
    assert_eq!(ready["checks"]["postgres"], "up");
    assert_eq!(ready["checks"]["broken"], "down");
    assert_eq!(ready["status"], "down");
    Ok(())
}

#[tokio::test]
async fn metrics_count_requests_by_matched_path() -> anyhow::Result<()> {
    let app = app();
    let me = as_user("/me", "USER")?;
    assert_eq!(app.clone().oneshot(me).await?.status(), StatusCode::OK);
    let metrics = app
        .oneshot(Request::get("/metrics").body(Body::empty())?)
        .await?;
    assert_eq!(metrics.status(), StatusCode::OK);
    let text = String::from_utf8(metrics.into_body().collect().await?.to_bytes().to_vec())?;
    // Other tests hit /me with other outcomes; look for the 200 series.
    let counted = text.lines().any(|l| {
        l.starts_with("http_requests_total")
            && l.contains("path=\"/me\"")
            && l.contains("status=\"200\"")
    });
    assert!(counted, "{text}");
    assert!(
        text.contains("http_request_duration_seconds_bucket"),
        "{text}"
    );
    Ok(())
}

/// Serves `app()` on a loopback port with `limits`; the token stops it.
async fn serve_limited(
    limits: server::ServeLimits,
) -> anyhow::Result<(std::net::SocketAddr, tokio_util::sync::CancellationToken)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let stop = tokio_util::sync::CancellationToken::new();
    tokio::spawn(server::serve_with(listener, app(), stop.clone(), limits));
    Ok((addr, stop))
}

/// Reads until the peer closes (Ok(bytes)) or `limit` passes (Err).
async fn read_until_closed(
    stream: &mut tokio::net::TcpStream,
    limit: std::time::Duration,
) -> anyhow::Result<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let mut seen = Vec::new();
    tokio::time::timeout(limit, async {
        let mut buf = [0u8; 1024];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .map_err(|_| anyhow::anyhow!("the connection was still open after {limit:?}"))?;
    Ok(seen)
}

#[tokio::test]
async fn unfinished_headers_are_cut_off() -> anyhow::Result<()> {
    use tokio::io::AsyncWriteExt;
    assert!(
        server::ServeLimits::default().header_read_timeout <= std::time::Duration::from_secs(30)
    );
    let limits = server::ServeLimits {
        header_read_timeout: std::time::Duration::from_millis(300),
        ..server::ServeLimits::default()
    };
    let (addr, stop) = serve_limited(limits).await?;
    let mut slow = tokio::net::TcpStream::connect(addr).await?;
    slow.write_all(b"GET /maybe HTTP/1.1\r\nHost: x").await?;
    read_until_closed(&mut slow, std::time::Duration::from_secs(5)).await?;
    stop.cancel();
    Ok(())
}

#[tokio::test]
async fn past_the_connection_cap_a_new_client_is_refused_fast() -> anyhow::Result<()> {
    use tokio::io::AsyncWriteExt;
    let limits = server::ServeLimits {
        max_connections: 3,
        ..server::ServeLimits::default()
    };
    let (addr, stop) = serve_limited(limits).await?;
    // Three idle connections take every slot.
    let mut idle = Vec::new();
    for _ in 0..3 {
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        stream.write_all(b"GET /maybe HTTP/1.1\r\n").await?;
        idle.push(stream);
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let mut fresh = tokio::net::TcpStream::connect(addr).await?;
    let _ = fresh
        .write_all(b"GET /maybe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await;
    // Refused (closed with no answer) within a second: never left hanging.
    let answer = read_until_closed(&mut fresh, std::time::Duration::from_secs(1)).await?;
    assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer));
    // A slot freed is a slot served.
    drop(idle.pop());
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let mut next = tokio::net::TcpStream::connect(addr).await?;
    next.write_all(b"GET /maybe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await?;
    let answer = read_until_closed(&mut next, std::time::Duration::from_secs(5)).await?;
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    stop.cancel();
    Ok(())
}

/// Collects what the fmt subscriber writes, for asserting on log lines.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut out) = self.0.lock() {
            out.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn every_response_is_access_logged_with_its_request_id() -> anyhow::Result<()> {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    // Other tests of this binary run the same callsites on other threads with no subscriber;
    // a callsite first seen there can keep a stale "not interested" until interest is rebuilt.
    tracing::callsite::rebuild_interest_cache();
    let request = Request::get("/nowhere")
        .header("x-request-id", "req-access-log")
        .body(Body::empty())?;
    let reply = call(request).await?;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let text = String::from_utf8(captured.0.lock().map(|b| b.clone()).unwrap_or_default())?;
    let line = text
        .lines()
        .find(|l| l.contains("finished processing request"))
        .unwrap_or_default();
    assert!(line.contains("\"status\":404"), "{text}");
    assert!(line.contains("\"latency\""), "{text}");
    assert!(
        line.contains("req-access-log"),
        "the line is in the request's span: {text}"
    );
    Ok(())
}
