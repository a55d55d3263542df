//! Long-lived responses: inventory's seat stream (Server-Sent Events) passes through the gateway
//! as it is produced, is public, and is not cut off by the upstream timeout.

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use ticketflow_gateway::{Service, Upstreams};
use ticketflow_testkit::{eventually, Spawned};

use crate::support::{config, expect_error, fake, Echo, Gateway};

const STREAM: &str = "/api/inventory/events/e42/seats/stream";
/// Far below the stream's length: the gateway must not apply it to the body.
const UPSTREAM_TIMEOUT: Duration = Duration::from_millis(500);
/// `seat` events after the snapshot, one every `SEAT_EVERY`: about 3 s in all.
const SEATS: u32 = 10;
const SEAT_EVERY: Duration = Duration::from_millis(300);
/// Longest wait for any one chunk before the test gives up.
const CHUNK_WAIT: Duration = Duration::from_secs(10);

/// What the fake inventory's stream has done so far.
#[derive(Default)]
struct Progress {
    /// Events handed to the server (snapshot included).
    produced: AtomicU32,
    /// The stream ended by itself after its last event.
    finished: AtomicBool,
    /// The stream was dropped (ended, or the connection went away).
    dropped: AtomicBool,
}

/// Sets `dropped` when the stream (which owns it) goes away.
struct DropFlag(Arc<Progress>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.dropped.store(true, Ordering::SeqCst);
    }
}

#[derive(Clone)]
struct Inventory {
    seats: u32,
    progress: Arc<Progress>,
}

/// Like inventory-service's route: `snapshot` at once, then `seat` events, heartbeat comments
/// every 15 s (none within this test's runtime).
async fn seat_stream(
    State(inventory): State<Inventory>,
    Path(event_id): Path<String>,
) -> impl IntoResponse {
    let Inventory { seats, progress } = inventory;
    let guard = DropFlag(Arc::clone(&progress));
    let stream = futures::stream::unfold((0u32, guard), move |(n, guard)| {
        let event_id = event_id.clone();
        async move {
            let progress = Arc::clone(&guard.0);
            if n > seats {
                progress.finished.store(true, Ordering::SeqCst);
                return None;
            }
            let event = if n == 0 {
                Event::default()
                    .event("snapshot")
                    .data(format!(r#"{{"eventId":"{event_id}","seats":[]}}"#))
            } else {
                tokio::time::sleep(SEAT_EVERY).await;
                Event::default()
                    .event("seat")
                    .id(n.to_string())
                    .data(format!(r#"{{"seat":{n}}}"#))
            };
            progress.produced.fetch_add(1, Ordering::SeqCst);
            Some((Ok::<_, Infallible>(event), (n + 1, guard)))
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// A fake inventory serving the stream (with `seats` seat events), behind a gateway whose
/// upstream timeout is [`UPSTREAM_TIMEOUT`]; every other service is an echo.
async fn stream_behind_gateway(
    seats: u32,
) -> anyhow::Result<(Arc<Progress>, Spawned, Echo, Gateway)> {
    let progress = Arc::new(Progress::default());
    let inventory = fake(
        Router::new()
            .route(
                "/api/inventory/events/{event_id}/seats/stream",
                get(seat_stream),
            )
            .with_state(Inventory {
                seats,
                progress: Arc::clone(&progress),
            }),
    )
    .await?;
    let echo = Echo::start("echo").await?;
    let mut config = config(Upstreams::all(&echo.url)?.with(Service::Inventory, &inventory.base)?);
    config.upstream_timeout = UPSTREAM_TIMEOUT;
    let gateway = Gateway::start(config).await?;
    Ok((progress, inventory, echo, gateway))
}

/// One event as the client received it.
#[derive(Debug)]
struct Received {
    name: String,
    data: String,
    /// Since the request was sent.
    at: Duration,
    /// How many events the upstream had produced by then.
    upstream_produced: u32,
    upstream_finished: bool,
}

/// Splits complete events (blank-line terminated) off the front of `buffer`; comment lines
/// (heartbeats) are skipped. Returns `(event name, data)` pairs.
fn take_events(buffer: &mut String) -> Vec<(String, String)> {
    let mut events = Vec::new();
    while let Some(end) = buffer.find("\n\n") {
        let block: String = buffer.drain(..end + 2).collect();
        let mut name = String::from("message");
        let mut data = Vec::new();
        for line in block.lines() {
            if line.starts_with(':') {
                continue;
            }
            if let Some(value) = line.strip_prefix("event:") {
                name = value.trim_start().to_owned();
            } else if let Some(value) = line.strip_prefix("data:") {
                data.push(value.trim_start().to_owned());
            }
        }
        if !data.is_empty() {
            events.push((name, data.join("\n")));
        }
    }
    events
}

#[tokio::test]
async fn seat_stream_passes_through_unbuffered_past_the_upstream_timeout() -> anyhow::Result<()> {
    let (progress, _inventory, _echo, gateway) = stream_behind_gateway(SEATS).await?;

    // No Authorization header: the stream is public.
    let sent = Instant::now();
    let mut response = gateway.http.get(gateway.at(STREAM)).send().await?;
    ensure!(response.status() == 200, "status {}", response.status());
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    ensure!(
        header("content-type").is_some_and(|ct| ct.starts_with("text/event-stream")),
        "content-type {:?}",
        header("content-type")
    );
    ensure!(header("x-accel-buffering").as_deref() == Some("no"));
    ensure!(header("cache-control").as_deref() == Some("no-cache"));
    ensure!(header("content-length").is_none(), "a stream has no length");

    let mut buffer = String::new();
    let mut received: Vec<Received> = Vec::new();
    loop {
        let chunk = tokio::time::timeout(CHUNK_WAIT, response.chunk())
            .await
            .with_context(|| format!("no data for {CHUNK_WAIT:?} after {} events", received.len()))?
            .context("the stream broke off")?;
        let Some(chunk) = chunk else { break };
        buffer.push_str(std::str::from_utf8(&chunk)?);
        for (name, data) in take_events(&mut buffer) {
            received.push(Received {
                name,
                data,
                at: sent.elapsed(),
                upstream_produced: progress.produced.load(Ordering::SeqCst),
                upstream_finished: progress.finished.load(Ordering::SeqCst),
            });
        }
    }
    ensure!(
        buffer.trim().is_empty(),
        "incomplete event at the end: {buffer:?}"
    );

    // Everything arrived, in order: the snapshot, then every seat.
    let names: Vec<&str> = received.iter().map(|r| r.name.as_str()).collect();
    let mut expected = vec!["snapshot"];
    expected.extend(std::iter::repeat_n("seat", SEATS as usize));
    ensure!(names == expected, "events {names:?}");
    ensure!(received[0].data == r#"{"eventId":"e42","seats":[]}"#);
    for (n, event) in (1..=SEATS).zip(&received[1..]) {
        ensure!(
            event.data == format!(r#"{{"seat":{n}}}"#),
            "seat {n}: {event:?}"
        );
    }

    // Unbuffered: the snapshot reached the client while the upstream was still producing
    // (it had ~3 s of seats left to go).
    let snapshot = &received[0];
    ensure!(
        !snapshot.upstream_finished && snapshot.upstream_produced < SEATS + 1,
        "the snapshot only arrived once the upstream had produced everything: {snapshot:?}"
    );
    // Not cut off: events kept arriving after the upstream timeout had passed (seat n is
    // produced no sooner than n × 300 ms after the request, so seats 2… cannot arrive before
    // 500 ms), and the stream ended only because the upstream ended it.
    let late = received.iter().filter(|r| r.at > UPSTREAM_TIMEOUT).count();
    ensure!(
        late >= SEATS as usize - 1,
        "only {late} events arrived after {UPSTREAM_TIMEOUT:?}: {received:?}"
    );
    ensure!(progress.finished.load(Ordering::SeqCst));
    Ok(())
}

#[tokio::test]
async fn seat_stream_is_public_for_reads_only() -> anyhow::Result<()> {
    let (_progress, _inventory, _echo, gateway) = stream_behind_gateway(0).await?;
    let response = gateway.http.head(gateway.at(STREAM)).send().await?;
    ensure!(response.status() == 200, "HEAD: {}", response.status());
    for (method, path) in [
        ("POST", STREAM),
        ("GET", "/api/inventory/events/e42/seats/stream/x"),
        ("GET", "/api/inventory/events//seats/stream"),
    ] {
        let response = gateway
            .http
            .request(method.parse()?, gateway.at(path))
            .send()
            .await?;
        expect_error(response, 401, "UNAUTHORIZED")
            .await
            .with_context(|| format!("{method} {path}"))?;
    }
    Ok(())
}

#[tokio::test]
async fn a_client_leaving_the_stream_releases_the_upstream() -> anyhow::Result<()> {
    // Long enough (~5 min) that the stream only ends if the gateway lets go of it.
    let (progress, _inventory, _echo, gateway) = stream_behind_gateway(1000).await?;
    let mut response = gateway.http.get(gateway.at(STREAM)).send().await?;
    ensure!(response.status() == 200);
    let mut buffer = String::new();
    while take_events(&mut buffer).is_empty() {
        match tokio::time::timeout(CHUNK_WAIT, response.chunk()).await {
            Ok(Ok(Some(chunk))) => buffer.push_str(std::str::from_utf8(&chunk)?),
            other => bail!("no first event: {other:?}"),
        }
    }
    drop(response);
    eventually(
        Duration::from_secs(10),
        "the upstream stream to be dropped",
        || {
            let progress = Arc::clone(&progress);
            async move { Ok(progress.dropped.load(Ordering::SeqCst).then_some(())) }
        },
    )
    .await?;
    ensure!(
        !progress.finished.load(Ordering::SeqCst),
        "the stream ran to its end instead"
    );
    Ok(())
}
