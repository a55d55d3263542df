//! What MongoDB services share (feature `mongo`): connecting, creating indexes, error
//! classification, per-document update locks for FerretDB v1, and the in-document outbox.
//!
//! MongoDB (and FerretDB) give no multi-document transaction, so a message is written inside
//! the document whose change it announces, in the same insert or update (fields [`OUTBOX`] and
//! [`OUTBOX_PENDING_SINCE`]). The writer publishes it at once and clears it
//! ([`publish_pending`]); a [`Relay`] republishes whatever stayed pending longer than a grace
//! period (process died, Kafka down). Delivery is at least once; the `messageId` is fixed when
//! the message is created, so consumers recognise a repeat.
//!
//! [`DocumentOutbox`] is the collection-level part for any collection of documents with a
//! string `_id`; a service whose store already claims and clears on its own implements
//! [`OutboxStore`] instead.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use mongodb::bson::{doc, Bson, DateTime as BsonDateTime, Document};
use mongodb::error::{Error as MongoError, ErrorKind, WriteFailure};
use mongodb::options::{ClientOptions, IndexOptions, ReturnDocument};
use mongodb::{Client, Collection, Database, IndexModel};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::kafka::{correlation_headers, Envelope, Message, Producer};

/// The field holding a document's unpublished messages.
pub const OUTBOX: &str = "outbox";
/// When the messages were queued or last claimed by a relay (absent when none are pending).
pub const OUTBOX_PENDING_SINCE: &str = "outbox_pending_since";
/// Documents one relay pass handles at most before sleeping again.
const MAX_PER_PASS: usize = 100;

/// `db_name` on the server at `url`, through a client that fails fast (3 s) when the server
/// is unreachable, so requests answer `503` instead of hanging. Does not need the server to be
/// up yet; `app_name` names the client in the server's logs.
pub async fn database(url: &str, db_name: &str, app_name: &str) -> Result<Database, MongoError> {
    let mut options = ClientOptions::parse(url).await?;
    options.app_name = Some(app_name.to_owned());
    options.server_selection_timeout = Some(Duration::from_secs(3));
    options.connect_timeout = Some(Duration::from_secs(3));
    Ok(Client::with_options(options)?.database(db_name))
}

pub async fn ping(db: &Database) -> Result<(), MongoError> {
    db.run_command(doc! {"ping": 1}).await?;
    Ok(())
}

/// An index a store wants: its keys, its name, and whether it is unique.
pub type IndexSpec = (Document, &'static str, bool);

/// Creates the indexes of `wanted` that `collection` lacks (idempotent), one `createIndexes`
/// each: FerretDB v1.24 drops the connection when one call names indexes that all exist.
pub async fn create_missing_indexes<T: Send + Sync>(
    collection: &Collection<T>,
    wanted: &[IndexSpec],
) -> Result<(), MongoError> {
    // `listIndexes` on a collection that does not exist yet fails (NamespaceNotFound).
    let existing = collection.list_index_names().await.unwrap_or_default();
    for (keys, name, unique) in wanted {
        if existing.iter().any(|n| n == name) {
            continue;
        }
        let options = IndexOptions::builder()
            .name((*name).to_owned())
            .unique(*unique)
            .build();
        let model = IndexModel::builder()
            .keys(keys.clone())
            .options(options)
            .build();
        collection.create_index(model).await?;
    }
    Ok(())
}

/// `true` for a unique-index violation (`E11000`), e.g. an `_id` that already exists.
pub fn is_duplicate(err: &MongoError) -> bool {
    match err.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(e)) => e.code == 11000,
        ErrorKind::Command(e) => e.code == 11000,
        _ => false,
    }
}

/// `true` when the server could not be reached (as opposed to a rejected operation).
pub fn is_unavailable(err: &MongoError) -> bool {
    matches!(
        err.kind.as_ref(),
        ErrorKind::ServerSelection { .. }
            | ErrorKind::Io(_)
            | ErrorKind::ConnectionPoolCleared { .. }
            | ErrorKind::DnsResolve { .. }
            | ErrorKind::Shutdown
    )
}

/// Serialises this process's updates of one document.
///
/// MongoDB applies each update atomically to its document. FerretDB v1 (SQLite) reads the
/// document, applies the operators and writes the whole document back, so two concurrent
/// updates of one document can lose one of them (FerretDB/FerretDB#3040). Every update of a
/// document goes through one of these striped locks, which closes that window within a
/// process; on MongoDB they are merely redundant.
pub struct UpdateLocks {
    stripes: Vec<tokio::sync::Mutex<()>>,
}

impl Default for UpdateLocks {
    fn default() -> Self {
        Self::new()
    }
}

impl UpdateLocks {
    const STRIPES: usize = 64;

    pub fn new() -> Self {
        Self {
            stripes: (0..Self::STRIPES)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
        }
    }

    /// Holds the stripe of `id` until the guard is dropped.
    pub async fn lock(&self, id: &str) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        id.hash(&mut hasher);
        let index = (hasher.finish() % Self::STRIPES as u64) as usize;
        match self.stripes.get(index) {
            Some(stripe) => Some(stripe.lock().await),
            None => None,
        }
    }
}

/// A message waiting inside its document until it is on Kafka.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxMessage {
    /// The envelope's `messageId`, fixed when the message is created so retries are
    /// recognisable duplicates.
    pub id: String,
    /// The contract topic (the producer adds `KAFKA_TOPIC_PREFIX`).
    pub topic: String,
    pub key: String,
    /// The JSON envelope, exactly as it goes on the wire.
    pub payload: String,
    pub headers: Vec<OutboxHeader>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxHeader {
    pub name: String,
    pub value: String,
}

impl OutboxMessage {
    /// `payload` in a new envelope, on its topic under its key, with the current request's
    /// correlation headers (fresh ones outside a request).
    pub fn new<M: Message>(payload: M) -> anyhow::Result<Self> {
        let key = payload.key();
        let envelope = Envelope::new(payload);
        Ok(Self {
            id: envelope.message_id.to_string(),
            topic: M::TOPIC.to_owned(),
            key,
            payload: serde_json::to_string(&envelope)?,
            headers: correlation_headers()
                .into_iter()
                .map(|(name, value)| OutboxHeader {
                    name,
                    value: String::from_utf8_lossy(&value).into_owned(),
                })
                .collect(),
        })
    }

    async fn send(&self, producer: &Producer) -> anyhow::Result<()> {
        let headers: Vec<(String, Vec<u8>)> = self
            .headers
            .iter()
            .map(|h| (h.name.clone(), h.value.clone().into_bytes()))
            .collect();
        producer
            .send_raw(
                &self.topic,
                Some(&self.key),
                self.payload.as_bytes(),
                &headers,
            )
            .await?;
        tracing::info!(topic = %self.topic, key = %self.key, message_id = %self.id, "published");
        Ok(())
    }
}

/// One document's pending messages, as written or as claimed by a relay.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    /// The document's `_id`.
    pub id: String,
    /// Its `outbox_pending_since`: clearing succeeds only while it is unchanged.
    pub since: BsonDateTime,
    pub messages: Vec<OutboxMessage>,
}

/// Where pending messages live: claim the oldest due document, clear a published one.
pub trait OutboxStore: Clone + Send + Sync + 'static {
    /// Claims the oldest document whose messages have been pending since `cutoff` or earlier,
    /// by moving its `outbox_pending_since` to `now` (a lease other relays respect).
    fn claim_due(
        &self,
        cutoff: BsonDateTime,
        now: BsonDateTime,
    ) -> impl Future<Output = Result<Option<Pending>, MongoError>> + Send;

    /// Removes the published messages, unless someone re-claimed the document meanwhile
    /// (then they stay and are published again: at least once). `true` if removed.
    fn clear(
        &self,
        id: &str,
        since: BsonDateTime,
    ) -> impl Future<Output = Result<bool, MongoError>> + Send;
}

/// Publishes `pending`'s messages in order, then clears them from the document. Returns how
/// many were sent. A failure leaves them pending for the relay.
pub async fn publish_pending<S: OutboxStore>(
    store: &S,
    producer: &Producer,
    pending: &Pending,
) -> anyhow::Result<usize> {
    for message in &pending.messages {
        message.send(producer).await?;
    }
    store
        .clear(&pending.id, pending.since)
        .await
        .context("clearing published outbox")?;
    Ok(pending.messages.len())
}

/// Republishes messages that stayed pending longer than `grace`.
#[derive(Clone)]
pub struct Relay<S> {
    store: S,
    producer: Producer,
    interval: Duration,
    grace: Duration,
}

impl<S: OutboxStore> Relay<S> {
    pub fn new(store: S, producer: Producer, interval: Duration, grace: Duration) -> Self {
        Self {
            store,
            producer,
            interval,
            grace,
        }
    }

    /// Polls every `interval` until `shutdown` fires. Errors are logged, never fatal.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                result = self.publish_due() => match result {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(messages = n, "outbox relay republished pending messages"),
                    Err(err) => tracing::warn!(error = format!("{err:#}"), "outbox relay pass failed"),
                },
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(self.interval) => {}
            }
        }
    }

    /// One pass: claims and publishes due documents one by one; stops at the first failure
    /// (the claimed document's lease runs out after `grace`, then it is tried again).
    pub async fn publish_due(&self) -> anyhow::Result<usize> {
        let mut sent = 0;
        for _ in 0..MAX_PER_PASS {
            let now = crate::time::now();
            let grace = chrono::Duration::from_std(self.grace).unwrap_or_default();
            let cutoff = BsonDateTime::from_millis((now - grace).timestamp_millis());
            let now = BsonDateTime::from_millis(now.timestamp_millis());
            let Some(pending) = self.store.claim_due(cutoff, now).await? else {
                break;
            };
            sent += publish_pending(&self.store, &self.producer, &pending).await?;
        }
        Ok(sent)
    }
}

/// The [`OutboxStore`] of a collection whose documents have a string `_id` and keep their
/// messages in [`OUTBOX`] / [`OUTBOX_PENDING_SINCE`]; its updates take `locks` (share them
/// with every other update of the collection's documents).
#[derive(Clone)]
pub struct DocumentOutbox {
    collection: Collection<Document>,
    locks: Arc<UpdateLocks>,
}

impl DocumentOutbox {
    pub fn new(collection: Collection<Document>, locks: Arc<UpdateLocks>) -> Self {
        Self { collection, locks }
    }

    /// How many documents still carry unpublished messages.
    pub async fn pending_count(&self) -> Result<u64, MongoError> {
        self.collection
            .count_documents(doc! {OUTBOX_PENDING_SINCE: {"$exists": true}})
            .await
    }
}

/// The pending messages `doc` carries, if any.
pub fn pending_of(doc: &Document) -> Result<Option<Pending>, MongoError> {
    let (Ok(id), Ok(since)) = (doc.get_str("_id"), doc.get_datetime(OUTBOX_PENDING_SINCE)) else {
        return Ok(None);
    };
    let messages = match doc.get(OUTBOX) {
        Some(value @ Bson::Array(_)) => mongodb::bson::from_bson(value.clone())
            .map_err(|e| MongoError::custom(format!("undecodable outbox of {id}: {e}")))?,
        _ => Vec::new(),
    };
    Ok(Some(Pending {
        id: id.to_owned(),
        since: *since,
        messages,
    }))
}

impl OutboxStore for DocumentOutbox {
    async fn claim_due(
        &self,
        cutoff: BsonDateTime,
        now: BsonDateTime,
    ) -> Result<Option<Pending>, MongoError> {
        // Find a candidate, then claim it under its update lock, guarded by the value seen (a
        // competing relay may have claimed or cleared it meanwhile: then try the next one).
        for _ in 0..10 {
            let Some(candidate) = self
                .collection
                .find_one(doc! {OUTBOX_PENDING_SINCE: {"$lte": cutoff}})
                .sort(doc! {OUTBOX_PENDING_SINCE: 1, "_id": 1})
                .await?
            else {
                return Ok(None);
            };
            let Some(seen) = pending_of(&candidate)? else {
                continue;
            };
            let _guard = self.locks.lock(&seen.id).await;
            let claimed = self
                .collection
                .find_one_and_update(
                    doc! {"_id": &seen.id, OUTBOX_PENDING_SINCE: seen.since},
                    doc! {"$set": {OUTBOX_PENDING_SINCE: now}},
                )
                .return_document(ReturnDocument::After)
                .await?;
            if let Some(claimed) = claimed {
                return pending_of(&claimed);
            }
        }
        Ok(None)
    }

    async fn clear(&self, id: &str, since: BsonDateTime) -> Result<bool, MongoError> {
        let _guard = self.locks.lock(id).await;
        let result = self
            .collection
            .update_one(
                doc! {"_id": id, OUTBOX_PENDING_SINCE: since},
                doc! {"$unset": {OUTBOX: "", OUTBOX_PENDING_SINCE: ""}},
            )
            .await?;
        Ok(result.modified_count == 1)
    }
}
