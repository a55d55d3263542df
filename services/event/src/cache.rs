//! The catalogue cache: rendered answers of the catalogue reads (`GET /api/events`,
//! `GET /api/events/:id`) kept in process, correct across replicas.
//!
//! Correctness rests on one document, `catalogue_version` `{_id: "catalogue", version}`, that
//! every write to events or venues bumps (`$inc`) **after** its own write (the store's write
//! methods do it: inserts, updates, availability reports — whichever replica or consumer
//! writes). A cached answer is kept with the version read **before** it was rendered, so it is
//! at least as new as that version; a request serves it only if the version it reads is the
//! same. What a request reads is a version read that started after the request arrived: reads
//! are batched (one in flight; requests arriving meanwhile wait for the next one, which starts
//! when it ends), so a write acknowledged before a request arrived — on any replica — is
//! always seen, while a busy replica costs the database one small read per batch, not one per
//! request.
//!
//! Answers that depend on the clock carry `valid_until` (the list puts upcoming events before
//! past ones: it changes when the next event's date passes). `MAX_AGE` is only a backstop for a
//! process that died between its write and the bump (the write's request then failed). The
//! database reads (version, fills) run in spawned tasks: a client that goes away mid-request
//! must not drop a driver future, which closes the connection under the pool (seen under load:
//! the service stalled for ~20 s while FerretDB connections were replaced).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use mongodb::bson::{doc, Document};
use mongodb::error::Error as MongoError;
use mongodb::Collection;
use tokio::sync::{oneshot, OnceCell};

/// The collection holding the version document.
pub const VERSIONS: &str = "catalogue_version";
const CATALOGUE: &str = "catalogue";
/// Backstop only (see the module docs).
const MAX_AGE: Duration = Duration::from_secs(60);
/// More distinct keys than this (searches are free text) and the cache starts over.
const MAX_ENTRIES: usize = 2000;

/// One cached answer.
pub struct Cached {
    pub body: Bytes,
    /// Milliseconds since the epoch after which it may no longer be served.
    pub valid_until: Option<i64>,
    filled: Instant,
}

impl Cached {
    fn fresh(&self, now_ms: i64) -> bool {
        self.filled.elapsed() < MAX_AGE && self.valid_until.is_none_or(|until| now_ms <= until)
    }
}

type Slot = Arc<OnceCell<Arc<Cached>>>;

struct Entries {
    version: i64,
    slots: HashMap<String, Slot>,
}

#[derive(Default)]
struct Reads {
    running: bool,
    waiting: Vec<oneshot::Sender<Result<i64, MongoError>>>,
}

struct Inner {
    versions: Collection<Document>,
    reads: Mutex<Reads>,
    entries: Mutex<Entries>,
}

/// Shared by every clone of the store (one per process).
#[derive(Clone)]
pub struct Catalogue(Arc<Inner>);

impl Catalogue {
    pub fn new(versions: Collection<Document>) -> Self {
        Self(Arc::new(Inner {
            versions,
            reads: Mutex::new(Reads::default()),
            entries: Mutex::new(Entries {
                version: i64::MIN,
                slots: HashMap::new(),
            }),
        }))
    }

    /// Bumps the version: every replica's cached answers are dropped at their next request.
    /// Call after the write has succeeded.
    pub async fn bump(&self) -> Result<(), MongoError> {
        let versions = self.0.versions.clone();
        spawned(async move {
            versions
                .update_one(doc! {"_id": CATALOGUE}, doc! {"$inc": {"version": 1_i64}})
                .upsert(true)
                .await
                .map(|_| ())
        })
        .await
    }

    /// The version as a read started after this call began (batched with concurrent callers).
    pub async fn version(&self) -> Result<i64, MongoError> {
        let (tx, rx) = oneshot::channel();
        let start = {
            let mut reads = self.0.reads.lock().unwrap_or_else(PoisonError::into_inner);
            reads.waiting.push(tx);
            !std::mem::replace(&mut reads.running, true)
        };
        if start {
            tokio::spawn(Arc::clone(&self.0).read_batches());
        }
        rx.await.unwrap_or_else(|_| {
            Err(std::io::Error::other("the catalogue version read was abandoned").into())
        })
    }

    /// The cached answer for `key` if it is current, else `fill()`'s (then cached). `fill`
    /// runs in its own task and must read the database only after being called.
    pub async fn get_or_fill<F, Fut, E>(
        &self,
        key: &str,
        now_ms: i64,
        fill: F,
    ) -> Result<Arc<Cached>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(Bytes, Option<i64>), E>> + Send + 'static,
        E: From<MongoError> + Send + 'static,
    {
        let version = self.version().await?;
        let slot = self.slot(version, key, now_ms);
        let cached = slot
            .get_or_try_init(|| async {
                let (body, valid_until) = spawned(fill()).await?;
                Ok::<_, E>(Arc::new(Cached {
                    body,
                    valid_until,
                    filled: Instant::now(),
                }))
            })
            .await?;
        Ok(Arc::clone(cached))
    }

    /// The slot of `key` at `version` (a new one if the version moved or the answer aged).
    fn slot(&self, version: i64, key: &str, now_ms: i64) -> Slot {
        let mut entries = self
            .0
            .entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if version != entries.version {
            // A newer version empties the cache; an older one (a read that lost a race with a
            // newer one) must not serve or keep anything: a slot of its own.
            if version < entries.version {
                return Slot::default();
            }
            entries.version = version;
            entries.slots.clear();
        }
        if entries.slots.len() >= MAX_ENTRIES && !entries.slots.contains_key(key) {
            entries.slots.clear();
        }
        let slot = entries.slots.entry(key.to_owned()).or_default();
        if slot.get().is_some_and(|cached| !cached.fresh(now_ms)) {
            *slot = Slot::default();
        }
        Arc::clone(slot)
    }
}

impl Inner {
    async fn read_batches(self: Arc<Self>) {
        loop {
            let batch = {
                let mut reads = self.reads.lock().unwrap_or_else(PoisonError::into_inner);
                if reads.waiting.is_empty() {
                    reads.running = false;
                    return;
                }
                std::mem::take(&mut reads.waiting)
            };
            let read = self
                .versions
                .find_one(doc! {"_id": CATALOGUE})
                .await
                .map(|found| {
                    found
                        .and_then(|d| d.get_i64("version").ok())
                        .unwrap_or_default()
                });
            for waiter in batch {
                let _ = waiter.send(read.clone());
            }
        }
    }
}

/// Runs `work` in its own task, so the caller going away does not cancel it.
async fn spawned<T, E>(work: impl Future<Output = Result<T, E>> + Send + 'static) -> Result<T, E>
where
    T: Send + 'static,
    E: From<MongoError> + Send + 'static,
{
    tokio::spawn(work).await.unwrap_or_else(|err| {
        Err(MongoError::from(std::io::Error::other(format!("catalogue task: {err}"))).into())
    })
}
