//! `POST /api/users/register`, `POST /api/users/login`, `GET /api/users/me`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use ticketflow_common::error::ErrorEnvelope;
use ticketflow_common::openapi::{Invalid, Unavailable};
use ticketflow_common::{jwt, ApiJson, ApiResult, AuthUser};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::accounts;
use crate::domain::user::{User, UserView};
use crate::domain::validation;
use crate::state::AppState;

/// `{"token","expiresAt","user"}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthResponse {
    /// HS256 JWT; send it as `Authorization: Bearer <token>`.
    pub token: String,
    /// RFC 3339 UTC with milliseconds.
    #[serde(with = "ticketflow_common::time::millis")]
    pub expires_at: DateTime<Utc>,
    pub user: UserView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    pub user: UserView,
}

/// What `POST /api/users/register` accepts (documentation only: the handler reads the body as
/// JSON and reports every invalid field at once). Other fields, `role` included, are ignored.
#[derive(ToSchema)]
pub struct RegisterBody {
    /// 2–100 characters after trimming, no control characters.
    #[schema(min_length = 2, max_length = 100)]
    pub name: String,
    /// ASCII `local@domain`, at most 254 bytes; stored trimmed and lowercased.
    #[schema(max_length = 254)]
    pub email: String,
    /// 8–72 bytes, never trimmed.
    #[schema(min_length = 8, max_length = 72)]
    pub password: String,
}

/// What `POST /api/users/login` accepts (documentation only).
#[derive(ToSchema)]
pub struct LoginBody {
    pub email: String,
    pub password: String,
}

/// This module's routes: register, login, me.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(me))
}

fn signed_in(state: &AppState, user: &User) -> ApiResult<AuthResponse> {
    let (token, expires_at) = jwt::issue(
        &state.jwt_secret,
        user.id,
        &user.email,
        user.role,
        state.jwt_expiration_ms,
    )?;
    Ok(AuthResponse {
        token,
        expires_at,
        user: user.view(),
    })
}

/// Creates a `USER` account (any `role` in the body is ignored) and signs it in.
#[utoipa::path(
    post,
    path = "/api/users/register",
    tag = "user",
    operation_id = "register",
    request_body = RegisterBody,
    responses(
        (status = 201, description = "Account created and signed in", body = AuthResponse),
        Invalid,
        (status = 409, description = "`EMAIL_ALREADY_EXISTS`", body = ErrorEnvelope),
        Unavailable,
    ),
)]
pub async fn register(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<(StatusCode, Json<AuthResponse>)> {
    let registration = validation::registration(&body)?;
    let user = accounts::register(state.db()?, &state.passwords, registration).await?;
    tracing::info!(user_id = %user.id, "user registered");
    Ok((StatusCode::CREATED, Json(signed_in(&state, &user)?)))
}

/// Unknown e-mail and wrong password answer alike, after the same amount of hashing work.
#[utoipa::path(
    post,
    path = "/api/users/login",
    tag = "user",
    operation_id = "login",
    request_body = LoginBody,
    responses(
        (status = 200, description = "Signed in", body = AuthResponse),
        Invalid,
        (status = 401, description = "`INVALID_CREDENTIALS`: unknown e-mail or wrong password", body = ErrorEnvelope),
        Unavailable,
    ),
)]
pub async fn login(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<AuthResponse>> {
    let credentials = validation::credentials(&body)?;
    match accounts::sign_in(state.db()?, &state.passwords, &credentials).await {
        Ok(user) => {
            tracing::info!(user_id = %user.id, "user signed in");
            Ok(Json(signed_in(&state, &user)?))
        }
        Err(err) => {
            tracing::info!(reason = %err, "sign-in refused");
            Err(err.into())
        }
    }
}

/// The caller's account; `401` when the id in the headers names no account (any more).
#[utoipa::path(
    get,
    path = "/api/users/me",
    tag = "user",
    operation_id = "me",
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The caller's account", body = MeResponse),
        (status = 401, description = "`UNAUTHORIZED`: no identity, or it names no account", body = ErrorEnvelope),
        Unavailable,
    ),
)]
pub async fn me(State(state): State<AppState>, caller: AuthUser) -> ApiResult<Json<MeResponse>> {
    let user = accounts::find(state.db()?, caller.id).await?;
    Ok(Json(MeResponse { user: user.view() }))
}
