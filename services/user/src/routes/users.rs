//! `POST /api/users/register`, `POST /api/users/login`, `GET /api/users/me`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use ticketflow_common::error::ErrorEnvelope;
use ticketflow_common::{jwt, ApiError, ApiJson, ApiResult, AuthUser, Role};
use utoipa::ToSchema;

use crate::accounts::{self, CreateError};
use crate::app::AppState;
use crate::domain::user::{User, UserView};
use crate::domain::validation::{self, EMAIL_MAX_BYTES, PASSWORD_MAX_BYTES};
use crate::store::users;

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

fn email_taken() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "EMAIL_ALREADY_EXISTS",
        "An account with this email already exists",
    )
}

fn invalid_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "INVALID_CREDENTIALS",
        "Invalid email or password",
    )
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
        (status = 400, description = "`VALIDATION_ERROR`: `details` lists every invalid field", body = ErrorEnvelope),
        (status = 409, description = "`EMAIL_ALREADY_EXISTS`", body = ErrorEnvelope),
        (status = 503, description = "`SERVICE_UNAVAILABLE`: the database is not ready", body = ErrorEnvelope),
    ),
)]
pub async fn register(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<(StatusCode, Json<AuthResponse>)> {
    let registration = validation::registration(&body).map_err(ApiError::validation)?;
    let pool = state.db()?;
    // Cheap early answer; the unique index below is what actually guarantees uniqueness.
    if users::email_exists(pool, &registration.email).await? {
        return Err(email_taken());
    }
    let hash = state.passwords.hash(&registration.password).await?;
    let user = User::new(registration.name, registration.email, hash, Role::User);
    match accounts::create(pool, &user).await {
        Ok(()) => {}
        Err(CreateError::EmailTaken) => return Err(email_taken()),
        Err(CreateError::Db(err)) => return Err(err.into()),
        Err(CreateError::Other(err)) => return Err(err.into()),
    }
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
        (status = 400, description = "`VALIDATION_ERROR`", body = ErrorEnvelope),
        (status = 401, description = "`INVALID_CREDENTIALS`: unknown e-mail or wrong password", body = ErrorEnvelope),
        (status = 503, description = "`SERVICE_UNAVAILABLE`", body = ErrorEnvelope),
    ),
)]
pub async fn login(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<AuthResponse>> {
    let credentials = validation::credentials(&body).map_err(ApiError::validation)?;
    // No account can match these (registration never accepts them): skip the work.
    if credentials.email.len() > EMAIL_MAX_BYTES
        || credentials.password.expose().len() > PASSWORD_MAX_BYTES
    {
        return Err(invalid_credentials());
    }
    let pool = state.db()?;
    let user = users::find_by_email(pool, &credentials.email).await?;
    let matches = match &user {
        Some(user) => {
            state
                .passwords
                .verify(&credentials.password, &user.password_hash)
                .await?
        }
        None => state.passwords.verify_dummy(&credentials.password).await?,
    };
    match user {
        Some(user) if matches => {
            tracing::info!(user_id = %user.id, "user signed in");
            Ok(Json(signed_in(&state, &user)?))
        }
        _ => {
            tracing::info!("sign-in refused");
            Err(invalid_credentials())
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
        (status = 503, description = "`SERVICE_UNAVAILABLE`", body = ErrorEnvelope),
    ),
)]
pub async fn me(State(state): State<AppState>, caller: AuthUser) -> ApiResult<Json<MeResponse>> {
    let pool = state.db()?;
    match users::find_by_id(pool, caller.id).await? {
        Some(user) => Ok(Json(MeResponse { user: user.view() })),
        None => Err(ApiError::unauthorized("This account no longer exists")),
    }
}
