//! Seat changes as they commit, on every instance: each change's transaction sends a
//! PostgreSQL `NOTIFY` (delivered only at commit), one listener per process fans it out to
//! the live seat streams of that event and drops the event's cached seat map.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgListener;
use sqlx::{PgConnection, PgPool};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::domain::seat::SeatStatus;

const CHANNEL: &str = "ticketflow_seat_changes";
/// Seats per notification: keeps each payload well under PostgreSQL's 8000-byte limit.
const SEATS_PER_NOTIFY: usize = 100;
/// Messages a slow stream may fall behind before it is sent a fresh snapshot instead.
const STREAM_BUFFER: usize = 256;
/// How long a cached seat map is served at most, even if a notification was missed.
const CACHE_TTL: Duration = Duration::from_secs(2);
const CACHE_MAX_EVENTS: usize = 10_000;

/// Seats of one event that changed in one transaction, as of `version`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeatChanges {
    #[serde(rename = "e")]
    pub event_id: Uuid,
    #[serde(rename = "v")]
    pub version: i64,
    #[serde(rename = "s")]
    pub seats: Vec<(Uuid, SeatStatus)>,
}

/// What a stream receives.
#[derive(Debug, Clone)]
pub enum Update {
    Changed(Arc<SeatChanges>),
    /// Notifications may have been missed (the listener reconnected): start over from a
    /// snapshot.
    Resync,
}

/// Announces `seats` of `event_id` at `version` when the caller's transaction commits.
pub async fn notify(
    conn: &mut PgConnection,
    event_id: Uuid,
    version: i64,
    seats: &[(Uuid, SeatStatus)],
) -> Result<(), sqlx::Error> {
    for chunk in seats.chunks(SEATS_PER_NOTIFY) {
        let payload = serde_json::to_string(&SeatChanges {
            event_id,
            version,
            seats: chunk.to_vec(),
        })
        .map_err(|e| sqlx::Error::Encode(e.into()))?;
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(payload)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

#[derive(Default)]
pub struct Live {
    streams: Mutex<HashMap<Uuid, broadcast::Sender<Update>>>,
    cache: Mutex<HashMap<Uuid, (Instant, Bytes)>>,
    /// Bumped by every invalidation: a seat map read before one is not cached after it.
    generation: AtomicU64,
    /// The cache is only used while notifications are flowing.
    listening: AtomicBool,
}

impl Live {
    /// Updates of `event_id` from now on.
    pub fn subscribe(&self, event_id: Uuid) -> broadcast::Receiver<Update> {
        let mut streams = self.streams.lock().unwrap_or_else(PoisonError::into_inner);
        // Forget events whose streams have all ended.
        streams.retain(|_, sender| sender.receiver_count() > 0);
        streams
            .entry(event_id)
            .or_insert_with(|| broadcast::channel(STREAM_BUFFER).0)
            .subscribe()
    }

    /// The cached body of `GET …/seats` for `event_id`, if fresh.
    pub fn cached(&self, event_id: Uuid) -> Option<Bytes> {
        if !self.listening.load(Ordering::Acquire) {
            return None;
        }
        let cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        cache
            .get(&event_id)
            .filter(|(at, _)| at.elapsed() < CACHE_TTL)
            .map(|(_, body)| body.clone())
    }

    /// Where the cache stands before a seat map is read; pass it to [`Live::store`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Caches `body` unless something changed since `generation` was read.
    pub fn store(&self, event_id: Uuid, generation: u64, body: Bytes) {
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if cache.len() >= CACHE_MAX_EVENTS {
            cache.clear();
        }
        cache.insert(event_id, (Instant::now(), body));
    }

    fn invalidate(&self, event_id: Option<Uuid>) {
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        self.generation.fetch_add(1, Ordering::AcqRel);
        match event_id {
            Some(event_id) => {
                cache.remove(&event_id);
            }
            None => cache.clear(),
        }
    }

    fn publish(&self, changes: SeatChanges) {
        self.invalidate(Some(changes.event_id));
        let mut streams = self.streams.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(sender) = streams.get(&changes.event_id) {
            if sender
                .send(Update::Changed(Arc::new(changes.clone())))
                .is_err()
            {
                // Nobody listens any more.
                streams.remove(&changes.event_id);
            }
        }
    }

    fn resync_all(&self) {
        self.invalidate(None);
        let mut streams = self.streams.lock().unwrap_or_else(PoisonError::into_inner);
        streams.retain(|_, sender| sender.send(Update::Resync).is_ok());
    }

    /// Listens for seat changes until `shutdown`, reconnecting after failures.
    pub async fn listen(self: Arc<Self>, pool: PgPool, shutdown: CancellationToken) {
        let mut backoff = Duration::from_millis(100);
        loop {
            let listener = async {
                let mut listener = PgListener::connect_with(&pool).await?;
                listener.listen(CHANNEL).await?;
                Ok::<_, sqlx::Error>(listener)
            };
            let mut listener = tokio::select! {
                _ = shutdown.cancelled() => return,
                listener = listener => match listener {
                    Ok(listener) => listener,
                    Err(err) => {
                        tracing::warn!(error = %err, "seat change listener could not connect");
                        tokio::select! {
                            _ = shutdown.cancelled() => return,
                            _ = tokio::time::sleep(backoff) => {}
                        }
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                        continue;
                    }
                },
            };
            backoff = Duration::from_millis(100);
            // Whatever happened while not listening is unknown.
            self.resync_all();
            self.listening.store(true, Ordering::Release);
            loop {
                let notification = tokio::select! {
                    _ = shutdown.cancelled() => return,
                    notification = listener.try_recv() => notification,
                };
                match notification {
                    Ok(Some(notification)) => {
                        match serde_json::from_str::<SeatChanges>(notification.payload()) {
                            Ok(changes) => self.publish(changes),
                            Err(err) => tracing::warn!(error = %err, "unreadable seat change"),
                        }
                    }
                    // The connection dropped (and notifications with it).
                    Ok(None) | Err(_) => break,
                }
            }
            self.listening.store(false, Ordering::Release);
            tracing::warn!("seat change listener lost its connection, reconnecting");
        }
    }
}
