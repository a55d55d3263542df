//! [`Spawned`]: a service (or a fake) running in-process on a loopback listener of its own.

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How long [`Spawned::wait_ready`] waits by default.
pub const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long [`Spawned::stop`] waits for the service to finish after cancelling it.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// A service started by [`Spawned::start`]: its task, its address and a client for it.
/// Dropping it cancels the service; [`stop`](Self::stop) also waits and reports its result.
pub struct Spawned {
    pub addr: SocketAddr,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// No proxy, 20 s timeout.
    pub client: reqwest::Client,
    shutdown: CancellationToken,
    handle: Option<JoinHandle<anyhow::Result<()>>>,
}

impl Spawned {
    /// Binds `127.0.0.1:0` (the OS picks the port, so no other test can take it between
    /// choosing and binding), then spawns `run(listener, shutdown)`, e.g.
    /// `Spawned::start(|listener, shutdown| service::run(config, listener, shutdown))`.
    /// Connections are queued from the moment it returns; see [`wait_ready`](Self::wait_ready)
    /// for services that must reach their dependencies first.
    pub async fn start<F, Fut>(run: F) -> anyhow::Result<Self>
    where
        F: FnOnce(TcpListener, CancellationToken) -> Fut,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let shutdown = CancellationToken::new();
        let handle = tokio::spawn(run(listener, shutdown.clone()));
        Ok(Self {
            addr,
            base: format!("http://{addr}"),
            client: client()?,
            shutdown,
            handle: Some(handle),
        })
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Polls `GET path` (e.g. `/health/ready`) until it answers 200, for up to
    /// [`READY_TIMEOUT`]. Fails at once with the service's own error if it stopped.
    pub async fn wait_ready(&mut self, path: &str) -> anyhow::Result<()> {
        self.wait_ready_within(path, READY_TIMEOUT).await
    }

    pub async fn wait_ready_within(&mut self, path: &str, timeout: Duration) -> anyhow::Result<()> {
        let url = self.url(path);
        let deadline = tokio::time::Instant::now() + timeout;
        let mut last;
        loop {
            if self.handle.as_ref().is_none_or(JoinHandle::is_finished) {
                let ended = self.finish().await;
                return Err(match ended {
                    Ok(()) => anyhow!("{} stopped before {path} answered 200", self.base),
                    Err(err) => err.context(format!("{} failed before it was ready", self.base)),
                });
            }
            let probe = self
                .client
                .get(&url)
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            match probe {
                Ok(response) if response.status() == reqwest::StatusCode::OK => return Ok(()),
                Ok(response) => {
                    let status = response.status();
                    last = format!("{status} {}", response.text().await.unwrap_or_default());
                }
                Err(err) => last = err.to_string(),
            }
            if tokio::time::Instant::now() >= deadline {
                bail!("{url} did not answer 200 within {timeout:?}; last: {last}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Cancels the service, waits up to [`STOP_TIMEOUT`] and returns what its `run` returned.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        let Some(handle) = self.handle.take() else {
            return Ok(());
        };
        match tokio::time::timeout(STOP_TIMEOUT, handle).await {
            Err(_) => bail!("{} did not stop within {STOP_TIMEOUT:?}", self.base),
            Ok(joined) => {
                joined.map_err(|err| anyhow!("the task of {} failed: {err}", self.base))?
            }
        }
    }

    /// The result of the ended task (call only once it has finished).
    async fn finish(&mut self) -> anyhow::Result<()> {
        match self.handle.take() {
            None => Ok(()),
            Some(handle) => match handle.await {
                Ok(result) => result,
                Err(err) => Err(anyhow!("the task of {} failed: {err}", self.base)),
            },
        }
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// The client [`Spawned`] hands out: no proxy (loopback only), 20 s timeout.
pub fn client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .build()
        .context("building the test HTTP client")
}

/// A loopback address nothing listens on (a port the OS handed out and took back at once),
/// for tests of an unreachable dependency. Never bind it: a service's own listener comes from
/// [`Spawned::start`].
pub fn unreachable_addr() -> anyhow::Result<SocketAddr> {
    Ok(std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()?)
}
