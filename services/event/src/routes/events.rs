//! `/api/events`.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::Value;
use ticketflow_common::context::RequestContext;
use ticketflow_common::error::ErrorEnvelope;
use ticketflow_common::openapi::{AdminOnly, Invalid, Unavailable};
use ticketflow_common::{AdminUser, ApiError, ApiJson, ApiPath, ApiQuery, ApiResult};
use tracing::Instrument;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::bodies::{EventPatchBody, NewEventBody};
use super::parse_id;
use crate::domain::{event, listing};
use crate::error::EventError;
use crate::service;
use crate::state::AppState;
use crate::store::EventDoc;
use crate::view::EventView;
use crate::{messaging, posters};

/// This module's routes: list, get, create, update, poster.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update))
        .routes(routes!(poster))
}

fn event_not_found() -> ApiError {
    EventError::EventNotFound.into()
}

/// One page of events.
#[derive(Serialize, ToSchema)]
pub struct EventPage {
    events: Vec<EventView>,
    total: u64,
    page: u32,
    limit: u32,
}

/// `GET /api/events?page&limit&search&venue_id&from&to`.
///
/// Without `from`: upcoming events soonest first, then past events most recent first. With
/// `from`: chronological within `[from, to]`. An empty parameter counts as not given.
#[utoipa::path(
    get,
    path = "/api/events",
    tag = "event",
    operation_id = "list_events",
    params(
        ("page" = Option<u32>, Query, minimum = 1, maximum = 10000, description = "Default 1"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "Default 10"),
        ("search" = Option<String>, Query, description = "Literal, case-insensitive text in the name, description or tags (at most 100 characters)"),
        ("venue_id" = Option<String>, Query, format = Uuid, description = "Only this venue's events"),
        ("from" = Option<String>, Query, format = DateTime, description = "Inclusive lower bound on `date` (RFC 3339)"),
        ("to" = Option<String>, Query, format = DateTime, description = "Inclusive upper bound on `date`; not before `from`"),
    ),
    responses(
        (status = 200, description = "One page of events", body = EventPage),
        (status = 400, description = "`VALIDATION_ERROR`: a bad parameter", body = ErrorEnvelope),
        Unavailable,
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(raw): ApiQuery<listing::RawListQuery>,
) -> ApiResult<Response> {
    let query = listing::parse(&raw)?;
    let store = state.store()?.clone();
    let now = ticketflow_common::time::now();
    let key = format!("list {query:?}");
    let catalogue = store.catalogue().clone();
    let cached = catalogue
        .get_or_fill(&key, now.timestamp_millis(), move || async move {
            let (events, total) = service::events(&store, &query, now).await?;
            // Without `from`, upcoming events come first: the answer holds until the next
            // event's date passes.
            let valid_until = match query.from {
                Some(_) => None,
                None => store
                    .next_event_date(&now)
                    .await?
                    .map(|date| date.timestamp_millis())
                    .or(Some(i64::MAX)),
            };
            let page = EventPage {
                events: events
                    .iter()
                    .map(|(event, venue)| EventView::new(event, venue.as_ref()))
                    .collect(),
                total,
                page: query.page,
                limit: query.limit,
            };
            Ok::<_, EventError>((json_body(&page)?, valid_until))
        })
        .await?;
    Ok(json_response(&cached.body))
}

/// `value` as a JSON body.
fn json_body(value: &impl Serialize) -> Result<bytes::Bytes, EventError> {
    serde_json::to_vec(value)
        .map(bytes::Bytes::from)
        .map_err(|err| EventError::Other(anyhow::anyhow!(err).context("rendering JSON")))
}

fn json_response(body: &bytes::Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body.clone()).into_response()
}

/// `GET /api/events/:id` → bare Event or `404 EVENT_NOT_FOUND` (also for a malformed id).
#[utoipa::path(
    get,
    path = "/api/events/{id}",
    tag = "event",
    operation_id = "get_event",
    params(("id" = String, Path, description = "Event id (UUID, any case)")),
    responses(
        (status = 200, description = "The event", body = EventView),
        (status = 404, description = "`EVENT_NOT_FOUND` (also for an id that is not a UUID)", body = ErrorEnvelope),
        Unavailable,
    ),
)]
pub async fn get(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    let id = parse_id(&id).ok_or_else(event_not_found)?;
    let store = state.store()?.clone();
    let key = format!("event {id}");
    let now = ticketflow_common::time::now().timestamp_millis();
    let catalogue = store.catalogue().clone();
    let cached = catalogue
        .get_or_fill(&key, now, move || async move {
            let (event, venue) = service::event(&store, &id).await?;
            Ok::<_, EventError>((json_body(&EventView::new(&event, venue.as_ref()))?, None))
        })
        .await?;
    Ok(json_response(&cached.body))
}

/// How long clients and proxies may reuse a poster before revalidating with its `ETag`.
const POSTER_CACHE_CONTROL: &str = "public, max-age=3600";

/// `GET /api/events/:id/poster` (public) → `image/svg+xml` with `Cache-Control` and `ETag`;
/// `304` when `If-None-Match` already names it; `404 EVENT_NOT_FOUND` for an unknown event.
#[utoipa::path(
    get,
    path = "/api/events/{id}/poster",
    tag = "event",
    operation_id = "event_poster",
    params(
        ("id" = String, Path, description = "Event id (UUID)"),
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` from an earlier answer"),
    ),
    responses(
        (status = 200, description = "The poster (SVG)", content_type = "image/svg+xml", body = String,
            headers(("ETag" = String), ("Cache-Control" = String, description = "`public, max-age=3600`"))),
        (status = 304, description = "Not modified: `If-None-Match` names the current `ETag`"),
        (status = 404, description = "`EVENT_NOT_FOUND`", body = ErrorEnvelope),
        Unavailable,
    ),
)]
pub async fn poster(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let id = parse_id(&id).ok_or_else(event_not_found)?;
    let (event, _) = service::event(state.store()?, &id).await?;
    let poster = posters::builtin(&id).unwrap_or_else(|| {
        let day = crate::store::chrono_time(event.date).format("%e %B %Y");
        posters::placard(&event.name, day.to_string().trim())
    });
    let cached = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == poster.etag || tag == "*");
    let common = [
        (header::CACHE_CONTROL, POSTER_CACHE_CONTROL.to_owned()),
        (header::ETAG, poster.etag),
    ];
    if cached {
        return Ok((StatusCode::NOT_MODIFIED, common).into_response());
    }
    Ok((
        common,
        [(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8")],
        poster.svg,
    )
        .into_response())
}

/// `POST /api/events` (ADMIN) → `201 Event`; publishes `ticketflow.event.created`.
#[utoipa::path(
    post,
    path = "/api/events",
    tag = "event",
    operation_id = "create_event",
    security(("bearerAuth" = [])),
    request_body = NewEventBody,
    responses(
        (status = 201, description = "Created; `ticketflow.event.created` follows", body = EventView),
        Invalid,
        AdminOnly,
        (status = 404, description = "`VENUE_NOT_FOUND`", body = ErrorEnvelope),
        Unavailable,
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<(StatusCode, Json<EventView>)> {
    let new = event::validate_new(&body)?;
    let store = state.store()?;
    let now = ticketflow_common::time::now();
    let (doc, venue) = service::create_event(store, uuid::Uuid::new_v4(), &new, &now).await?;
    tracing::info!(event_id = %doc.id, admin = %admin.id, "event created");
    spawn_publish(&state, doc.clone());
    Ok((
        StatusCode::CREATED,
        Json(EventView::new(&doc, Some(&venue))),
    ))
}

/// Publishes the new event's message without holding up the response; if this fails (or
/// the process stops first) the relay publishes it after the grace period.
fn spawn_publish(state: &AppState, doc: EventDoc) {
    let Ok(store) = state.store().cloned() else {
        return;
    };
    let producer = state.producer.clone();
    let span = tracing::info_span!("publish_event_created", event_id = %doc.id);
    let task = async move {
        if let Err(err) = messaging::publish_pending(&store, &producer, &doc).await {
            tracing::warn!(
                error = format!("{err:#}"),
                "event.created not published yet; the relay will retry"
            );
        }
    };
    let tasks = &state.tasks;
    match RequestContext::current() {
        Some(ctx) => tasks.spawn(ctx.scope(task).instrument(span)),
        None => tasks.spawn(task.instrument(span)),
    };
}

/// `PUT /api/events/:id` (ADMIN) → `200 Event`, partial update.
#[utoipa::path(
    put,
    path = "/api/events/{id}",
    tag = "event",
    operation_id = "update_event",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "Event id (UUID)")),
    request_body = EventPatchBody,
    responses(
        (status = 200, description = "The event after the update", body = EventView),
        Invalid,
        AdminOnly,
        (status = 404, description = "`EVENT_NOT_FOUND` or `VENUE_NOT_FOUND`", body = ErrorEnvelope),
        (status = 422, description = "`SEATS_ALREADY_ALLOCATED`: `total_seats` cannot change", body = ErrorEnvelope),
        Unavailable,
    ),
)]
pub async fn update(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<EventView>> {
    let patch = event::validate_patch(&body)?;
    let id = parse_id(&id).ok_or_else(event_not_found)?;
    let store = state.store()?;
    let now = ticketflow_common::time::now();
    let (doc, venue) = service::update_event(store, &id, &patch, &now).await?;
    tracing::info!(event_id = %doc.id, admin = %admin.id, "event updated");
    Ok(Json(EventView::new(&doc, venue.as_ref())))
}
