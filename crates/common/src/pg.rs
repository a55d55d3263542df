//! What every PostgreSQL service shares: connection options, a lazily connected pool, and
//! the flag that keeps store-backed work waiting until the schema has been applied.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

/// How long work waits for a connection before failing (a request then answers 503).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Connection options for `url` with PostgreSQL's NOTICE chatter ("relation already exists,
/// skipping" on every start) kept out of the logs.
pub fn connect_options(url: &str) -> anyhow::Result<PgConnectOptions> {
    let options: PgConnectOptions = url.parse().context("not a usable PostgreSQL URL")?;
    Ok(options.options([("client_min_messages", "warning")]))
}

/// A pool that connects on first use, so a service starts while PostgreSQL is still down.
pub fn lazy_pool(url: &str, max_connections: u32) -> anyhow::Result<PgPool> {
    Ok(PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_lazy_with(connect_options(url)?))
}

/// A service's pool and whether its schema is in place yet.
#[derive(Clone)]
pub struct Database {
    pool: PgPool,
    schema_ready: Arc<AtomicBool>,
}

impl Database {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            schema_ready: Arc::default(),
        }
    }

    /// The pool once the schema is in place; `None` before (callers answer 503 / retry).
    pub fn ready(&self) -> Option<&PgPool> {
        self.schema_ready().then_some(&self.pool)
    }

    /// The pool whether or not the schema is ready (readiness checks, migrations).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub fn schema_ready(&self) -> bool {
        self.schema_ready.load(Ordering::Acquire)
    }

    pub fn mark_schema_ready(&self) {
        self.schema_ready.store(true, Ordering::Release);
    }
}
