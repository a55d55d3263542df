//! `/api/payments`.

use axum::extract::State;
use axum::Json;
use ticketflow_common::error::ErrorEnvelope;
use ticketflow_common::openapi::Unavailable;
use ticketflow_common::{ApiPath, ApiResult, AuthUser};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::payments;
use crate::state::AppState;
use crate::view::PaymentView;

/// This module's routes: a payment by id, a booking's payment.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get))
        .routes(routes!(of_booking))
}

/// `GET /api/payments/:id` (its owner or ADMIN) → `200 Payment`.
#[utoipa::path(
    get,
    path = "/api/payments/{id}",
    tag = "payment",
    operation_id = "get_payment",
    security(("bearerAuth" = [])),
    params(("id" = String, Path, description = "Payment id (UUID)")),
    responses(
        (status = 200, description = "The payment", body = PaymentView),
        (status = 401, description = "`UNAUTHORIZED`: no verified identity", body = ErrorEnvelope),
        (status = 404, description = "`PAYMENT_NOT_FOUND`: unknown, another user's, or not a UUID", body = ErrorEnvelope),
        Unavailable,
    ),
)]
pub async fn get(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<PaymentView>> {
    let payment = payments::get(state.store()?, &user, &id).await?;
    Ok(Json(PaymentView::from(&payment)))
}

/// `GET /api/payments/booking/:bookingId` (its owner or ADMIN) → `200 Payment`.
#[utoipa::path(
    get,
    path = "/api/payments/booking/{bookingId}",
    tag = "payment",
    operation_id = "get_booking_payment",
    security(("bearerAuth" = [])),
    params(("bookingId" = String, Path, description = "Booking id (UUID)")),
    responses(
        (status = 200, description = "The booking's payment", body = PaymentView),
        (status = 401, description = "`UNAUTHORIZED`: no verified identity", body = ErrorEnvelope),
        (status = 404, description = "`PAYMENT_NOT_FOUND`: none, another user's, or not a UUID", body = ErrorEnvelope),
        Unavailable,
    ),
)]
pub async fn of_booking(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(booking_id): ApiPath<String>,
) -> ApiResult<Json<PaymentView>> {
    let payment = payments::of_booking(state.store()?, &user, &booking_id).await?;
    Ok(Json(PaymentView::from(&payment)))
}
