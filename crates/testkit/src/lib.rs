//! Test-only helpers against the native stack (`make local-infra`), shared by the tests of
//! every crate (`services/*/tests`, `crates/e2e`, `crates/common`):
//!
//! - [`Spawned`]: a service started in-process with `run(config, listener, shutdown)` on a
//!   listener bound to `127.0.0.1:0`, [`Spawned::wait_ready`] until it answers 200, and
//!   [`Spawned::stop`] that returns the service's own result;
//! - [`TestPgDatabase`] / [`TestMongoDatabase`]: a database of the test's own, dropped by
//!   `cleanup()` or when the value is dropped; the stale-database sweep drops only databases
//!   whose creating process is gone (see [`db`]);
//! - [`kafka`]: private topics, unique names for topics and consumer groups, a
//!   [`TopicWatcher`] that sees only what is produced after it was created;
//! - [`mailpit::Mailpit`], [`eventually`], [`unreachable_addr`].
//!
//! Connection settings come from [`setting`]: the process environment, then the repository's
//! `.env.example` → `.env` → `.env.local` (written by `infra/local/stack.sh up`), read by the
//! same loader as `scripts/with-env.sh`.
//!
//! A service's test config comes from its own `Config::for_test(..)`; the identity key they
//! share with the gateway is `ticketflow_common::auth::test_identity_key()`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{anyhow, bail};

pub mod db;
pub mod fleet;
pub mod kafka;
pub mod mailpit;
pub mod routes;
pub mod spawned;

pub use db::{TestMongoDatabase, TestPgDatabase};
pub use fleet::{Fleet, ProcessSpec};
pub use kafka::{create_topic, private_topics, unique_name, TopicWatcher};
pub use routes::assert_routed;
pub use spawned::{unreachable_addr, Spawned};

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
