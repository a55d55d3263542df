//! Fixed-window rate limiter, in memory, bounded.
//!
//! Each client key gets `max` requests per `window`, the window starting at its first request.
//! Expired entries are swept at most once per window (and before refusing to track a new
//! client), and no more than `capacity` clients are tracked at once: beyond that, new clients
//! pass untracked (fail open) rather than memory growing without bound.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many clients are tracked at most (~100 bytes each).
pub const DEFAULT_CAPACITY: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Over the limit; the window resets after this long.
    Deny {
        retry_after: Duration,
    },
}

impl Decision {
    /// `Retry-After` in whole seconds, rounded up, at least 1.
    pub fn retry_after_secs(retry_after: Duration) -> u64 {
        let millis = retry_after.as_millis();
        u64::try_from(millis.div_ceil(1000))
            .unwrap_or(u64::MAX)
            .max(1)
    }
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    count: u32,
}

#[derive(Debug)]
struct Inner {
    clients: HashMap<IpAddr, Window>,
    last_sweep: Instant,
}

#[derive(Debug)]
pub struct RateLimiter {
    max: u32,
    window: Duration,
    capacity: usize,
    inner: Mutex<Inner>,
}

impl RateLimiter {
    /// `max` requests per `window`; `max` must be at least 1 (0 means "no limiter" upstream).
    pub fn new(max: u32, window: Duration, capacity: usize) -> Self {
        Self {
            max: max.max(1),
            window,
            capacity: capacity.max(1),
            inner: Mutex::new(Inner {
                clients: HashMap::new(),
                last_sweep: Instant::now(),
            }),
        }
    }

    /// Counts one request from `key` at `now`.
    pub fn check(&self, key: IpAddr, now: Instant) -> Decision {
        let mut inner = self
            .inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if now.saturating_duration_since(inner.last_sweep) >= self.window {
            self.sweep(&mut inner, now);
        }
        let window = self.window;
        if let Some(entry) = inner.clients.get_mut(&key) {
            let elapsed = now.saturating_duration_since(entry.started);
            if elapsed >= window {
                *entry = Window {
                    started: now,
                    count: 1,
                };
                return Decision::Allow;
            }
            if entry.count >= self.max {
                return Decision::Deny {
                    retry_after: window - elapsed,
                };
            }
            entry.count += 1;
            return Decision::Allow;
        }
        if inner.clients.len() >= self.capacity {
            self.sweep(&mut inner, now);
            if inner.clients.len() >= self.capacity {
                metrics::counter!("gateway_rate_limit_untracked_total").increment(1);
                return Decision::Allow;
            }
        }
        inner.clients.insert(
            key,
            Window {
                started: now,
                count: 1,
            },
        );
        Decision::Allow
    }

    fn sweep(&self, inner: &mut Inner, now: Instant) {
        let window = self.window;
        inner
            .clients
            .retain(|_, w| now.saturating_duration_since(w.started) < window);
        inner.last_sweep = now;
    }

    /// Clients currently tracked.
    pub fn tracked(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clients
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn ip(n: u32) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(n))
    }

    #[test]
    fn allows_max_then_denies_until_the_window_resets() {
        let limiter = RateLimiter::new(3, Duration::from_millis(1000), 10);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.check(ip(1), t0), Decision::Allow);
        }
        let later = t0 + Duration::from_millis(250);
        assert_eq!(
            limiter.check(ip(1), later),
            Decision::Deny {
                retry_after: Duration::from_millis(750)
            }
        );
        // Other clients are not affected.
        assert_eq!(limiter.check(ip(2), later), Decision::Allow);
        // A new window starts after the old one ends.
        assert_eq!(
            limiter.check(ip(1), t0 + Duration::from_millis(1000)),
            Decision::Allow
        );
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(Decision::retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(Decision::retry_after_secs(Duration::from_millis(1000)), 1);
        assert_eq!(Decision::retry_after_secs(Duration::from_millis(1001)), 2);
        assert_eq!(Decision::retry_after_secs(Duration::from_secs(60)), 60);
        assert_eq!(Decision::retry_after_secs(Duration::ZERO), 1);
    }

    #[test]
    fn memory_is_bounded() {
        let window = Duration::from_millis(100);
        let limiter = RateLimiter::new(1, window, 5);
        let t0 = Instant::now();
        for n in 0..50 {
            assert_eq!(limiter.check(ip(n), t0), Decision::Allow);
        }
        assert_eq!(limiter.tracked(), 5);
        // After the window every old entry is swept away.
        let later = t0 + window;
        assert_eq!(limiter.check(ip(1000), later), Decision::Allow);
        assert_eq!(limiter.tracked(), 1);
    }
}
