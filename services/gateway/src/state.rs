//! The gateway's state: one `Arc<Inner>` shared by every request.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use ticketflow_common::auth::IdentityKey;
use ticketflow_common::config::Secret;
use ticketflow_common::health::Health;

use crate::config::{Config, Upstreams};
use crate::domain::rate_limit::{RateLimiter, DEFAULT_CAPACITY};
use crate::middleware::Cors;
use crate::routes::web::WebDir;
use crate::SERVICE;

pub type HttpClient = Client<HttpConnector, axum::body::Body>;

/// Idle pooled upstream connections are closed after this long.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
const POOL_MAX_IDLE_PER_HOST: usize = 64;
/// Connecting to an upstream never takes longer than this (within the overall timeout).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub jwt_secret: Secret,
    pub identity_key: IdentityKey,
    pub upstreams: Upstreams,
    pub client: HttpClient,
    pub upstream_timeout: Duration,
    pub trust_proxy: bool,
    pub limiter: Option<RateLimiter>,
    pub cors: Cors,
    pub health: Health,
    pub started: Instant,
    /// The built web app (`WEB_DIR`), if configured.
    pub web: Option<WebDir>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        config.validate()?;
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(CONNECT_TIMEOUT));
        connector.enforce_http(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .pool_max_idle_per_host(POOL_MAX_IDLE_PER_HOST)
            .build(connector);
        let limiter = (config.rate_limit_max > 0).then(|| {
            RateLimiter::new(
                config.rate_limit_max,
                config.rate_limit_window,
                DEFAULT_CAPACITY,
            )
        });
        Ok(Self(Arc::new(Inner {
            jwt_secret: config.jwt_secret.clone(),
            identity_key: config.identity_key.clone(),
            upstreams: config.upstreams.clone(),
            client,
            upstream_timeout: config.upstream_timeout,
            trust_proxy: config.trust_proxy,
            limiter,
            cors: Cors::new(&config.cors_origins)?,
            health: Health::new(SERVICE),
            started: Instant::now(),
            web: config.web_dir.clone().map(WebDir::new),
        })))
    }
}
