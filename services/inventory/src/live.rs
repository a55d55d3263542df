//! Seat changes for live streams and the seat map cache, on every instance, without adding
//! anything to the write path: each instance polls the version of the events its clients
//! watch (one query for all of them), and when one moved, reads the event's seat map once
//! and sends the seats whose status differs from the map it saw before.
//!
//! (PostgreSQL `NOTIFY` was the first design: it takes a cluster-wide lock at commit, which
//! would have serialised every seat lock's commit behind the others.)

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use sqlx::PgPool;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::domain::seat::SeatStatus;
use crate::store::seats::{self, SeatMap};

/// How often watched events' versions are read: a change reaches streams within this (plus
/// one seat map read), well inside the second the contract allows.
pub const POLL_INTERVAL: Duration = Duration::from_millis(250);
/// Messages a slow stream may fall behind before it is sent a fresh snapshot instead.
const STREAM_BUFFER: usize = 256;
/// Seat maps kept (by event); past this the cache starts over.
const CACHE_MAX_EVENTS: usize = 10_000;

/// Seats of one event whose status changed, as of `version`.
#[derive(Debug, Clone, PartialEq)]
pub struct SeatChanges {
    pub version: i64,
    pub seats: Vec<(Uuid, SeatStatus)>,
}

/// What a stream receives.
#[derive(Debug, Clone)]
pub enum Update {
    Changed(Arc<SeatChanges>),
    /// Changes could not be followed (the seat map could not be read, or the event got its
    /// seats after the stream opened): start over from a snapshot.
    Resync,
}

/// One watched event: its streams and the seat map they were last brought to.
struct Watch {
    sender: broadcast::Sender<Update>,
    /// `None` until a stream's snapshot gives the first map to compare with.
    seen: Option<(i64, HashMap<Uuid, SeatStatus>)>,
}

#[derive(Default)]
pub struct Live {
    watched: Mutex<HashMap<Uuid, Watch>>,
    /// The body of `GET …/seats` per event, with the version it shows.
    cache: Mutex<HashMap<Uuid, (i64, Bytes)>>,
}

fn statuses(map: &SeatMap) -> HashMap<Uuid, SeatStatus> {
    map.seats
        .iter()
        .map(|seat| (seat.id, seat.status))
        .collect()
}

impl Live {
    /// Updates of `event_id` from now on. Call [`Live::seen`] with the snapshot read next.
    pub fn subscribe(&self, event_id: Uuid) -> broadcast::Receiver<Update> {
        let mut watched = self.watched.lock().unwrap_or_else(PoisonError::into_inner);
        // Forget events whose streams have all ended.
        watched.retain(|_, watch| watch.sender.receiver_count() > 0);
        watched
            .entry(event_id)
            .or_insert_with(|| Watch {
                sender: broadcast::channel(STREAM_BUFFER).0,
                seen: None,
            })
            .sender
            .subscribe()
    }

    /// A stream's snapshot: the first map changes of a newly watched event are compared with.
    pub fn seen(&self, event_id: Uuid, map: &SeatMap) {
        let mut watched = self.watched.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(watch) = watched.get_mut(&event_id) {
            if watch.seen.is_none() {
                watch.seen = Some((map.version, statuses(map)));
            }
        }
    }

    /// The cached body of `GET …/seats` for `event_id` if it shows `version`.
    pub fn cached(&self, event_id: Uuid, version: i64) -> Option<Bytes> {
        let cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        cache
            .get(&event_id)
            .filter(|(cached, _)| *cached == version)
            .map(|(_, body)| body.clone())
    }

    pub fn store(&self, event_id: Uuid, version: i64, body: Bytes) {
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.len() >= CACHE_MAX_EVENTS {
            cache.clear();
        }
        match cache.get(&event_id) {
            Some((cached, _)) if *cached > version => {}
            _ => {
                cache.insert(event_id, (version, body));
            }
        }
    }

    /// Follows the watched events until `shutdown`.
    pub async fn follow(self: Arc<Self>, pool: PgPool, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(POLL_INTERVAL) => {}
            }
            if let Err(err) = self.poll(&pool).await {
                tracing::warn!(error = %err, "following seat changes failed");
            }
        }
    }

    /// One round: reads the versions of the watched events, and the seat map of each that
    /// moved, and sends what changed.
    async fn poll(&self, pool: &PgPool) -> Result<(), sqlx::Error> {
        let known: HashMap<Uuid, i64> = {
            let watched = self.watched.lock().unwrap_or_else(PoisonError::into_inner);
            watched
                .iter()
                .map(|(id, watch)| (*id, watch.seen.as_ref().map_or(-1, |(v, _)| *v)))
                .collect()
        };
        if known.is_empty() {
            return Ok(());
        }
        let ids: Vec<Uuid> = known.keys().copied().collect();
        for (event_id, version) in seats::versions(pool, &ids).await? {
            if known.get(&event_id) == Some(&version) {
                continue;
            }
            match seats::seat_map(pool, event_id).await {
                Ok(Some(map)) => self.moved(event_id, &map),
                Ok(None) => {}
                Err(err) => {
                    self.send(event_id, Update::Resync);
                    return Err(err);
                }
            }
        }
        Ok(())
    }

    /// Sends the seats of `map` whose status differs from the last map of `event_id`.
    fn moved(&self, event_id: Uuid, map: &SeatMap) {
        let mut watched = self.watched.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(watch) = watched.get_mut(&event_id) else {
            return;
        };
        let Some((seen_version, seen)) = watch.seen.as_mut() else {
            // Streams opened before the event had seats: they need a whole snapshot.
            watch.seen = Some((map.version, statuses(map)));
            let _ = watch.sender.send(Update::Resync);
            return;
        };
        if map.version <= *seen_version {
            return;
        }
        let seats: Vec<(Uuid, SeatStatus)> = map
            .seats
            .iter()
            .filter(|seat| seen.get(&seat.id) != Some(&seat.status))
            .map(|seat| (seat.id, seat.status))
            .collect();
        *seen_version = map.version;
        *seen = statuses(map);
        // No receiver left is fine: the next subscribe forgets the event.
        let _ = watch.sender.send(Update::Changed(Arc::new(SeatChanges {
            version: map.version,
            seats,
        })));
    }

    fn send(&self, event_id: Uuid, update: Update) {
        let watched = self.watched.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(watch) = watched.get(&event_id) {
            let _ = watch.sender.send(update);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::seat::Section;
    use crate::store::seats::SeatRow;

    fn map(version: i64, statuses: &[(Uuid, SeatStatus)]) -> SeatMap {
        SeatMap {
            version,
            seats: statuses
                .iter()
                .map(|(id, status)| SeatRow {
                    id: *id,
                    section: Section::Vip,
                    row: "A".into(),
                    number: 1,
                    status: *status,
                })
                .collect(),
        }
    }

    #[test]
    fn a_stream_hears_exactly_the_seats_that_moved_since_its_snapshot() -> anyhow::Result<()> {
        let live = Live::default();
        let event = Uuid::new_v4();
        let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let mut rx = live.subscribe(event);
        use SeatStatus::{Available, Locked, Reserved};
        live.seen(
            event,
            &map(1, &[(a, Locked), (b, Available), (c, Available)]),
        );
        live.moved(
            event,
            &map(3, &[(a, Reserved), (b, Locked), (c, Available)]),
        );
        match rx.try_recv()? {
            Update::Changed(changes) => {
                assert_eq!(changes.version, 3);
                assert_eq!(changes.seats.len(), 2);
                assert!(changes.seats.contains(&(a, Reserved)));
                assert!(changes.seats.contains(&(b, Locked)));
            }
            Update::Resync => anyhow::bail!("unexpected resync"),
        }
        // An older map (a slower reader) changes nothing.
        live.moved(
            event,
            &map(2, &[(a, Available), (b, Available), (c, Available)]),
        );
        assert!(rx.try_recv().is_err());
        Ok(())
    }

    #[test]
    fn an_event_that_gets_seats_after_its_streams_opened_resyncs_them() -> anyhow::Result<()> {
        let live = Live::default();
        let event = Uuid::new_v4();
        let mut rx = live.subscribe(event);
        live.moved(event, &map(0, &[(Uuid::new_v4(), SeatStatus::Available)]));
        assert!(matches!(rx.try_recv()?, Update::Resync));
        Ok(())
    }

    #[test]
    fn the_cache_serves_only_the_version_asked_for() {
        let live = Live::default();
        let event = Uuid::new_v4();
        live.store(event, 4, Bytes::from_static(b"v4"));
        assert_eq!(live.cached(event, 4), Some(Bytes::from_static(b"v4")));
        assert_eq!(live.cached(event, 5), None);
        // A slower request never replaces a newer map.
        live.store(event, 3, Bytes::from_static(b"v3"));
        assert_eq!(live.cached(event, 4), Some(Bytes::from_static(b"v4")));
    }
}
