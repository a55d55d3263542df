//! MongoDB access (MongoDB 7 and FerretDB v1.24 alike: CRUD, simple and unique indexes,
//! `findAndModify`; no transactions). No HTTP types here.
//!
//! One collection, `payments`: string `_id`s (lowercase UUID v4), BSON dates, money in
//! integer minor units, and a unique index on `booking_id` — the one thing that decides that a
//! booking has at most one payment, ever. A payment document may carry `outbox` /
//! `outbox_pending_since` (its `payment.processed` until it is on Kafka; see
//! `ticketflow_common::mongo`).

use std::sync::Arc;

use mongodb::bson::{doc, Document};
use mongodb::error::Error as MongoError;
use mongodb::{Collection, Database};
use serde::{Deserialize, Serialize};
use ticketflow_common::mongo::{
    self, DocumentOutbox, OutboxMessage, OutboxStore, Pending, UpdateLocks,
};

pub use mongodb::bson::DateTime as BsonDateTime;
pub use ticketflow_common::mongo::{is_duplicate, is_unavailable};

pub const PAYMENTS: &str = "payments";

pub type StoreResult<T> = Result<T, MongoError>;

/// `status` values. The mock provider answers at once, so a stored payment is never
/// `PENDING`; the value is part of the contract for a provider that answers later.
pub const PENDING: &str = "PENDING";
pub const SUCCESS: &str = "SUCCESS";
pub const FAILED: &str = "FAILED";
pub const REFUNDED: &str = "REFUNDED";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub booking_id: String,
    pub user_id: String,
    pub amount_minor: i64,
    pub currency: String,
    pub status: String,
    pub reason: Option<String>,
    pub provider_ref: Option<String>,
    pub created_at: BsonDateTime,
    pub updated_at: BsonDateTime,
    pub processed_at: Option<BsonDateTime>,
    pub refunded_at: Option<BsonDateTime>,
    /// Written by a booking ending before any payment request was handled: the booking may
    /// never be charged (status `FAILED`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub void: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outbox: Vec<OutboxMessage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbox_pending_since: Option<BsonDateTime>,
}

impl PaymentDoc {
    /// The messages it carries, if any are pending.
    pub fn pending(&self) -> Option<Pending> {
        Some(Pending {
            id: self.id.clone(),
            since: self.outbox_pending_since?,
            messages: self.outbox.clone(),
        })
    }
}

pub fn bson_time(at: &chrono::DateTime<chrono::Utc>) -> BsonDateTime {
    BsonDateTime::from_millis(at.timestamp_millis())
}

pub fn chrono_time(at: BsonDateTime) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(at.timestamp_millis()).unwrap_or_default()
}

#[derive(Clone)]
pub struct Store {
    db: Database,
    payments: Collection<PaymentDoc>,
    outbox: DocumentOutbox,
    /// Every update of a payment document takes its id's lock (FerretDB v1 rewrites whole
    /// documents: see `UpdateLocks`).
    locks: Arc<UpdateLocks>,
}

impl Store {
    /// See [`mongo::database`]: fails fast, does not need the server up yet.
    pub async fn connect(url: &str, db_name: &str) -> StoreResult<Self> {
        Ok(Self::new(
            mongo::database(url, db_name, "payment-service").await?,
        ))
    }

    pub fn new(db: Database) -> Self {
        let locks = Arc::new(UpdateLocks::new());
        Self {
            payments: db.collection(PAYMENTS),
            outbox: DocumentOutbox::new(db.collection::<Document>(PAYMENTS), locks.clone()),
            locks,
            db,
        }
    }

    pub fn database(&self) -> &Database {
        &self.db
    }

    pub async fn ping(&self) -> StoreResult<()> {
        mongo::ping(&self.db).await
    }

    /// Creates the indexes that are missing (idempotent).
    pub async fn ensure_indexes(&self) -> StoreResult<()> {
        let wanted = [
            (doc! {"booking_id": 1}, "booking_id_unique", true),
            (
                doc! {"outbox_pending_since": 1},
                "outbox_pending_since",
                false,
            ),
        ];
        mongo::create_missing_indexes(&self.payments, &wanted).await
    }

    /// Inserts the payment with its pending messages in one write; a second document for the
    /// same booking fails with a duplicate-key error (`is_duplicate`).
    pub async fn insert(&self, payment: &PaymentDoc) -> StoreResult<()> {
        self.payments.insert_one(payment).await?;
        Ok(())
    }

    pub async fn by_id(&self, id: &str) -> StoreResult<Option<PaymentDoc>> {
        self.payments.find_one(doc! {"_id": id}).await
    }

    pub async fn by_booking(&self, booking_id: &str) -> StoreResult<Option<PaymentDoc>> {
        self.payments
            .find_one(doc! {"booking_id": booking_id})
            .await
    }

    /// `SUCCESS` → `REFUNDED` (one conditional update: a redelivery matches nothing).
    /// `true` if this call refunded it.
    pub async fn refund(&self, id: &str, at: BsonDateTime) -> StoreResult<bool> {
        let _guard = self.locks.lock(id).await;
        let result = self
            .payments
            .update_one(
                doc! {"_id": id, "status": SUCCESS},
                doc! {"$set": {"status": REFUNDED, "refunded_at": at, "updated_at": at}},
            )
            .await?;
        Ok(result.modified_count == 1)
    }

    /// The outbox of the payments collection (claim, clear, count), for the relay.
    pub fn outbox(&self) -> &DocumentOutbox {
        &self.outbox
    }
}

impl OutboxStore for Store {
    async fn claim_due(
        &self,
        cutoff: BsonDateTime,
        now: BsonDateTime,
    ) -> StoreResult<Option<Pending>> {
        self.outbox.claim_due(cutoff, now).await
    }

    async fn clear(&self, id: &str, since: BsonDateTime) -> StoreResult<bool> {
        self.outbox.clear(id, since).await
    }
}
