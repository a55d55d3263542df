//! Retrying a start-up step (connect, migrate, create indexes) until it works or shutdown,
//! and repeating a background sweep until shutdown.

use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

const FIRST_DELAY: Duration = Duration::from_millis(200);
const MAX_DELAY: Duration = Duration::from_secs(10);

/// Runs `attempt` until it succeeds, waiting 200 ms, 400 ms, … up to 10 s between tries and
/// logging each failure under `what`. `None` when `shutdown` fires first.
pub async fn until_ok<T, F, Fut>(
    what: &str,
    shutdown: &CancellationToken,
    mut attempt: F,
) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let mut delay = FIRST_DELAY;
    loop {
        match attempt().await {
            Ok(value) => return Some(value),
            Err(err) => {
                tracing::warn!(error = format!("{err:#}"), retry_in = ?delay, "{what} failed, retrying");
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return None,
            _ = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(MAX_DELAY);
    }
}

/// Runs `sweep` every `interval` until `shutdown`: at once again while it reports work done
/// (a full batch may have left more), failures logged under `what` and retried next time.
pub async fn sweep_every<F, Fut, E>(
    what: &str,
    interval: Duration,
    shutdown: &CancellationToken,
    mut sweep: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<usize, E>>,
    E: std::fmt::Display,
{
    loop {
        match sweep().await {
            Ok(done) if done > 0 => continue,
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "{what} failed"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(interval) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test(start_paused = true)]
    async fn retries_until_success() {
        let calls = AtomicU32::new(0);
        let result = until_ok("flaky step", &CancellationToken::new(), || async {
            if calls.fetch_add(1, Ordering::SeqCst) < 3 {
                anyhow::bail!("not yet")
            }
            Ok("done")
        })
        .await;
        assert_eq!(result, Some("done"));
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_on_shutdown() {
        let shutdown = CancellationToken::new();
        shutdown.cancel();
        let result: Option<()> =
            until_ok("never works", &shutdown, || async { anyhow::bail!("down") }).await;
        assert_eq!(result, None);
    }
}
