//! `/api/venues`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use serde_json::Value;
use ticketflow_common::{AdminUser, ApiError, ApiJson, ApiPath, ApiResult};

use super::{parse_id, store_error};
use crate::app::AppState;
use crate::domain::venue;
use crate::service;
use crate::view::VenueView;

pub fn venue_not_found() -> ApiError {
    ApiError::not_found("VENUE_NOT_FOUND", "Venue not found")
}

#[derive(Serialize)]
pub struct VenueList {
    venues: Vec<VenueView>,
}

/// `GET /api/venues` → `{"venues": [Venue]}` sorted by name.
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<VenueList>> {
    let venues = state.store()?.venues().await.map_err(store_error)?;
    Ok(Json(VenueList {
        venues: venues.iter().map(VenueView::from).collect(),
    }))
}

/// `GET /api/venues/:id` → Venue or `404 VENUE_NOT_FOUND` (also for a malformed id).
pub async fn get(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<VenueView>> {
    let id = parse_id(&id).ok_or_else(venue_not_found)?;
    let venue = state
        .store()?
        .venue(&id)
        .await
        .map_err(store_error)?
        .ok_or_else(venue_not_found)?;
    Ok(Json(VenueView::from(&venue)))
}

/// `POST /api/venues` (ADMIN) → `201 Venue`.
pub async fn create(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<(StatusCode, Json<VenueView>)> {
    let new = venue::validate_new(&body)?;
    let store = state.store()?;
    let now = ticketflow_common::time::now();
    let doc = service::create_venue(store, uuid::Uuid::new_v4(), &new, &now)
        .await
        .map_err(store_error)?;
    tracing::info!(venue_id = %doc.id, admin = %admin.id, "venue created");
    Ok((StatusCode::CREATED, Json(VenueView::from(&doc))))
}
