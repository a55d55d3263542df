//! MongoDB access (MongoDB 7 and FerretDB v1.24 alike: CRUD, simple and unique indexes,
//! `findAndModify`; no transactions). No HTTP types here.
//!
//! One collection, `notifications`: one document per triggering Kafka message, string `_id`s
//! (lowercase UUID v4), BSON dates. A unique index on `message_id` is what makes a redelivered
//! message find the record of the first delivery instead of making a second one.

use mongodb::bson::{doc, DateTime as BsonDateTime};
use mongodb::error::Error as MongoError;
use mongodb::options::{FindOneAndUpdateOptions, ReturnDocument};
use mongodb::{Collection, Database};
use serde::{Deserialize, Serialize};
use ticketflow_common::mongo;

pub use ticketflow_common::mongo::{is_duplicate, is_unavailable};

pub const NOTIFICATIONS: &str = "notifications";

pub type StoreResult<T> = Result<T, MongoError>;

/// `status`: recorded and not sent yet (or being retried), sent, given up on.
pub const PENDING: &str = "PENDING";
pub const SENT: &str = "SENT";
pub const FAILED: &str = "FAILED";

/// What the mail was about, for the reader of `/recent` (and operators).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// The Kafka `messageId` that triggered the mail.
    pub message_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub venue_name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seat_labels: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_amount: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One sending attempt and how it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub at: BsonDateTime,
    /// `SENT` or `FAILED`.
    pub status: String,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub message_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub user_id: String,
    pub booking_id: Option<String>,
    pub recipient_email: String,
    pub subject: String,
    pub status: String,
    /// The last attempt's error.
    pub error: Option<String>,
    pub metadata: Metadata,
    #[serde(default)]
    pub attempts: Vec<Attempt>,
    pub created_at: BsonDateTime,
    pub sent_at: Option<BsonDateTime>,
    /// Set while an attempt is under way: another delivery of the message leaves the mail to
    /// it until the claim is older than an attempt can last.
    pub sending_since: Option<BsonDateTime>,
}

#[derive(Clone)]
pub struct Store {
    db: Database,
    notifications: Collection<NotificationDoc>,
}

impl Store {
    /// See [`mongo::database`]: fails fast, does not need the server up yet.
    pub async fn connect(url: &str, db_name: &str) -> StoreResult<Self> {
        Ok(Self::new(
            mongo::database(url, db_name, "notification-service").await?,
        ))
    }

    pub fn new(db: Database) -> Self {
        Self {
            notifications: db.collection(NOTIFICATIONS),
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
            (doc! {"message_id": 1}, MESSAGE_ID_INDEX, true),
            (doc! {"user_id": 1, "created_at": -1}, "user_recent", false),
        ];
        mongo::create_missing_indexes(&self.notifications, &wanted).await
    }

    /// Records `record` unless its message was recorded before; either way returns the stored
    /// record of the message.
    pub async fn record(&self, record: &NotificationDoc) -> StoreResult<NotificationDoc> {
        match self.notifications.insert_one(record).await {
            Ok(_) => Ok(record.clone()),
            Err(err) if is_duplicate(&err) => self
                .notifications
                .find_one(doc! {"message_id": &record.message_id})
                .await?
                .ok_or(err),
            Err(err) => Err(err),
        }
    }

    /// Takes the right to attempt a `PENDING` notification: nobody holds it, or its holder
    /// claimed it before `lapsed_before` (and so died mid-attempt). `None` when another
    /// attempt holds it or it is no longer pending.
    pub async fn claim(
        &self,
        id: &str,
        now: BsonDateTime,
        lapsed_before: BsonDateTime,
    ) -> StoreResult<Option<NotificationDoc>> {
        let options = FindOneAndUpdateOptions::builder()
            .return_document(ReturnDocument::After)
            .build();
        self.notifications
            .find_one_and_update(
                doc! {
                    "_id": id,
                    "status": PENDING,
                    "$or": [{"sending_since": null}, {"sending_since": {"$lt": lapsed_before}}],
                },
                doc! {"$set": {"sending_since": now}},
            )
            .with_options(options)
            .await
    }

    /// Ends the attempt claimed at `claimed`: `status` becomes `SENT`, `FAILED` or stays
    /// `PENDING` (a retry follows), the attempt is appended, the claim released.
    pub async fn finish(
        &self,
        id: &str,
        claimed: BsonDateTime,
        status: &str,
        attempt: &Attempt,
    ) -> StoreResult<()> {
        let mut set =
            doc! {"status": status, "error": attempt.error.clone(), "sending_since": null};
        if attempt.status == SENT {
            set.insert("sent_at", attempt.at);
        }
        let attempt = mongodb::bson::to_bson(attempt)?;
        self.notifications
            .update_one(
                doc! {"_id": id, "sending_since": claimed},
                doc! {"$set": set, "$push": {"attempts": attempt}},
            )
            .await?;
        Ok(())
    }

    pub async fn by_message_id(&self, message_id: &str) -> StoreResult<Option<NotificationDoc>> {
        self.notifications
            .find_one(doc! {"message_id": message_id})
            .await
    }

    /// The `limit` newest notifications of `user_id`, newest first.
    pub async fn recent(&self, user_id: &str, limit: i64) -> StoreResult<Vec<NotificationDoc>> {
        use futures::TryStreamExt as _;
        self.notifications
            .find(doc! {"user_id": user_id})
            .sort(doc! {"created_at": -1, "_id": -1})
            .limit(limit)
            .await?
            .try_collect()
            .await
    }
}

/// The unique index on `message_id`.
pub const MESSAGE_ID_INDEX: &str = "message_id_unique";
