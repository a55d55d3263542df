//! `/api/venues`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use serde_json::Value;
use ticketflow_common::error::ErrorEnvelope;
use ticketflow_common::openapi::{AdminOnly, Invalid, Unavailable};
use ticketflow_common::{AdminUser, ApiJson, ApiPath, ApiResult};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::bodies::NewVenueBody;
use super::parse_id;
use crate::domain::venue;
use crate::error::EventError;
use crate::service;
use crate::state::AppState;
use crate::view::VenueView;

/// This module's routes: list, get, create.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get))
}

#[derive(Serialize, ToSchema)]
pub struct VenueList {
    venues: Vec<VenueView>,
}

/// `GET /api/venues` → `{"venues": [Venue]}` sorted by name.
#[utoipa::path(
    get,
    path = "/api/venues",
    tag = "event",
    operation_id = "list_venues",
    responses(
        (status = 200, description = "Every venue, sorted by name (then id)", body = VenueList),
        Unavailable,
    ),
)]
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<VenueList>> {
    let venues = service::venues(state.store()?).await?;
    Ok(Json(VenueList {
        venues: venues.iter().map(VenueView::from).collect(),
    }))
}

/// `GET /api/venues/:id` → Venue or `404 VENUE_NOT_FOUND` (also for a malformed id).
#[utoipa::path(
    get,
    path = "/api/venues/{id}",
    tag = "event",
    operation_id = "get_venue",
    params(("id" = String, Path, description = "Venue id (UUID, any case)")),
    responses(
        (status = 200, description = "The venue", body = VenueView),
        (status = 404, description = "`VENUE_NOT_FOUND` (also for an id that is not a UUID)", body = ErrorEnvelope),
        Unavailable,
    ),
)]
pub async fn get(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<VenueView>> {
    let id = parse_id(&id).ok_or(EventError::VenueNotFound)?;
    let venue = service::venue(state.store()?, &id).await?;
    Ok(Json(VenueView::from(&venue)))
}

/// `POST /api/venues` (ADMIN) → `201 Venue`.
#[utoipa::path(
    post,
    path = "/api/venues",
    tag = "event",
    operation_id = "create_venue",
    security(("bearerAuth" = [])),
    request_body = NewVenueBody,
    responses(
        (status = 201, description = "Created", body = VenueView),
        Invalid,
        AdminOnly,
        Unavailable,
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<(StatusCode, Json<VenueView>)> {
    let new = venue::validate_new(&body)?;
    let store = state.store()?;
    let now = ticketflow_common::time::now();
    let doc = service::create_venue(store, uuid::Uuid::new_v4(), &new, &now).await?;
    tracing::info!(venue_id = %doc.id, admin = %admin.id, "venue created");
    Ok((StatusCode::CREATED, Json(VenueView::from(&doc))))
}
