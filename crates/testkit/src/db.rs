//! Databases a test creates and owns: [`TestPgDatabase`] and [`TestMongoDatabase`].
//!
//! Each is dropped when its owner calls `cleanup().await` or, failing that, when the value is
//! dropped (a `Drop` that runs the drop on its own thread and runtime, and waits for it, so it
//! works whatever runtime the test used and before the test binary exits).
//!
//! Names are `tftest_<pid namespace>_<pid>_<created unix secs>_<random>`. A run's first
//! database of each kind sweeps the ones left behind by crashed or killed runs: it drops a
//! `tftest_` database only when its creator is provably gone (same pid namespace, and that pid
//! no longer exists) or it is older than [`MAX_AGE`] (a reused pid). A database of a test that
//! is still running elsewhere is never touched. Names in older formats are dropped only when
//! their embedded timestamp is two hours old; names the sweep cannot read are left alone.

use std::future::Future;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{anyhow, Context};

use crate::setting;

const PREFIX: &str = "tftest_";
/// A test database this old is dropped even if a process with its creator's pid is alive
/// (pids are reused; no test runs for a day).
pub const MAX_AGE: Duration = Duration::from_secs(24 * 3600);
/// Names of the previous format (`tftest_<secs>_<uuid>`) carried no pid: the old rule.
const LEGACY_MAX_AGE: Duration = Duration::from_secs(2 * 3600);
/// How long a drop (explicit or from `Drop`) may take.
const DROP_TIMEOUT: Duration = Duration::from_secs(30);

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// The inode of this process's pid namespace, in hex ("0" where there is no `/proc`): a pid
/// means something only to processes in the same namespace.
fn pid_namespace() -> &'static str {
    static NS: OnceLock<String> = OnceLock::new();
    NS.get_or_init(|| {
        std::fs::read_link("/proc/self/ns/pid")
            .ok()
            .and_then(|link| {
                // "pid:[4026531836]"
                let text = link.to_string_lossy().into_owned();
                let inode = text.strip_prefix("pid:[")?.strip_suffix(']')?;
                inode.parse::<u64>().ok()
            })
            .map_or_else(|| "0".to_owned(), |inode| format!("{inode:x}"))
    })
}

/// Whether `pid` is a live process of this namespace; `None` where that cannot be known.
fn process_alive(pid: u32) -> Option<bool> {
    let proc = Path::new("/proc");
    proc.join("self")
        .exists()
        .then(|| proc.join(pid.to_string()).exists())
}

/// A new test database name (at most 51 bytes: PostgreSQL and MongoDB allow 63).
fn test_db_name() -> String {
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "{PREFIX}{}_{}_{}_{}",
        pid_namespace(),
        std::process::id(),
        unix_now(),
        &random[..16]
    )
}

#[derive(Debug, PartialEq, Eq)]
enum Creator<'a> {
    /// `tftest_<ns>_<pid>_<secs>_<random>`.
    Process { ns: &'a str, pid: u32, created: u64 },
    /// `tftest_<secs>_<uuid>` (before pids were recorded).
    Legacy { created: u64 },
    /// Anything else: not ours to judge.
    Unknown,
}

fn creator(name: &str) -> Creator<'_> {
    let Some(rest) = name.strip_prefix(PREFIX) else {
        return Creator::Unknown;
    };
    let parts: Vec<&str> = rest.split('_').collect();
    let hex = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit());
    match parts.as_slice() {
        [ns, pid, created, random] if hex(ns) && hex(random) => {
            match (pid.parse(), created.parse()) {
                (Ok(pid), Ok(created)) => Creator::Process { ns, pid, created },
                _ => Creator::Unknown,
            }
        }
        [created, uuid] if uuid.len() == 32 && hex(uuid) => match created.parse() {
            Ok(created) => Creator::Legacy { created },
            Err(_) => Creator::Unknown,
        },
        _ => Creator::Unknown,
    }
}

/// Whether the sweep may drop `name`: its creator is gone, or it is far too old.
fn is_abandoned(name: &str, now: u64, our_ns: &str, alive: impl Fn(u32) -> Option<bool>) -> bool {
    let older_than = |created: u64, age: Duration| now.saturating_sub(created) > age.as_secs();
    match creator(name) {
        Creator::Process { ns, pid, created } => {
            older_than(created, MAX_AGE) || (ns == our_ns && alive(pid) == Some(false))
        }
        Creator::Legacy { created } => older_than(created, LEGACY_MAX_AGE),
        Creator::Unknown => false,
    }
}

fn abandoned(names: &[String]) -> Vec<&String> {
    let now = unix_now();
    names
        .iter()
        .filter(|n| is_abandoned(n, now, pid_namespace(), process_alive))
        .collect()
}

/// True for the first caller in this process, so each test binary sweeps once.
fn first_sweep(flag: &AtomicBool) -> bool {
    !flag.swap(true, Ordering::SeqCst)
}

/// Runs `drop` to completion on a thread of its own with its own runtime, and waits: usable
/// from `Drop` inside any runtime (or none), and done before the test binary can exit.
fn drop_in_background<F, Fut>(what: String, drop: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let worker = std::thread::spawn(move || -> anyhow::Result<()> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async { tokio::time::timeout(DROP_TIMEOUT, drop()).await? })
    });
    match worker.join() {
        Ok(Ok(())) => {}
        Ok(Err(err)) => eprintln!("testkit: could not drop {what}: {err:#}"),
        Err(_) => eprintln!("testkit: dropping {what} panicked"),
    }
}

/// A PostgreSQL database of its own for one test, dropped by [`cleanup`](Self::cleanup) or
/// when the value is dropped.
#[derive(Debug)]
pub struct TestPgDatabase {
    name: String,
    url: String,
    admin_url: String,
    dropped: bool,
}

impl TestPgDatabase {
    /// Creates a new, empty database (on `DATABASE_ADMIN_URL`'s server).
    pub async fn create() -> anyhow::Result<Self> {
        use sqlx::Connection;
        static SWEPT: AtomicBool = AtomicBool::new(false);
        let admin_url = setting("DATABASE_ADMIN_URL")?;
        let mut admin = sqlx::PgConnection::connect(&admin_url)
            .await
            .with_context(|| format!("connecting to {admin_url}"))?;
        if first_sweep(&SWEPT) {
            let names: Vec<String> = sqlx::query_scalar(
                "SELECT datname FROM pg_database WHERE starts_with(datname, $1)",
            )
            .bind(PREFIX)
            .fetch_all(&mut admin)
            .await?;
            for stale in abandoned(&names) {
                // Best effort: another run's sweep may be dropping it too.
                let _ = drop_pg(&mut admin, stale).await;
            }
        }
        let name = test_db_name();
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .await?;
        let base = admin_url
            .rsplit_once('/')
            .map(|(base, _)| base)
            .ok_or_else(|| anyhow!("DATABASE_ADMIN_URL has no database part"))?;
        Ok(Self {
            url: format!("{base}/{name}"),
            name,
            admin_url,
            dropped: false,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The database's URL, for a service's config.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A small pool on the database, for a test's direct checks.
    pub async fn pool(&self) -> anyhow::Result<sqlx::PgPool> {
        Ok(sqlx::postgres::PgPoolOptions::new()
            .max_connections(8)
            .connect(&self.url)
            .await?)
    }

    /// Drops the database now (closing whatever is still connected to it).
    pub async fn cleanup(mut self) -> anyhow::Result<()> {
        self.dropped = true;
        drop_pg_at(&self.admin_url, &self.name).await
    }
}

impl Drop for TestPgDatabase {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        drop_in_background(format!("database {name}"), move || async move {
            drop_pg_at(&admin_url, &name).await
        });
    }
}

async fn drop_pg_at(admin_url: &str, name: &str) -> anyhow::Result<()> {
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(admin_url).await?;
    drop_pg(&mut admin, name).await?;
    admin.close().await?;
    Ok(())
}

async fn drop_pg(admin: &mut sqlx::PgConnection, name: &str) -> anyhow::Result<()> {
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(admin)
        .await
        .with_context(|| format!("dropping database {name}"))?;
    Ok(())
}

/// A MongoDB database of its own for one test (created on first write), dropped by
/// [`cleanup`](Self::cleanup) or when the value is dropped.
pub struct TestMongoDatabase {
    name: String,
    url: String,
    client: mongodb::Client,
    dropped: bool,
}

impl TestMongoDatabase {
    /// A database name on `MONGODB_URL` no other test uses.
    pub async fn create() -> anyhow::Result<Self> {
        static SWEPT: AtomicBool = AtomicBool::new(false);
        let url = setting("MONGODB_URL")?;
        let client = mongodb::Client::with_uri_str(&url).await?;
        if first_sweep(&SWEPT) {
            let names = client.list_database_names().await?;
            for stale in abandoned(&names) {
                let _ = client.database(stale).drop().await;
            }
        }
        Ok(Self {
            name: test_db_name(),
            url,
            client,
            dropped: false,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `MONGODB_URL`, for a service's config.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A handle on the database, for a test's direct checks.
    pub fn database(&self) -> mongodb::Database {
        self.client.database(&self.name)
    }

    /// Drops the database now.
    pub async fn cleanup(mut self) -> anyhow::Result<()> {
        self.dropped = true;
        self.database()
            .drop()
            .await
            .with_context(|| format!("dropping database {}", self.name))
    }
}

impl Drop for TestMongoDatabase {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        // The test's client belongs to the test's runtime: the drop connects anew.
        let (url, name) = (self.url.clone(), self.name.clone());
        drop_in_background(format!("database {name}"), move || async move {
            let client = mongodb::Client::with_uri_str(&url).await?;
            client.database(&name).drop().await?;
            Ok(())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000;

    fn judge(name: &str, alive: Option<bool>) -> bool {
        is_abandoned(name, NOW, "effffffc", |_| alive)
    }

    #[test]
    fn names_record_their_creator() {
        let name = test_db_name();
        assert!(name.len() <= 63, "{name}");
        match creator(&name) {
            Creator::Process { ns, pid, created } => {
                assert_eq!((ns, pid), (pid_namespace(), std::process::id()));
                assert!(created.abs_diff(unix_now()) < 5);
            }
            other => panic!("{name}: {other:?}"),
        }
        assert_ne!(test_db_name(), name);
    }

    #[test]
    fn only_databases_whose_creator_is_gone_or_that_are_very_old_are_swept() {
        let fresh = format!("tftest_effffffc_4242_{}_0123456789abcdef", NOW - 60);
        assert!(!judge(&fresh, Some(true)), "creator alive");
        assert!(judge(&fresh, Some(false)), "creator gone");
        assert!(!judge(&fresh, None), "unknown: age only");
        let other_ns = format!("tftest_abc123_4242_{}_0123456789abcdef", NOW - 60);
        assert!(!judge(&other_ns, Some(false)), "a pid of another namespace");
        let ancient = format!(
            "tftest_effffffc_4242_{}_0123456789abcdef",
            NOW - MAX_AGE.as_secs() - 1
        );
        assert!(judge(&ancient, Some(true)), "pid reused");
        assert!(judge(&ancient.replace("effffffc", "abc123"), None));
    }

    #[test]
    fn older_formats_by_age_and_unreadable_names_never() {
        let legacy = |age: u64| format!("tftest_{}_{}", NOW - age, "0123456789abcdef".repeat(2));
        assert!(!judge(&legacy(60), Some(false)));
        assert!(judge(&legacy(LEGACY_MAX_AGE.as_secs() + 1), Some(true)));
        for name in [
            "tftest_event_0123456789abcdef0123456789abcdef",
            "tftest_e2e_docs_0123456789abcdef0123456789abcdef",
            "tftest_0123abcd",
            "tftest_unreachable",
            "ticketflow_users",
            "tfwatch_123_abc",
        ] {
            assert!(!judge(name, Some(false)), "{name}");
        }
    }
}
