//! `GET /health/all`: every upstream's `GET /health`, probed concurrently. (`GET /health` of
//! the gateway itself, and `/health/ready` on its internal port, come from
//! `ticketflow_common::health::Health`:
//! `{"status":"up","service":"gateway","version","uptime","timestamp"}`, no internal URLs.)

use std::time::{Duration, Instant};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use axum::body::Body;
use axum::extract::State;
use axum::http::{Method, Request, Response, Version};
use axum::Json;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use serde::Serialize;
use ticketflow_common::context::{RequestContext, REQUEST_ID, TRACEPARENT};
use utoipa::ToSchema;

use crate::config::Service;
use crate::state::AppState;

/// Each probe gives up after this long.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// A `/health` body larger than this is not read to the end.
const MAX_PROBE_BODY: usize = 64 * 1024;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceHealth {
    /// `user`, `event`, `booking`, `inventory`, `payment` or `notification`.
    pub name: &'static str,
    /// `up` or `down`.
    pub status: &'static str,
    pub latency_ms: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AllHealth {
    /// `up` when every service is up, else `degraded`.
    pub status: &'static str,
    /// Always `up`.
    pub gateway: &'static str,
    /// In contract order.
    pub services: Vec<ServiceHealth>,
}

/// This module's routes: `GET /health/all`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(all))
}

/// `200 {"status":"up"|"degraded","gateway":"up","services":[…]}`, services in contract order,
/// probed concurrently, each within [`PROBE_TIMEOUT`]. A service is up when its `GET /health`
/// answers 2xx in time.
#[utoipa::path(
    get,
    path = "/health/all",
    tag = "gateway",
    operation_id = "health_all",
    responses((status = 200, description = "Every upstream's `GET /health`, probed concurrently (2 s each)", body = AllHealth)),
)]
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

/// `GET path` on `service` through the shared client, carrying the request id and traceparent.
/// No time limit of its own: callers bound it (e.g. with [`PROBE_TIMEOUT`]).
pub(crate) async fn upstream_get(
    state: &AppState,
    service: Service,
    path: &str,
) -> anyhow::Result<Response<Incoming>> {
    let upstream = state.upstreams.get(service);
    let mut request = Request::builder()
        .method(Method::GET)
        .uri(upstream.uri(path)?)
        .version(Version::HTTP_11)
        .header(axum::http::header::HOST, upstream.authority().as_str());
    if let Some(ctx) = RequestContext::current() {
        request = request
            .header(REQUEST_ID, ctx.request_id)
            .header(TRACEPARENT, ctx.traceparent);
    }
    Ok(state.client.request(request.body(Body::empty())?).await?)
}

async fn check(state: &AppState, service: Service) -> bool {
    match upstream_get(state, service, "/health").await {
        Ok(response) => {
            let ok = response.status().is_success();
            // Read the (small) body so the connection can go back to the pool.
            let _ = Limited::new(response.into_body(), MAX_PROBE_BODY)
                .collect()
                .await;
            ok
        }
        Err(err) => {
            tracing::debug!(
                service = service.name(),
                error = format!("{err:#}"),
                "health probe failed"
            );
            false
        }
    }
}
