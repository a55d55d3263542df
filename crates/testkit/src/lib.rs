//! Test-only helpers against the native stack (`make local-infra`): a fresh PostgreSQL or
//! MongoDB database per test, Kafka topics/watchers, a Mailpit reader and free ports.
//!
//! Connection settings come from the environment, falling back to the repository's
//! `.env.local` that `infra/local/stack.sh up` writes.

use std::collections::HashMap;
use std::path::PathBuf;
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

fn env_local() -> &'static HashMap<String, String> {
    static VALUES: OnceLock<HashMap<String, String>> = OnceLock::new();
    VALUES.get_or_init(|| {
        let text = std::fs::read_to_string(repo_root().join(".env.local")).unwrap_or_default();
        text.lines()
            .filter_map(|line| {
                let line = line.trim();
                if line.starts_with('#') {
                    return None;
                }
                let (k, v) = line.split_once('=')?;
                Some((k.trim().to_owned(), v.trim().trim_matches('"').to_owned()))
            })
            .collect()
    })
}

/// A setting of the local stack: the process environment first, then `.env.local`.
pub fn setting(name: &str) -> anyhow::Result<String> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .or_else(|| env_local().get(name).cloned())
        .ok_or_else(|| anyhow!("{name} is not set and not in .env.local: run `make local-infra`"))
}

pub fn kafka_bootstrap() -> anyhow::Result<String> {
    setting("KAFKA_BOOTSTRAP_SERVERS")
}

/// A database name no other test uses.
pub fn unique_db_name(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

/// A new, empty PostgreSQL database; returns its URL.
pub async fn fresh_pg_database() -> anyhow::Result<String> {
    use sqlx::Connection;
    let admin_url = setting("DATABASE_ADMIN_URL")?;
    let name = unique_db_name("tftest");
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .with_context(|| format!("connecting to {admin_url}"))?;
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
    let client = mongodb::Client::with_uri_str(setting("MONGODB_URL")?).await?;
    Ok(client.database(&unique_db_name("tftest")))
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
