//! TicketFlow API gateway (CONTRACT §3): verifies the JWT, injects identity, rate limits,
//! answers CORS, and streams `/api/<prefix>…` to the owning service.
//!
//! Tests start it in-process: `run(Config::for_test(secret, upstreams), listener, token)`.

pub mod app;
pub mod auth;
pub mod config;
pub mod domain;
pub mod middleware;
pub mod routes;

pub use app::{router, run, AppState};

/// The name the gateway reports in health, logs and traces.
pub const SERVICE: &str = "gateway";
pub use config::{Config, InvalidUpstream, Service, Upstream, Upstreams};
