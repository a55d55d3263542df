//! `/api/notifications`.

use axum::extract::State;
use axum::Json;
use ticketflow_common::error::ErrorEnvelope;
use ticketflow_common::openapi::Unavailable;
use ticketflow_common::{ApiResult, AuthUser};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::notifications;
use crate::state::AppState;
use crate::view::NotificationView;

/// This module's routes: the caller's recent notifications.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(recent))
}

/// `GET /api/notifications/recent` (a user) → `200 [Notification]`, the caller's 20 newest.
#[utoipa::path(
    get,
    path = "/api/notifications/recent",
    tag = "notification",
    operation_id = "recent_notifications",
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The caller's 20 newest notifications, newest first", body = [NotificationView]),
        (status = 401, description = "`UNAUTHORIZED`: no verified identity", body = ErrorEnvelope),
        Unavailable,
    ),
)]
pub async fn recent(
    State(state): State<AppState>,
    user: AuthUser,
) -> ApiResult<Json<Vec<NotificationView>>> {
    let found = notifications::recent(state.store()?, &user).await?;
    Ok(Json(found.iter().map(NotificationView::from).collect()))
}
