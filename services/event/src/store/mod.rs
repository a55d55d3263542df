//! MongoDB access. Only features both MongoDB 7 and FerretDB v1.24 (SQLite) support: CRUD,
//! simple indexes, find with sort/skip/limit, count, `$regex`, `findAndModify`. No
//! transactions, no `$lookup`.
//!
//! Documents use string `_id`s (lowercase UUID v4), BSON dates, integer minor units for money.
//! An event document may carry `outbox` (messages not yet published) and
//! `outbox_pending_since` (when they were queued or last claimed by a relay), and, once
//! inventory-service has reported its seats, `availability_version` (the `version` of the
//! `seats.availability` message `available_seats` was last taken from).

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use mongodb::bson::{doc, Bson, Document};
use mongodb::error::Error as MongoError;
use mongodb::options::ReturnDocument;
use mongodb::{Collection, Database};
use serde::{Deserialize, Serialize};
use ticketflow_common::mongo;

use crate::cache::{Catalogue, VERSIONS};
use crate::domain::listing::{literal_pattern, ListQuery};

pub use mongodb::bson::DateTime as BsonDateTime;

pub const EVENTS: &str = "events";
pub const VENUES: &str = "venues";
/// `GET /api/venues` returns at most this many venues.
pub const MAX_VENUES: i64 = 1000;

pub type StoreResult<T> = Result<T, MongoError>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VenueDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub name: String,
    pub address: String,
    pub city: String,
    pub country: String,
    pub capacity: i64,
    pub created_at: BsonDateTime,
    pub updated_at: BsonDateTime,
}

/// A message waiting inside its document until it is on Kafka.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxMessage {
    /// The envelope's `messageId`, fixed when the message is created so retries are
    /// recognisable duplicates.
    pub id: String,
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub name: String,
    pub description: String,
    pub venue_id: String,
    pub date: BsonDateTime,
    pub price_minor: i64,
    pub currency: String,
    pub total_seats: i64,
    pub available_seats: i64,
    pub image_url: Option<String>,
    pub tags: Vec<String>,
    pub created_at: BsonDateTime,
    pub updated_at: BsonDateTime,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outbox: Vec<OutboxMessage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbox_pending_since: Option<BsonDateTime>,
    /// The `seats.availability` version `available_seats` reflects; absent until the first
    /// one arrives. Written only by [`Store::apply_availability`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_version: Option<i64>,
}

/// What [`Store::apply_availability`] did with one report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AvailabilityUpdate {
    Applied,
    /// The event already reflects this version or a later one (a redelivery or a report
    /// overtaken by a newer one): nothing changed.
    Stale,
    /// No such event: nothing changed.
    UnknownEvent,
}

pub fn bson_time(at: &DateTime<Utc>) -> BsonDateTime {
    BsonDateTime::from_millis(at.timestamp_millis())
}

pub fn chrono_time(at: BsonDateTime) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(at.timestamp_millis()).unwrap_or_default()
}

use ticketflow_common::mongo::UpdateLocks;
pub use ticketflow_common::mongo::{is_duplicate, is_unavailable};

#[derive(Clone)]
pub struct Store {
    db: Database,
    events: Collection<EventDoc>,
    venues: Collection<VenueDoc>,
    locks: std::sync::Arc<UpdateLocks>,
    catalogue: Catalogue,
}

impl Store {
    /// See [`mongo::database`]: fails fast, does not need the server up yet.
    pub async fn connect(url: &str, db_name: &str) -> StoreResult<Self> {
        Ok(Self::new(
            mongo::database(url, db_name, "event-service").await?,
        ))
    }

    pub fn new(db: Database) -> Self {
        Self {
            events: db.collection(EVENTS),
            venues: db.collection(VENUES),
            catalogue: Catalogue::new(db.collection(VERSIONS)),
            db,
            locks: std::sync::Arc::new(UpdateLocks::new()),
        }
    }

    /// The catalogue cache of this process; every write below bumps its version.
    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    pub fn database(&self) -> &Database {
        &self.db
    }

    pub async fn ping(&self) -> StoreResult<()> {
        mongo::ping(&self.db).await
    }

    /// Creates the indexes that are missing (idempotent). One `createIndexes` per missing
    /// index: FerretDB v1.24 drops the connection when a multi-index `createIndexes` names
    /// indexes that all exist already.
    pub async fn ensure_indexes(&self) -> StoreResult<()> {
        // The list's filters: a date range sorted by (date, _id), optionally per venue; the
        // case-insensitive name/description search is a regex no index can serve, so the
        // date/venue bounds are what keep it cheap.
        let events = [
            (doc! {"date": 1, "_id": 1}, "date_id", false),
            (
                doc! {"venue_id": 1, "date": 1, "_id": 1},
                "venue_id_date_id",
                false,
            ),
            (doc! {"tags": 1}, "tags", false),
            (
                doc! {"outbox_pending_since": 1},
                "outbox_pending_since",
                false,
            ),
        ];
        let venues = [
            (doc! {"city": 1, "country": 1}, "city_country", false),
            (doc! {"name": 1, "_id": 1}, "name_id", false),
        ];
        mongo::create_missing_indexes(&self.events, &events).await?;
        mongo::create_missing_indexes(&self.venues, &venues).await?;
        Ok(())
    }

    // --- venues ----------------------------------------------------------------------

    pub async fn insert_venue(&self, venue: &VenueDoc) -> StoreResult<()> {
        self.venues.insert_one(venue).await?;
        self.catalogue.bump().await
    }

    pub async fn venue(&self, id: &str) -> StoreResult<Option<VenueDoc>> {
        self.venues.find_one(doc! {"_id": id}).await
    }

    /// All venues by name (at most `MAX_VENUES`).
    pub async fn venues(&self) -> StoreResult<Vec<VenueDoc>> {
        self.venues
            .find(doc! {})
            .sort(doc! {"name": 1, "_id": 1})
            .limit(MAX_VENUES)
            .await?
            .try_collect()
            .await
    }

    pub async fn venues_by_ids(&self, ids: &[String]) -> StoreResult<Vec<VenueDoc>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.venues
            .find(doc! {"_id": {"$in": ids}})
            .await?
            .try_collect()
            .await
    }

    // --- events ----------------------------------------------------------------------

    /// Inserts the event together with its pending messages, in one document write.
    pub async fn insert_event(&self, event: &EventDoc) -> StoreResult<()> {
        self.events.insert_one(event).await?;
        self.catalogue.bump().await
    }

    pub async fn event(&self, id: &str) -> StoreResult<Option<EventDoc>> {
        self.events.find_one(doc! {"_id": id}).await
    }

    /// Applies `$set` and returns the updated document (`None`: no such event).
    pub async fn update_event(&self, id: &str, set: Document) -> StoreResult<Option<EventDoc>> {
        let updated = {
            let _guard = self.locks.lock(id).await;
            self.events
                .find_one_and_update(doc! {"_id": id}, doc! {"$set": set})
                .return_document(ReturnDocument::After)
                .await?
        };
        if updated.is_some() {
            self.catalogue.bump().await?;
        }
        Ok(updated)
    }

    /// The earliest event date at or after `now`: until it passes, the list's split into
    /// upcoming and past events stays as it is.
    pub async fn next_event_date(&self, now: &DateTime<Utc>) -> StoreResult<Option<BsonDateTime>> {
        Ok(self
            .events
            .find_one(doc! {"date": {"$gte": bson_time(now)}})
            .sort(doc! {"date": 1, "_id": 1})
            .await?
            .map(|event| event.date))
    }

    /// One page of events and the total matching `query`.
    ///
    /// Order: without `from`, upcoming events (date ≥ `now`) first, soonest first, then past
    /// events, most recent first; with `from`, plain date order. Ties break on `_id`, so the
    /// order is stable across pages.
    pub async fn list_events(
        &self,
        query: &ListQuery,
        now: DateTime<Utc>,
    ) -> StoreResult<(Vec<EventDoc>, u64)> {
        let base = base_filter(query);
        let skip = query.skip();
        let limit = u64::from(query.limit);
        let to = query.to.as_ref().map(bson_time);
        if let Some(from) = &query.from {
            let filter = with_date(base, date_range(Some(bson_time(from)), None, to));
            let total = self.events.count_documents(filter.clone()).await?;
            let page = self.page(filter, 1, skip, limit, total).await?;
            return Ok((page, total));
        }
        let total = self
            .events
            .count_documents(with_date(base.clone(), date_range(None, None, to)))
            .await?;
        let now = bson_time(&now);
        let upcoming = with_date(base.clone(), date_range(Some(now), None, to));
        let past = with_date(base, date_range(None, Some(now), to));
        let mut page = self.page(upcoming.clone(), 1, skip, limit, total).await?;
        let rest = limit.saturating_sub(page.len() as u64);
        if rest > 0 {
            // A short, non-empty upcoming page ends the upcoming events, so their number is
            // known; only a page past all of them (deep paging) needs a second count.
            let n_upcoming = if page.is_empty() && skip > 0 {
                self.events.count_documents(upcoming).await?
            } else {
                skip + page.len() as u64
            };
            let past_skip = skip.saturating_sub(n_upcoming);
            page.extend(
                self.page(past, -1, past_skip, rest, total - n_upcoming.min(total))
                    .await?,
            );
        }
        Ok((page, total))
    }

    async fn page(
        &self,
        filter: Document,
        direction: i32,
        skip: u64,
        limit: u64,
        total: u64,
    ) -> StoreResult<Vec<EventDoc>> {
        if skip >= total || limit == 0 {
            return Ok(Vec::new());
        }
        self.events
            .find(filter)
            .sort(doc! {"date": direction, "_id": 1})
            .skip(skip)
            .limit(i64::try_from(limit).unwrap_or(i64::MAX))
            .await?
            .try_collect()
            .await
    }

    // --- seat availability -----------------------------------------------------------

    /// Sets `available_seats` to `available` and `availability_version` to `version`, in one
    /// update whose filter requires the stored version to be absent or lower: a redelivered,
    /// duplicate or overtaken report matches nothing, however reports and retries interleave.
    /// `updated_at` is left alone (it dates the catalogue entry, not its seat count).
    pub async fn apply_availability(
        &self,
        id: &str,
        available: i64,
        version: i64,
    ) -> StoreResult<AvailabilityUpdate> {
        let updated = {
            let _guard = self.locks.lock(id).await;
            self.events
                .update_one(
                    doc! {
                        "_id": id,
                        "$or": [
                            {"availability_version": {"$exists": false}},
                            {"availability_version": {"$lt": version}},
                        ],
                    },
                    doc! {"$set": {"available_seats": available, "availability_version": version}},
                )
                .await?
        };
        if updated.matched_count > 0 {
            self.catalogue.bump().await?;
            return Ok(AvailabilityUpdate::Applied);
        }
        // Only to tell the two no-ops apart in the logs; the decision was the update's.
        let exists = self.events.count_documents(doc! {"_id": id}).await? > 0;
        Ok(if exists {
            // A redelivery may follow an attempt whose update landed but whose bump failed.
            self.catalogue.bump().await?;
            AvailabilityUpdate::Stale
        } else {
            AvailabilityUpdate::UnknownEvent
        })
    }

    // --- outbox ----------------------------------------------------------------------

    /// Claims the oldest event whose messages have been pending since `cutoff` or earlier,
    /// by moving its `outbox_pending_since` to `now` (a lease other relays respect).
    pub async fn claim_pending(
        &self,
        cutoff: BsonDateTime,
        now: BsonDateTime,
    ) -> StoreResult<Option<EventDoc>> {
        // Find a candidate, then claim it under its update lock, guarded by the value seen (a
        // competing relay may have claimed or cleared it meanwhile: then try the next one).
        for _ in 0..10 {
            let Some(candidate) = self
                .events
                .find_one(doc! {"outbox_pending_since": {"$lte": cutoff}})
                .sort(doc! {"outbox_pending_since": 1, "_id": 1})
                .await?
            else {
                return Ok(None);
            };
            let Some(seen) = candidate.outbox_pending_since else {
                continue;
            };
            let _guard = self.locks.lock(&candidate.id).await;
            let claimed = self
                .events
                .find_one_and_update(
                    doc! {"_id": &candidate.id, "outbox_pending_since": seen},
                    doc! {"$set": {"outbox_pending_since": now}},
                )
                .return_document(ReturnDocument::After)
                .await?;
            if claimed.is_some() {
                return Ok(claimed);
            }
        }
        Ok(None)
    }

    /// Removes the published messages, unless someone re-claimed the document meanwhile
    /// (then they stay and are published again: at least once). `true` if removed.
    pub async fn clear_outbox(&self, id: &str, pending_since: BsonDateTime) -> StoreResult<bool> {
        let _guard = self.locks.lock(id).await;
        let result = self
            .events
            .update_one(
                doc! {"_id": id, "outbox_pending_since": pending_since},
                doc! {"$unset": {"outbox": "", "outbox_pending_since": ""}},
            )
            .await?;
        Ok(result.modified_count == 1)
    }

    /// How many events still carry unpublished messages.
    pub async fn pending_count(&self) -> StoreResult<u64> {
        self.events
            .count_documents(doc! {"outbox_pending_since": {"$exists": true}})
            .await
    }
}

fn base_filter(query: &ListQuery) -> Document {
    let mut filter = Document::new();
    if let Some(venue_id) = query.venue_id {
        filter.insert("venue_id", venue_id.to_string());
    }
    if let Some(search) = &query.search {
        let pattern = doc! {"$regex": literal_pattern(search), "$options": "i"};
        filter.insert(
            "$or",
            vec![
                Bson::Document(doc! {"name": pattern.clone()}),
                Bson::Document(doc! {"description": pattern}),
                Bson::Document(doc! {"tags": search.to_lowercase()}),
            ],
        );
    }
    filter
}

fn date_range(
    gte: Option<BsonDateTime>,
    lt: Option<BsonDateTime>,
    lte: Option<BsonDateTime>,
) -> Document {
    let mut range = Document::new();
    if let Some(at) = gte {
        range.insert("$gte", at);
    }
    if let Some(at) = lt {
        range.insert("$lt", at);
    }
    if let Some(at) = lte {
        range.insert("$lte", at);
    }
    range
}

fn with_date(mut filter: Document, range: Document) -> Document {
    if !range.is_empty() {
        filter.insert("date", range);
    }
    filter
}
