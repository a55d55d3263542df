//! Fixed-window rate limiter, in memory, bounded.
//!
//! Each client key gets `max` requests per `window`, the window starting at its first request.
//! At most `capacity` clients are tracked. Windows are kept in the order they started, so
//! expired ones are dropped from the front a few at a time (amortised O(1) per request, no
//! sweep over every client under the lock), and a new client past the capacity evicts the
//! oldest window: a flood of new addresses costs old clients their count, never lets anyone
//! through untracked.

use std::collections::{HashMap, VecDeque};
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

#[derive(Debug, Default)]
struct Inner {
    clients: HashMap<IpAddr, Window>,
    /// `(key, started)` of every window in start order; an entry whose key has since started
    /// a newer window is stale and skipped.
    order: VecDeque<(IpAddr, Instant)>,
}

impl Inner {
    /// Removes the window `order`'s front names, if it is still that key's current one.
    fn pop_oldest(&mut self) -> Option<bool> {
        let (key, started) = self.order.pop_front()?;
        let current = self.clients.get(&key).is_some_and(|w| w.started == started);
        if current {
            self.clients.remove(&key);
        }
        Some(current)
    }

    fn start(&mut self, key: IpAddr, now: Instant) {
        self.clients.insert(
            key,
            Window {
                started: now,
                count: 1,
            },
        );
        self.order.push_back((key, now));
    }
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
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Counts one request from `key` at `now`.
    pub fn check(&self, key: IpAddr, now: Instant) -> Decision {
        let mut inner = self
            .inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let window = self.window;
        // Expired windows leave from the front; each is popped once, so this is amortised.
        while inner
            .order
            .front()
            .is_some_and(|(_, started)| now.saturating_duration_since(*started) >= window)
        {
            inner.pop_oldest();
        }
        if let Some(entry) = inner.clients.get_mut(&key) {
            let elapsed = now.saturating_duration_since(entry.started);
            if elapsed >= window {
                inner.start(key, now);
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
        while inner.clients.len() >= self.capacity {
            match inner.pop_oldest() {
                Some(true) => metrics::counter!("gateway_rate_limit_evicted_total").increment(1),
                Some(false) => {}
                None => break,
            }
        }
        inner.start(key, now);
        Decision::Allow
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
        // After the window every old entry is dropped.
        let later = t0 + window;
        assert_eq!(limiter.check(ip(1000), later), Decision::Allow);
        assert_eq!(limiter.tracked(), 1);
    }

    #[test]
    fn at_capacity_new_clients_are_still_limited_never_waved_through() {
        let window = Duration::from_secs(60);
        let limiter = RateLimiter::new(2, window, 3);
        let t0 = Instant::now();
        // Fill the table with other clients, as an address flood would.
        for n in 0..3 {
            assert_eq!(limiter.check(ip(n), t0), Decision::Allow);
        }
        // A new client past the capacity is tracked (the oldest is evicted) and limited.
        let attacker = ip(99);
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(limiter.check(attacker, t1), Decision::Allow);
        assert_eq!(limiter.check(attacker, t1), Decision::Allow);
        assert!(matches!(limiter.check(attacker, t1), Decision::Deny { .. }));
        assert_eq!(limiter.tracked(), 3);
        // The newest clients kept their counts; only the oldest (ip 0) was evicted.
        assert_eq!(limiter.check(ip(2), t1), Decision::Allow);
        assert!(matches!(limiter.check(ip(2), t1), Decision::Deny { .. }));
    }

    #[test]
    fn a_restarted_window_is_not_evicted_by_its_stale_entry() {
        let window = Duration::from_millis(100);
        let limiter = RateLimiter::new(1, window, 2);
        let t0 = Instant::now();
        assert_eq!(limiter.check(ip(1), t0), Decision::Allow);
        let t1 = t0 + window;
        // ip 1 starts a new window; its old queue entry is stale.
        assert_eq!(limiter.check(ip(1), t1), Decision::Allow);
        assert_eq!(limiter.check(ip(2), t1), Decision::Allow);
        assert_eq!(limiter.tracked(), 2);
        assert!(matches!(limiter.check(ip(1), t1), Decision::Deny { .. }));
    }
}
