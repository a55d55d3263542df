//! `GET /health/all`: every upstream's `GET /health`, probed concurrently. (`GET /health` of
//! the gateway itself, and `/health/ready` on its internal port, come from
//! `ticketflow_common::health::Health`:
//! `{"status":"up","service":"gateway","version","uptime","timestamp"}`, no internal URLs.)

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::http::{Method, Request, Version};
use axum::Json;
use http_body_util::{BodyExt, Limited};
use serde::Serialize;
use ticketflow_common::context::{RequestContext, REQUEST_ID, TRACEPARENT};

use crate::app::AppState;
use crate::config::Service;

/// Each probe gives up after this long.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// A `/health` body larger than this is not read to the end.
const MAX_PROBE_BODY: usize = 64 * 1024;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceHealth {
    pub name: &'static str,
    pub status: &'static str,
    pub latency_ms: u64,
}

#[derive(Debug, Serialize)]
pub struct AllHealth {
    pub status: &'static str,
    pub gateway: &'static str,
    pub services: Vec<ServiceHealth>,
}

/// `200 {"status":"up"|"degraded","gateway":"up","services":[…]}`, services in contract order,
/// probed concurrently, each within [`PROBE_TIMEOUT`]. A service is up when its `GET /health`
/// answers 2xx in time.
pub async fn all(State(state): State<AppState>) -> Json<AllHealth> {
    let services =
        futures::future::join_all(Service::ALL.map(|service| probe(&state, service))).await;
    let status = if services.iter().all(|s| s.status == "up") {
        "up"
    } else {
        "degraded"
    };
    Json(AllHealth {
        status,
        gateway: "up",
        services,
    })
}

async fn probe(state: &AppState, service: Service) -> ServiceHealth {
    let started = Instant::now();
    let up = tokio::time::timeout(PROBE_TIMEOUT, check(state, service))
        .await
        .unwrap_or(false);
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    metrics::gauge!("gateway_upstream_up", "service" => service.name()).set(if up {
        1.0
    } else {
        0.0
    });
    ServiceHealth {
        name: service.name(),
        status: if up { "up" } else { "down" },
        latency_ms,
    }
}

async fn check(state: &AppState, service: Service) -> bool {
    let upstream = state.upstreams.get(service);
    let Ok(uri) = upstream.uri("/health") else {
        return false;
    };
    let mut request = Request::builder()
        .method(Method::GET)
        .uri(uri)
        .version(Version::HTTP_11)
        .header(axum::http::header::HOST, upstream.authority().as_str());
    if let Some(ctx) = RequestContext::current() {
        request = request
            .header(REQUEST_ID, ctx.request_id)
            .header(TRACEPARENT, ctx.traceparent);
    }
    let Ok(request) = request.body(Body::empty()) else {
        return false;
    };
    match state.client.request(request).await {
        Ok(response) => {
            let ok = response.status().is_success();
            // Read the (small) body so the connection can go back to the pool.
            let _ = Limited::new(response.into_body(), MAX_PROBE_BODY)
                .collect()
                .await;
            ok
        }
        Err(err) => {
            tracing::debug!(service = service.name(), error = %err, "health probe failed");
            false
        }
    }
}
