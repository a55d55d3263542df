//! PostgreSQL: schema and queries. No HTTP types here.

pub mod bookings;

use sqlx::migrate::Migrator;
use sqlx::PgPool;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Applies `migrations/` and the shared outbox tables. Safe to run concurrently and repeatedly.
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    ticketflow_common::outbox::migrate_with(pool, &MIGRATOR).await
}
