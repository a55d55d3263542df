//! The Redis admission gate in front of PostgreSQL: one key per held seat,
//! `seat:lock:<eventId>:<seatId>` → booking id, with the lock's TTL. Every script below runs
//! atomically in Redis, so a set of seats is taken whole or not at all, and only the booking
//! that holds a key may release, keep or extend it (compare-and-delete).
//!
//! The gate only turns most conflicts away cheaply; PostgreSQL decides (see `store::holds`).
//! Keys are never made permanent: a key left behind (Redis was down during a release) shuts
//! its seat at the gate for one TTL at most, and a sold seat is refused by PostgreSQL.

use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::Script;
use uuid::Uuid;

/// Takes every key for ARGV[1] for ARGV[2] ms, or none: returns the 1-based indexes of the
/// keys another booking holds (empty = all taken). Keys this booking already holds are left
/// as they are (a redelivered request must not extend its own lock).
const ACQUIRE: &str = r"
local conflicts = {}
for i, key in ipairs(KEYS) do
  local holder = redis.call('GET', key)
  if holder and holder ~= ARGV[1] then
    conflicts[#conflicts + 1] = i
  end
end
if #conflicts == 0 then
  for _, key in ipairs(KEYS) do
    redis.call('SET', key, ARGV[1], 'NX', 'PX', ARGV[2])
  end
end
return conflicts
";

/// Deletes the keys ARGV[1] holds; returns how many.
const RELEASE: &str = r"
local released = 0
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('DEL', key)
    released = released + 1
  end
end
return released
";

#[derive(Clone)]
pub struct Gate {
    redis: ConnectionManager,
    acquire: std::sync::Arc<Script>,
    release: std::sync::Arc<Script>,
}

pub fn key(event_id: Uuid, seat_id: Uuid) -> String {
    format!("seat:lock:{event_id}:{seat_id}")
}

impl Gate {
    pub fn new(redis: ConnectionManager) -> Self {
        Self {
            redis,
            acquire: std::sync::Arc::new(Script::new(ACQUIRE)),
            release: std::sync::Arc::new(Script::new(RELEASE)),
        }
    }

    /// Takes all `seat_ids` for `booking_id`, or none. `Err(conflicts)` lists the seats
    /// another booking holds.
    pub async fn acquire(
        &self,
        event_id: Uuid,
        seat_ids: &[Uuid],
        booking_id: Uuid,
        ttl: Duration,
    ) -> redis::RedisResult<Result<(), Vec<Uuid>>> {
        let mut invocation = self.acquire.prepare_invoke();
        for seat_id in seat_ids {
            invocation.key(key(event_id, *seat_id));
        }
        invocation
            .arg(booking_id.to_string())
            .arg(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX));
        let conflicts: Vec<usize> = invocation.invoke_async(&mut self.redis.clone()).await?;
        if conflicts.is_empty() {
            return Ok(Ok(()));
        }
        Ok(Err(conflicts
            .into_iter()
            .filter_map(|index| seat_ids.get(index.checked_sub(1)?).copied())
            .collect()))
    }

    /// Deletes the keys of `seat_ids` that `booking_id` holds.
    pub async fn release(
        &self,
        event_id: Uuid,
        seat_ids: &[Uuid],
        booking_id: Uuid,
    ) -> redis::RedisResult<usize> {
        if seat_ids.is_empty() {
            return Ok(0);
        }
        let mut invocation = self.release.prepare_invoke();
        for seat_id in seat_ids {
            invocation.key(key(event_id, *seat_id));
        }
        invocation.arg(booking_id.to_string());
        invocation.invoke_async(&mut self.redis.clone()).await
    }

    pub async fn ping(&self) -> redis::RedisResult<()> {
        redis::cmd("PING")
            .query_async::<String>(&mut self.redis.clone())
            .await
            .map(|_| ())
    }
}
