//! Test-only helpers against the native stack (`make local-infra`): a fresh PostgreSQL or
//! MongoDB database per test, Kafka topics/watchers, a Mailpit reader and free ports.
//!
//! Connection settings come from the environment, falling back to the repository's
//! `.env.local` that `infra/local/stack.sh up` writes.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};

pub mod kafka;
pub mod mailpit;

pub use kafka::{create_topic, unique_name, TopicWatcher};

fn repo_root() -> PathBuf {
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    while !dir.join(".git").exists() && !dir.join("Makefile").exists() {
        if !dir.pop() {
            break;
        }
    }
    dir
}

fn env_files() -> &'static Result<BTreeMap<String, String>, String> {
    static VALUES: OnceLock<Result<BTreeMap<String, String>, String>> = OnceLock::new();
    VALUES.get_or_init(|| ticketflow_envfile::load(&repo_root()).map_err(|e| e.to_string()))
}

/// A setting of the local stack, as `scripts/with-env.sh` would pass it to a service: the
/// process environment first (blank counts as unset), then `.env.example` → `.env` →
/// `.env.local` (later files winning), parsed by the same loader (`ticketflow_envfile`).
pub fn setting(name: &str) -> anyhow::Result<String> {
    if let Some(value) = std::env::var(name).ok().filter(|v| !v.is_empty()) {
        return Ok(value);
    }
    let files = env_files().as_ref().map_err(|e| anyhow!("{e}"))?;
    files
        .get(name)
        .filter(|v| !v.is_empty())
        .cloned()
        .ok_or_else(|| {
            anyhow!(
                "{name} is not set, nor in .env.example/.env/.env.local: run `make local-infra`"
            )
        })
}

pub fn kafka_bootstrap() -> anyhow::Result<String> {
    setting("KAFKA_BOOTSTRAP_SERVERS")
}

/// A database name no other test uses.
pub fn unique_db_name(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

const TEST_DB_PREFIX: &str = "tftest_";
/// Test databases older than this are dropped by the next test run (tests never take this
/// long, and each run would otherwise leave dozens behind).
const STALE_AFTER_SECS: u64 = 2 * 3600;

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// `tftest_<created unix secs>_<uuid>`: unique, and its age can be read back.
fn test_db_name() -> String {
    format!(
        "{TEST_DB_PREFIX}{}_{}",
        unix_now(),
        uuid::Uuid::new_v4().simple()
    )
}

fn is_stale_test_db(name: &str, now: u64) -> bool {
    let Some(rest) = name.strip_prefix(TEST_DB_PREFIX) else {
        return false;
    };
    match rest
        .split_once('_')
        .and_then(|(secs, _)| secs.parse::<u64>().ok())
    {
        Some(created) => now.saturating_sub(created) > STALE_AFTER_SECS,
        None => true, // a name without a timestamp predates this scheme
    }
}

/// True for the first caller in this process, so each test binary sweeps once.
fn first_sweep(flag: &AtomicBool) -> bool {
    !flag.swap(true, Ordering::SeqCst)
}

/// A new, empty PostgreSQL database; returns its URL.
pub async fn fresh_pg_database() -> anyhow::Result<String> {
    use sqlx::Connection;
    static SWEPT: AtomicBool = AtomicBool::new(false);
    let admin_url = setting("DATABASE_ADMIN_URL")?;
    let name = test_db_name();
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .with_context(|| format!("connecting to {admin_url}"))?;
    if first_sweep(&SWEPT) {
        let names: Vec<String> =
            sqlx::query_scalar("SELECT datname FROM pg_database WHERE starts_with(datname, $1)")
                .bind(TEST_DB_PREFIX)
                .fetch_all(&mut admin)
                .await?;
        let now = unix_now();
        for stale in names.iter().filter(|n| is_stale_test_db(n, now)) {
            // Best effort: a database still in use by a hung test simply stays.
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{stale}\" WITH (FORCE)"))
                .execute(&mut admin)
                .await;
        }
    }
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut admin)
        .await?;
    let base = admin_url
        .rsplit_once('/')
        .map(|(base, _)| base)
        .ok_or_else(|| anyhow!("DATABASE_ADMIN_URL has no database part"))?;
    Ok(format!("{base}/{name}"))
}

/// A pool on a new, empty PostgreSQL database.
pub async fn fresh_pg_pool() -> anyhow::Result<sqlx::PgPool> {
    let url = fresh_pg_database().await?;
    Ok(sqlx::postgres::PgPoolOptions::new()
        .max_connections(8)
        .connect(&url)
        .await?)
}

/// A handle on a MongoDB database no other test uses (created on first write).
pub async fn fresh_mongo_database() -> anyhow::Result<mongodb::Database> {
    static SWEPT: AtomicBool = AtomicBool::new(false);
    let client = mongodb::Client::with_uri_str(setting("MONGODB_URL")?).await?;
    if first_sweep(&SWEPT) {
        let now = unix_now();
        for stale in client
            .list_database_names()
            .await?
            .iter()
            .filter(|n| is_stale_test_db(n, now))
        {
            let _ = client.database(stale).drop().await;
        }
    }
    Ok(client.database(&test_db_name()))
}

/// A TCP port nothing listens on right now.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Polls `check` every 100 ms until it returns `Some`, or fails after `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Option<T>>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check().await? {
            return Ok(value);
        }
        if tokio::time::Instant::now() >= deadline {
            bail!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_old_test_databases_are_stale() {
        let now = 1_800_000_000;
        let fresh = format!("tftest_{}_abc", now - 60);
        let old = format!("tftest_{}_abc", now - STALE_AFTER_SECS - 1);
        assert!(!is_stale_test_db(&fresh, now));
        assert!(is_stale_test_db(&old, now));
        assert!(
            is_stale_test_db("tftest_0123abcd", now),
            "pre-timestamp names"
        );
        assert!(!is_stale_test_db("ticketflow_users", now));
        assert!(!is_stale_test_db("tfwatch_123_abc", now));
        assert!(test_db_name().starts_with(TEST_DB_PREFIX));
    }
}
