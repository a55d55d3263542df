//! PostgreSQL: schema and queries.

pub mod users;

use sqlx::migrate::Migrator;
use sqlx::PgPool;

pub use ticketflow_common::pg::connect_options;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Applies `migrations/` and the shared outbox tables. Safe to run concurrently and repeatedly
/// (sqlx takes an advisory lock around its migrations, the outbox its own).
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    ticketflow_common::outbox::migrate_with(pool, &MIGRATOR).await
}
