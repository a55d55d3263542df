//! booking-service's state: one `Arc<Inner>` shared by every request and consumer.

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use ticketflow_common::auth::IdentityKey;
use ticketflow_common::pg::Database;

use crate::catalogue::Catalogue;
use crate::config::Config;
use crate::error::BookingError;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    /// Store-backed work answers `503` / is retried until the schema is in place.
    pub database: Database,
    pub catalogue: Catalogue,
    pub identity_key: IdentityKey,
    pub booking_timeout: Duration,
    pub max_seats: usize,
    pub cancellation_window_hours: i64,
    pub sweep_interval: Duration,
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(database: Database, config: &Config) -> anyhow::Result<Self> {
        Ok(Self(Arc::new(Inner {
            database,
            catalogue: Catalogue::new(&config.event_service_url, config.event_lookup_timeout)?,
            identity_key: config.identity_key.clone(),
            booking_timeout: config.booking_timeout,
            max_seats: config.max_seats,
            cancellation_window_hours: config.cancellation_window_hours,
            sweep_interval: config.sweep_interval,
        })))
    }

    /// The pool, once the schema is in place.
    pub fn db(&self) -> Result<&PgPool, BookingError> {
        self.database.ready().ok_or(BookingError::Starting)
    }
}
