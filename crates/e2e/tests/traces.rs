//! One `POST /api/bookings` is one trace: the gateway, booking-, inventory- and payment-service
//! (every service a real process, exporting OTLP) all put spans in the trace the client's
//! `traceparent` started, carried from service to service in HTTP and Kafka headers (including
//! through booking's PostgreSQL outbox). The collector is this test: a minimal OTLP/gRPC
//! receiver (HTTP/2, `TraceService/Export`) that keeps every span it is sent.
//!
//! Needs the native stack and the service binaries (`cargo build --bins`), like tests/saga.rs.

use std::collections::{BTreeSet, HashMap};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use prost::Message;
use reqwest::StatusCode;
use serde_json::json;
use ticketflow_e2e::{start_with, Options};

/// A span as the test sees it: the exporting service, its trace and its name.
#[derive(Debug, Clone)]
struct Received {
    service: String,
    trace_id: String,
    name: String,
}

type Spans = Arc<Mutex<Vec<Received>>>;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The spans of one gRPC `Export` request body (5-byte frame header + protobuf message).
fn decode(mut body: Bytes) -> anyhow::Result<Vec<Received>> {
    anyhow::ensure!(body.len() >= 5, "short gRPC frame");
    let compressed = body.get_u8();
    anyhow::ensure!(compressed == 0, "compressed OTLP export not supported here");
    let len = body.get_u32() as usize;
    anyhow::ensure!(body.len() >= len, "truncated gRPC frame");
    let request = ExportTraceServiceRequest::decode(body.slice(..len))?;
    let mut spans = Vec::new();
    for resource_spans in request.resource_spans {
        let service = resource_spans
            .resource
            .iter()
            .flat_map(|r| r.attributes.iter())
            .find(|kv| kv.key == "service.name")
            .and_then(
                |kv| match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                    Some(AnyValue::StringValue(s)) => Some(s.clone()),
                    _ => None,
                },
            )
            .unwrap_or_default();
        for scope in resource_spans.scope_spans {
            for span in scope.spans {
                spans.push(Received {
                    service: service.clone(),
                    trace_id: hex(&span.trace_id),
                    name: span.name,
                });
            }
        }
    }
    Ok(spans)
}

type GrpcBody =
    StreamBody<futures::stream::Iter<std::vec::IntoIter<Result<Frame<Bytes>, Infallible>>>>;

async fn export(
    request: Request<Incoming>,
    spans: Spans,
) -> Result<Response<GrpcBody>, Infallible> {
    let (grpc_status, message) = match request.into_body().collect().await {
        Ok(body) => match decode(body.to_bytes()) {
            Ok(received) => {
                if let Ok(mut all) = spans.lock() {
                    all.extend(received);
                }
                ("0", "")
            }
            Err(_) => ("3", "undecodable export"),
        },
        Err(_) => ("13", "body not read"),
    };
    let reply = ExportTraceServiceResponse::default().encode_to_vec();
    let mut frame = Vec::with_capacity(5 + reply.len());
    frame.push(0);
    frame.extend_from_slice(&u32::try_from(reply.len()).unwrap_or(0).to_be_bytes());
    frame.extend_from_slice(&reply);
    let mut trailers = hyper::HeaderMap::new();
    trailers.insert(
        "grpc-status",
        hyper::header::HeaderValue::from_static(grpc_status),
    );
    if !message.is_empty() {
        trailers.insert(
            "grpc-message",
            hyper::header::HeaderValue::from_static(message),
        );
    }
    let frames = vec![
        Ok(Frame::data(Bytes::from(frame))),
        Ok(Frame::trailers(trailers)),
    ];
    let mut response = Response::new(StreamBody::new(futures::stream::iter(frames)));
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/grpc"),
    );
    Ok(response)
}

/// An OTLP/gRPC receiver on 127.0.0.1 (h2c, as the exporter speaks to an `http://` endpoint).
async fn receiver() -> anyhow::Result<(String, Spans)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let endpoint = format!("http://{}", listener.local_addr()?);
    let spans: Spans = Arc::default();
    let kept = Arc::clone(&spans);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let spans = Arc::clone(&kept);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |r| export(r, Arc::clone(&spans)));
                let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok((endpoint, spans))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_booking_is_one_trace_across_gateway_booking_inventory_and_payment(
) -> anyhow::Result<()> {
    let (endpoint, spans) = receiver().await?;
    let stack = start_with(
        &Options {
            name: "traces",
            payment_success_rate: "1",
            payment_delay_ms: 0,
            booking_timeout_ms: 60_000,
            seat_lock_ttl_ms: 120_000,
        },
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            // Export within ~0.2 s instead of the batch processor's default 5 s.
            ("OTEL_BSP_SCHEDULE_DELAY", "200"),
            // The request and message spans are INFO: the fleet's default `warn` filters them out.
            ("RUST_LOG", "info"),
        ],
    )
    .await?;
    let (event_id, seats) = stack.new_event(20).await?;
    let user = stack.user()?;

    // The client starts the trace; everything the booking causes must land in it.
    let trace_id = uuid::Uuid::new_v4().simple().to_string();
    let traceparent = format!(
        "00-{trace_id}-{}-01",
        &uuid::Uuid::new_v4().simple().to_string()[..16]
    );
    let response = stack
        .http
        .post(stack.url("/api/bookings"))
        .bearer_auth(&user.token)
        .header("traceparent", &traceparent)
        .json(&json!({"eventId": event_id, "seatIds": &seats[..2]}))
        .send()
        .await?;
    anyhow::ensure!(
        response.status() == StatusCode::ACCEPTED,
        "POST /api/bookings: {}",
        response.status()
    );
    let booking: serde_json::Value = response.json().await?;
    let booking_id = booking["id"].as_str().unwrap_or_default().to_owned();
    let settled = stack
        .until_settled(&user, &booking_id, Instant::now() + Duration::from_secs(60))
        .await?;
    assert_eq!(settled["status"], "CONFIRMED", "{settled}");

    let wanted: BTreeSet<&str> = [
        "gateway",
        "booking-service",
        "inventory-service",
        "payment-service",
    ]
    .into();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let by_service: HashMap<String, Vec<String>> = {
            let all = spans
                .lock()
                .map_err(|_| anyhow::anyhow!("receiver poisoned"))?;
            let mut map: HashMap<String, Vec<String>> = HashMap::new();
            for span in all.iter().filter(|s| s.trace_id == trace_id) {
                map.entry(span.service.clone())
                    .or_default()
                    .push(span.name.clone());
            }
            map
        };
        let seen: BTreeSet<&str> = by_service.keys().map(String::as_str).collect();
        if wanted.is_subset(&seen) {
            eprintln!("trace {trace_id}: {by_service:#?}");
            return Ok(());
        }
        if Instant::now() >= deadline {
            let total = spans.lock().map(|s| s.len()).unwrap_or(0);
            anyhow::bail!(
                "trace {trace_id} has spans from {seen:?}, expected at least {wanted:?}; \
                 {total} spans received in all; in this trace: {by_service:?}"
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
