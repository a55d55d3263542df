//! [`Fleet`]: the service binaries as real OS processes, for tests that kill them (`kill -9`)
//! and start them again, as in production.
//!
//! Nothing is built here: the binaries are the debug builds next to the test executable
//! (`target/debug/<name>`); `cargo test --workspace` builds every workspace binary, `cargo
//! test -p <crate>` does not (run `cargo build --bins` first). Each process gets the
//! environment the test gives it and nothing else (only `PATH`, `HOME` and `TMPDIR` are passed
//! through, so `.env*` values in the test's own environment cannot leak in); its stdout and
//! stderr are appended to
//! `<log dir>/<name>.log`, one directory per fleet under the system temp dir. Every process
//! still running is killed when the fleet is dropped.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};

/// How long [`Fleet::start`] and [`Fleet::restart`] wait for the readiness path by default.
pub const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// The settings of one process: which binary, its port and environment, its readiness path.
#[derive(Debug, Clone)]
pub struct ProcessSpec {
    /// The binary's name (`booking-service`), also the process's name in the fleet.
    pub binary: String,
    /// Passed as `PORT`; the base URL is `http://127.0.0.1:<port>`.
    pub port: u16,
    /// Polled until it answers 200 (`/health/ready`; the gateway's is `/health`).
    pub ready_path: String,
    pub env: Vec<(String, String)>,
}

impl ProcessSpec {
    /// `binary` on a free port, waiting on `/health/ready`, with `env`.
    pub fn new(binary: &str, env: &[(&str, &str)]) -> anyhow::Result<Self> {
        Ok(Self {
            binary: binary.to_owned(),
            port: free_port()?,
            ready_path: "/health/ready".to_owned(),
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        })
    }

    pub fn ready_path(mut self, path: &str) -> Self {
        path.clone_into(&mut self.ready_path);
        self
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

struct Process {
    spec: ProcessSpec,
    child: Option<Child>,
    starts: u32,
}

/// Service binaries running as child processes of the test.
pub struct Fleet {
    log_dir: PathBuf,
    bin_dir: PathBuf,
    client: reqwest::Client,
    processes: Mutex<BTreeMap<String, Process>>,
}

/// A loopback port free right now (bound to `127.0.0.1:0`, read, released). Another process
/// could take it before the service binds it; on this machine's test runs that is rare, and
/// the service then fails at once with its bind error in the log.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// Where the workspace's binaries are: the test executable is `target/<profile>/deps/<test>`,
/// the binaries are in `target/<profile>`.
pub fn binary_dir() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("locating the test executable")?;
    let deps = exe
        .parent()
        .ok_or_else(|| anyhow!("{} has no parent directory", exe.display()))?;
    let dir = if deps.file_name().is_some_and(|n| n == "deps") {
        deps.parent().unwrap_or(deps)
    } else {
        deps
    };
    Ok(dir.to_path_buf())
}

impl Fleet {
    /// An empty fleet whose logs go to a new directory named after `name`.
    pub fn new(name: &str) -> anyhow::Result<Self> {
        let log_dir = std::env::temp_dir().join(format!(
            "ticketflow-fleet-{name}-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        ));
        std::fs::create_dir_all(&log_dir)
            .with_context(|| format!("creating {}", log_dir.display()))?;
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(5))
            .build()?;
        Ok(Self {
            log_dir,
            bin_dir: binary_dir()?,
            client,
            processes: Mutex::new(BTreeMap::new()),
        })
    }

    /// The directory holding each process's `<name>.log`.
    pub fn log_dir(&self) -> &Path {
        &self.log_dir
    }

    /// The path of a workspace binary, or an error saying how to build it.
    pub fn binary(&self, name: &str) -> anyhow::Result<PathBuf> {
        let path = self.bin_dir.join(name);
        if !path.is_file() {
            bail!(
                "{} does not exist: run `cargo build --bins` (with the same CARGO_TARGET_DIR) \
                 before this test; `cargo test -p <one crate>` builds only that crate's binaries",
                path.display()
            );
        }
        Ok(path)
    }

    /// Starts `spec` and waits until its readiness path answers 200; returns its base URL.
    pub async fn start(&self, spec: ProcessSpec) -> anyhow::Result<String> {
        let name = spec.binary.clone();
        let base = spec.base();
        {
            let mut processes = self.lock()?;
            if processes.contains_key(&name) {
                bail!("{name} is already in this fleet");
            }
            processes.insert(
                name.clone(),
                Process {
                    spec,
                    child: None,
                    starts: 0,
                },
            );
        }
        self.launch(&name)?;
        self.wait_ready(&name, READY_TIMEOUT).await?;
        Ok(base)
    }

    /// `kill -9`: SIGKILL, then reaps it. A process already gone is fine.
    pub fn kill(&self, name: &str) -> anyhow::Result<()> {
        let mut processes = self.lock()?;
        let process = processes
            .get_mut(name)
            .ok_or_else(|| anyhow!("no process {name} in this fleet"))?;
        if let Some(mut child) = process.child.take() {
            // An error means it had exited already.
            let _ = child.kill();
            child.wait().with_context(|| format!("reaping {name}"))?;
        }
        Ok(())
    }

    /// Starts `name` again with the same port and environment (after [`kill`](Self::kill),
    /// or it is killed first) and waits until it is ready.
    pub async fn restart(&self, name: &str) -> anyhow::Result<()> {
        self.kill(name)?;
        self.launch(name)?;
        self.wait_ready(name, READY_TIMEOUT).await
    }

    /// Whether `name` is running (started and not exited).
    pub fn is_running(&self, name: &str) -> anyhow::Result<bool> {
        let mut processes = self.lock()?;
        let process = processes
            .get_mut(name)
            .ok_or_else(|| anyhow!("no process {name} in this fleet"))?;
        Ok(match process.child.as_mut() {
            Some(child) => child.try_wait()?.is_none(),
            None => false,
        })
    }

    /// The OS process id of `name` while it runs (the benchmark reads its `/proc/<pid>/status`).
    pub fn pid(&self, name: &str) -> anyhow::Result<Option<u32>> {
        let processes = self.lock()?;
        let process = processes
            .get(name)
            .ok_or_else(|| anyhow!("no process {name} in this fleet"))?;
        Ok(process.child.as_ref().map(Child::id))
    }

    /// The last `lines` lines of `name`'s log.
    pub fn log_tail(&self, name: &str, lines: usize) -> String {
        let text = std::fs::read_to_string(self.log_path(name)).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    fn log_path(&self, name: &str) -> PathBuf {
        self.log_dir.join(format!("{name}.log"))
    }

    fn lock(&self) -> anyhow::Result<std::sync::MutexGuard<'_, BTreeMap<String, Process>>> {
        self.processes
            .lock()
            .map_err(|_| anyhow!("the fleet's process table is poisoned"))
    }

    fn launch(&self, name: &str) -> anyhow::Result<()> {
        let binary = self.binary(name)?;
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path(name))?;
        let mut processes = self.lock()?;
        let process = processes
            .get_mut(name)
            .ok_or_else(|| anyhow!("no process {name} in this fleet"))?;
        process.starts += 1;
        writeln_log(
            &log,
            &format!("==== start #{} of {name} ====", process.starts),
        );
        let mut command = Command::new(&binary);
        command.env_clear();
        for inherited in ["PATH", "HOME", "TMPDIR"] {
            if let Some(value) = std::env::var_os(inherited) {
                command.env(inherited, value);
            }
        }
        command
            .env("PORT", process.spec.port.to_string())
            .envs(process.spec.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        let child = command
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        process.child = Some(child);
        Ok(())
    }

    async fn wait_ready(&self, name: &str, timeout: Duration) -> anyhow::Result<()> {
        let url = {
            let processes = self.lock()?;
            let process = processes
                .get(name)
                .ok_or_else(|| anyhow!("no process {name} in this fleet"))?;
            format!("{}{}", process.spec.base(), process.spec.ready_path)
        };
        let deadline = tokio::time::Instant::now() + timeout;
        let mut last;
        loop {
            if !self.is_running(name)? {
                bail!(
                    "{name} exited before {url} answered 200; log {}:\n{}",
                    self.log_path(name).display(),
                    self.log_tail(name, 30)
                );
            }
            match self.client.get(&url).send().await {
                Ok(response) if response.status() == reqwest::StatusCode::OK => return Ok(()),
                Ok(response) => {
                    let status = response.status();
                    last = format!("{status} {}", response.text().await.unwrap_or_default());
                }
                Err(err) => last = err.to_string(),
            }
            if tokio::time::Instant::now() >= deadline {
                bail!(
                    "{url} did not answer 200 within {timeout:?} (last: {last}); log {}:\n{}",
                    self.log_path(name).display(),
                    self.log_tail(name, 30)
                );
            }
            // Short: the benchmark reads start → ready off this loop.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

fn writeln_log(mut log: &File, line: &str) {
    use std::io::Write;
    let _ = writeln!(log, "{line}");
}

impl Drop for Fleet {
    fn drop(&mut self) {
        let processes = match self.processes.get_mut() {
            Ok(processes) => processes,
            Err(poisoned) => poisoned.into_inner(),
        };
        for process in processes.values_mut() {
            if let Some(mut child) = process.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        if std::thread::panicking() {
            eprintln!("fleet logs: {}", self.log_dir.display());
        }
    }
}
