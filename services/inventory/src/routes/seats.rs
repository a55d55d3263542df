//! `/api/inventory/events/:eventId/seats` and its live stream.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::Stream;
use serde::Serialize;
use ticketflow_common::client_ip::{canonical, first_forwarded_for};
use ticketflow_common::error::ErrorEnvelope;
use ticketflow_common::openapi::{Invalid, Unavailable};
use ticketflow_common::{ApiError, ApiPath, ApiResult};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::broadcast::Receiver;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::domain::seat::{SeatStatus, Section};
use crate::inventory;
use crate::live::Update;
use crate::state::{AppState, StreamSlot};
use crate::store::seats::SeatMap;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(seats))
        .routes(routes!(stream))
}

/// One seat. Who holds it is never shown.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SeatView {
    id: Uuid,
    event_id: Uuid,
    row: String,
    /// A string, e.g. `"7"`.
    seat_number: String,
    section: Section,
    status: SeatStatus,
}

#[derive(Serialize, ToSchema)]
pub struct Summary {
    available: usize,
    locked: usize,
    reserved: usize,
}

/// An event's seat map: seats by section (VIP, FLOOR, BALCONY, GENERAL), row, number.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SeatMapView {
    event_id: Uuid,
    seats: Vec<SeatView>,
    total: usize,
    summary: Summary,
}

impl SeatMapView {
    fn new(event_id: Uuid, map: Option<&SeatMap>) -> Self {
        let seats: Vec<SeatView> = map
            .map(|map| {
                map.seats
                    .iter()
                    .map(|seat| SeatView {
                        id: seat.id,
                        event_id,
                        row: seat.row.clone(),
                        seat_number: seat.number.to_string(),
                        section: seat.section,
                        status: seat.status,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let count = |status| seats.iter().filter(|s| s.status == status).count();
        let summary = Summary {
            available: count(SeatStatus::Available),
            locked: count(SeatStatus::Locked),
            reserved: count(SeatStatus::Reserved),
        };
        Self {
            event_id,
            total: seats.len(),
            seats,
            summary,
        }
    }
}

fn parse_event_id(raw: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(raw).map_err(|_| ApiError::field("eventId", "must be a UUID"))
}

/// `GET /api/inventory/events/:eventId/seats`: the seat map; an unknown event has no seats.
#[utoipa::path(
    get,
    path = "/api/inventory/events/{eventId}/seats",
    tag = "inventory",
    operation_id = "get_seats",
    params(("eventId" = String, Path, description = "Event id (UUID)")),
    responses(
        (status = 200, description = "The seat map (no seats for an unknown event)", body = SeatMapView),
        Invalid,
        Unavailable,
    ),
)]
pub async fn seats(
    State(state): State<AppState>,
    ApiPath(event_id): ApiPath<String>,
) -> ApiResult<Response> {
    let event_id = parse_event_id(&event_id)?;
    let body = inventory::seat_map_body(&state, event_id, |map| {
        serde_json::to_vec(&SeatMapView::new(event_id, map)).map(Bytes::from)
    })
    .await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// `GET /api/inventory/events/:eventId/seats/stream`: Server-Sent Events. First `snapshot`
/// (the body of `GET …/seats`), then `seat` (`{"seatId","status","version"}`) for every seat
/// that changes, within a second; a `:heartbeat` comment when idle. Each event's `id` is the
/// seat map version it reflects.
#[utoipa::path(
    get,
    path = "/api/inventory/events/{eventId}/seats/stream",
    tag = "inventory",
    operation_id = "stream_seats",
    params(("eventId" = String, Path, description = "Event id (UUID)")),
    responses(
        (status = 200, description = "`text/event-stream`: `snapshot`, then `seat` events", content_type = "text/event-stream", body = String),
        Invalid,
        (status = 429, description = "`RATE_LIMITED`: this client has too many streams open", body = ErrorEnvelope),
        Unavailable,
    ),
)]
pub async fn stream(
    State(state): State<AppState>,
    ApiPath(event_id): ApiPath<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let event_id = parse_event_id(&event_id)?;
    // Behind the gateway the first X-Forwarded-For entry is the client it saw.
    let client = first_forwarded_for(&headers).unwrap_or_else(|| canonical(peer.ip()));
    let slot = state
        .streams
        .take(client)
        .ok_or_else(|| ApiError::rate_limited(5))?;
    // Subscribed before the snapshot is read, so no change falls between the two.
    let updates = state.live.subscribe(event_id);
    let (snapshot, version) = snapshot(&state, event_id).await?;
    let feed = Feed {
        state: state.clone(),
        event_id,
        updates,
        version,
        pending: VecDeque::from([snapshot]),
        _slot: slot,
    };
    let sse = Sse::new(feed.into_stream()).keep_alive(
        KeepAlive::new()
            .interval(state.stream_heartbeat)
            .text("heartbeat"),
    );
    Ok((
        [
            (header::CACHE_CONTROL, "no-cache"),
            (header::HeaderName::from_static("x-accel-buffering"), "no"),
        ],
        sse,
    )
        .into_response())
}

/// The `snapshot` event, and its version; changes are followed from this map on.
async fn snapshot(state: &AppState, event_id: Uuid) -> ApiResult<(Event, i64)> {
    let map = inventory::seat_map(state, event_id).await?;
    if let Some(map) = &map {
        state.live.seen(event_id, map);
    }
    let version = map.as_ref().map_or(0, |map| map.version);
    let event = Event::default()
        .event("snapshot")
        .id(version.to_string())
        .json_data(SeatMapView::new(event_id, map.as_ref()))
        .map_err(|e| ApiError::Internal(e.into()))?;
    Ok((event, version))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SeatChanged {
    seat_id: Uuid,
    status: SeatStatus,
    version: i64,
}

/// One client's stream: what is ready to send, and where to get more.
struct Feed {
    state: AppState,
    event_id: Uuid,
    updates: Receiver<Update>,
    /// The version of the last snapshot sent: changes up to it are already in it.
    version: i64,
    pending: VecDeque<Event>,
    /// Frees the client's stream slot when the stream is dropped.
    _slot: StreamSlot,
}

impl Feed {
    fn into_stream(self) -> impl Stream<Item = Result<Event, Infallible>> {
        futures::stream::unfold(self, |mut feed| async move {
            let event = feed.next().await?;
            Some((Ok(event), feed))
        })
    }

    /// The next event to send; `None` ends the stream (shutdown, or the snapshot could not be
    /// read again: the client reconnects).
    async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(event);
            }
            let update = tokio::select! {
                _ = self.state.shutdown.cancelled() => return None,
                update = self.updates.recv() => update,
            };
            match update {
                Ok(Update::Changed(changes)) if changes.version > self.version => {
                    for (seat_id, status) in &changes.seats {
                        let data = SeatChanged {
                            seat_id: *seat_id,
                            status: *status,
                            version: changes.version,
                        };
                        let event = Event::default()
                            .event("seat")
                            .id(changes.version.to_string())
                            .json_data(data)
                            .ok()?;
                        self.pending.push_back(event);
                    }
                }
                Ok(Update::Changed(_)) => {}
                // Missed changes: start over from a fresh snapshot.
                Ok(Update::Resync) | Err(RecvError::Lagged(_)) => {
                    let (event, version) = snapshot(&self.state, self.event_id).await.ok()?;
                    self.version = version;
                    self.pending.push_back(event);
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }
}
