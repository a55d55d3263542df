//! PostgreSQL: schema and queries. No HTTP types here.

pub mod holds;
pub mod seats;

use anyhow::Context;
use sqlx::migrate::Migrator;
use sqlx::PgPool;

pub use ticketflow_common::outbox::connect_options;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Applies `migrations/` and the shared outbox tables. Safe to run concurrently and repeatedly.
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR.run(pool).await.context("applying migrations")?;
    ticketflow_common::outbox::migrate(pool)
        .await
        .context("creating outbox tables")
}
