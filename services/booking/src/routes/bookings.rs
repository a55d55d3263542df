//! `/api/bookings`.

use std::collections::HashSet;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;
use serde_json::Value;
use ticketflow_common::error::ErrorEnvelope;
use ticketflow_common::openapi::{Invalid, Unavailable};
use ticketflow_common::validate::{self, Fields};
use ticketflow_common::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult, AuthUser};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::domain::saga::Status;
use crate::error::BookingError;
use crate::service::{self, NewBooking};
use crate::state::AppState;
use crate::view::{BookingView, CreatedView};

/// The header that makes a retried create return the same booking.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(mine))
        .routes(routes!(get))
        .routes(routes!(cancel))
}

/// `POST /api/bookings`. `eventName` and `totalAmount`, which old clients send, are ignored:
/// they come from event-service.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct NewBookingBody {
    event_id: Uuid,
    /// 1 to `MAX_SEATS_PER_BOOKING` (10) distinct seat ids of that event.
    seat_ids: Vec<Uuid>,
}

/// `POST /api/bookings` → `202`: the booking (`PENDING`), readable at once; the saga goes on.
#[utoipa::path(
    post,
    path = "/api/bookings",
    tag = "booking",
    operation_id = "create_booking",
    security(("bearerAuth" = [])),
    request_body = NewBookingBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retrying with the same key returns the same booking (a different request under it: 422)")),
    responses(
        (status = 202, description = "Accepted: the booking, `PENDING`", body = CreatedView),
        Invalid,
        (status = 400, description = "`INVALID_SEAT_COUNT`: 1–10 distinct seats", body = ErrorEnvelope),
        (status = 401, description = "`UNAUTHORIZED`", body = ErrorEnvelope),
        (status = 404, description = "`EVENT_NOT_FOUND`", body = ErrorEnvelope),
        (status = 422, description = "`EVENT_ALREADY_STARTED`, `IDEMPOTENCY_KEY_REUSED`", body = ErrorEnvelope),
        Unavailable,
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    caller: AuthUser,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<(StatusCode, Json<CreatedView>)> {
    let idempotency_key = idempotency_key(&headers)?;
    let mut fields = Fields::of(&body)?;
    let event_id = fields.required("eventId", validate::uuid);
    let seat_ids = fields.required("seatIds", seat_list);
    let (event_id, seat_ids) = fields.finish_with(|| Some((event_id?, seat_ids?)))?;
    let distinct: HashSet<&Uuid> = seat_ids.iter().collect();
    if seat_ids.is_empty() || seat_ids.len() > state.max_seats || distinct.len() != seat_ids.len() {
        return Err(BookingError::InvalidSeatCount(format!(
            "Choose between 1 and {} different seats",
            state.max_seats
        ))
        .into());
    }
    let booking = service::create(
        &state,
        &caller,
        NewBooking {
            event_id,
            seat_ids,
            idempotency_key,
        },
    )
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(CreatedView {
            booking_id: booking.id,
            booking: BookingView::from(&booking),
            message: "Booking received: seats are being held and payment requested".into(),
        }),
    ))
}

fn seat_list(value: &Value) -> Result<Vec<Uuid>, String> {
    value
        .as_array()
        .ok_or_else(|| "must be an array of seat ids".to_owned())?
        .iter()
        .map(|id| validate::uuid(id).map_err(|_| "must contain only seat ids (UUIDs)".to_owned()))
        .collect()
}

fn idempotency_key(headers: &HeaderMap) -> ApiResult<Option<String>> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    match value.to_str().map(str::trim) {
        Ok(key) if (1..=255).contains(&key.len()) => Ok(Some(key.to_owned())),
        _ => Err(ApiError::field(
            "Idempotency-Key",
            "must be 1 to 255 visible ASCII characters",
        )),
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MineQuery {
    /// Only bookings in this status.
    status: Option<String>,
}

/// `GET /api/bookings/my` → a bare array of the caller's bookings, newest first (at most 100).
#[utoipa::path(
    get,
    path = "/api/bookings/my",
    tag = "booking",
    operation_id = "my_bookings",
    security(("bearerAuth" = [])),
    params(MineQuery),
    responses(
        (status = 200, description = "The caller's bookings, newest first", body = [BookingView]),
        Invalid,
        (status = 401, description = "`UNAUTHORIZED`", body = ErrorEnvelope),
        Unavailable,
    ),
)]
pub async fn mine(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiQuery(query): ApiQuery<MineQuery>,
) -> ApiResult<Json<Vec<BookingView>>> {
    let status = match query.status.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(Status::parse(&text.to_ascii_uppercase()).ok_or_else(|| {
            ApiError::field("status", "must be PENDING, CONFIRMED, FAILED or CANCELLED")
        })?),
    };
    let bookings = service::mine(&state, &caller, status).await?;
    Ok(Json(bookings.iter().map(BookingView::from).collect()))
}

/// `GET /api/bookings/:id` → the booking (owner or ADMIN); anyone else's is `404`.
#[utoipa::path(
    get,
    path = "/api/bookings/{id}",
    tag = "booking",
    operation_id = "get_booking",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "Booking id (UUID)")),
    responses(
        (status = 200, description = "The booking", body = BookingView),
        (status = 401, description = "`UNAUTHORIZED`", body = ErrorEnvelope),
        (status = 404, description = "`BOOKING_NOT_FOUND` (also someone else's, or not a UUID)", body = ErrorEnvelope),
        Unavailable,
    ),
)]
pub async fn get(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<BookingView>> {
    let id = Uuid::parse_str(&id).map_err(|_| BookingError::NotFound)?;
    let booking = service::get(&state, &caller, id).await?;
    Ok(Json(BookingView::from(&booking)))
}

/// `POST /api/bookings/:id/cancel` (owner) → the booking, `CANCELLED`; seats released and any
/// charge refunded.
#[utoipa::path(
    post,
    path = "/api/bookings/{id}/cancel",
    tag = "booking",
    operation_id = "cancel_booking",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "Booking id (UUID)")),
    responses(
        (status = 200, description = "The booking, cancelled", body = BookingView),
        (status = 401, description = "`UNAUTHORIZED`", body = ErrorEnvelope),
        (status = 404, description = "`BOOKING_NOT_FOUND`", body = ErrorEnvelope),
        (status = 422, description = "`BOOKING_NOT_CANCELLABLE`, `CANCELLATION_WINDOW_EXPIRED`", body = ErrorEnvelope),
        Unavailable,
    ),
)]
pub async fn cancel(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<BookingView>> {
    let id = Uuid::parse_str(&id).map_err(|_| BookingError::NotFound)?;
    let booking = service::cancel(&state, &caller, id).await?;
    Ok(Json(BookingView::from(&booking)))
}
