//! What every TicketFlow service shares. Nothing service-specific lives here.

pub mod auth;
pub mod client_ip;
pub mod config;
pub mod context;
pub mod error;
pub mod extract;
pub mod health;
pub mod healthcheck;
pub mod jwt;
#[cfg(feature = "kafka")]
pub mod kafka;
pub mod money;
#[cfg(feature = "mongo")]
pub mod mongo;
pub mod openapi;
#[cfg(feature = "outbox")]
pub mod outbox;
#[cfg(feature = "postgres")]
pub mod pg;
pub mod retry;
pub mod server;
pub mod telemetry;
pub mod time;
pub mod validate;

pub use auth::{AdminUser, AuthUser, OptionalUser, Role};
pub use error::{ApiError, ApiResult, FieldError};
pub use extract::{ApiJson, ApiPath, ApiQuery};
pub use validate::Fields;
