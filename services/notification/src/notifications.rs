//! The operations: deliver one triggering message's mail at most once, and the caller's recent
//! notifications. They fail with [`NotificationError`].
//!
//! **Once per message.** The notification is recorded under the message's `messageId`
//! (unique index) *before* anything is sent; a redelivery finds that record and sends nothing
//! new once it is `SENT` or `FAILED`. An attempt first claims the record (`sending_since`), so
//! two deliveries of one message never send at the same time; a claim older than an attempt
//! can last belonged to a process that died mid-attempt and is taken over. The one window for
//! a second copy is a process dying between the SMTP server's acceptance and the write that
//! records it; the `Message-ID` header is the same on every attempt so a mail client can fold
//! such a copy.
//!
//! **Every attempt is stored** in `attempts` with its outcome and error. A transient SMTP
//! failure is retried (the consumer's backoff) until `SMTP_MAX_ATTEMPTS`, then the record is
//! `FAILED` and the message dead-lettered; a permanent one (bad address, 5xx) fails at once.

use chrono::{DateTime, Utc};
use ticketflow_common::kafka::messages::{
    BookingCancelled, BookingConfirmed, BookingFailed, UserRegistered,
};
use ticketflow_common::kafka::Envelope;
use ticketflow_common::AuthUser;
use uuid::Uuid;

use crate::error::NotificationError;
use crate::mail::{self, Mail, Presentation};
use crate::mailer::SendError;
use crate::state::AppState;
use crate::store::{Attempt, Metadata, NotificationDoc, Store, FAILED, PENDING, SENT};

/// `GET /api/notifications/recent` answers this many.
pub const RECENT: i64 = 20;

/// A triggering message, its mail rendered.
#[derive(Debug, Clone)]
pub struct Notice {
    pub message_id: Uuid,
    pub user_id: Uuid,
    pub booking_id: Option<Uuid>,
    pub metadata: Metadata,
    pub mail: Mail,
}

impl Notice {
    pub fn welcome(m: &Envelope<UserRegistered>, p: &Presentation) -> askama::Result<Self> {
        Ok(Self {
            message_id: m.message_id,
            user_id: m.payload.user_id,
            booking_id: None,
            metadata: metadata(m.message_id),
            mail: mail::welcome(&m.payload, p)?,
        })
    }

    pub fn confirmed(m: &Envelope<BookingConfirmed>, p: &Presentation) -> askama::Result<Self> {
        let b = &m.payload;
        Ok(Self {
            message_id: m.message_id,
            user_id: b.user_id,
            booking_id: Some(b.booking_id),
            metadata: Metadata {
                event_id: Some(b.event_id.to_string()),
                event_name: Some(b.event_name.clone()),
                event_date: Some(b.event_date.clone()),
                venue_name: Some(b.venue_name.clone()),
                seat_labels: b.seat_labels.clone(),
                total_amount: Some(b.total_amount),
                currency: Some(b.currency.clone()),
                ..metadata(m.message_id)
            },
            mail: mail::confirmed(b, m.timestamp, p)?,
        })
    }

    pub fn failed(m: &Envelope<BookingFailed>, p: &Presentation) -> askama::Result<Self> {
        let b = &m.payload;
        Ok(Self {
            message_id: m.message_id,
            user_id: b.user_id,
            booking_id: Some(b.booking_id),
            metadata: Metadata {
                event_id: Some(b.event_id.to_string()),
                event_name: Some(b.event_name.clone()),
                reason: Some(b.reason.clone()),
                ..metadata(m.message_id)
            },
            mail: mail::failed(b, p)?,
        })
    }

    pub fn cancelled(m: &Envelope<BookingCancelled>, p: &Presentation) -> askama::Result<Self> {
        let b = &m.payload;
        Ok(Self {
            message_id: m.message_id,
            user_id: b.user_id,
            booking_id: Some(b.booking_id),
            metadata: Metadata {
                event_id: Some(b.event_id.to_string()),
                event_name: Some(b.event_name.clone()),
                seat_labels: b.seat_labels.clone(),
                total_amount: Some(b.total_amount),
                currency: Some(b.currency.clone()),
                ..metadata(m.message_id)
            },
            mail: mail::cancelled(b, p)?,
        })
    }

    fn record(&self, now: DateTime<Utc>) -> NotificationDoc {
        NotificationDoc {
            id: Uuid::new_v4().to_string(),
            message_id: self.message_id.to_string(),
            kind: self.mail.kind.as_str().to_owned(),
            user_id: self.user_id.to_string(),
            booking_id: self.booking_id.map(|id| id.to_string()),
            recipient_email: self.mail.to.clone(),
            subject: self.mail.subject.clone(),
            status: PENDING.to_owned(),
            error: None,
            metadata: self.metadata.clone(),
            attempts: Vec::new(),
            created_at: bson_time(now),
            sent_at: None,
            sending_since: None,
        }
    }
}

fn metadata(message_id: Uuid) -> Metadata {
    Metadata {
        message_id: message_id.to_string(),
        ..Metadata::default()
    }
}

pub fn bson_time(at: DateTime<Utc>) -> mongodb::bson::DateTime {
    mongodb::bson::DateTime::from_millis(at.timestamp_millis())
}

/// What delivering a notice did.
#[derive(Debug, PartialEq, Eq)]
pub enum Delivered {
    /// This call sent the mail.
    Sent,
    /// The message was dealt with before (`SENT` or `FAILED`): nothing sent.
    Repeated,
}

/// Sends `notice`'s mail unless its message was dealt with before (see the module docs).
pub async fn deliver(state: &AppState, notice: &Notice) -> Result<Delivered, NotificationError> {
    let store = state.store()?;
    let now = Utc::now();
    let record = store.record(&notice.record(now)).await?;
    if record.status != PENDING {
        return Ok(Delivered::Repeated);
    }
    let claimed_at = bson_time(now);
    let lapsed_before = bson_time(now - state.claim_lease);
    let Some(claimed) = store.claim(&record.id, claimed_at, lapsed_before).await? else {
        return match store.by_message_id(&record.message_id).await? {
            Some(done) if done.status != PENDING => Ok(Delivered::Repeated),
            _ => Err(NotificationError::InProgress),
        };
    };
    let attempt_no = claimed.attempts.len() + 1;
    let sent = state.mailer.send(&notice.mail, &record.id).await;
    let finished_at = bson_time(Utc::now());
    let kind = notice.mail.kind.as_str();
    let (status, error) = match &sent {
        Ok(()) => (SENT, None),
        Err(SendError::Transient(_)) if attempt_no < state.max_attempts => {
            (PENDING, sent.as_ref().err())
        }
        Err(_) => (FAILED, sent.as_ref().err()),
    };
    let attempt = Attempt {
        at: finished_at,
        status: if status == SENT { SENT } else { FAILED }.to_owned(),
        error: error.map(ToString::to_string),
    };
    finish(store, &record.id, claimed_at, status, &attempt).await?;
    metrics::counter!("notifications_attempts_total", "type" => kind, "outcome" => attempt.status.clone())
        .increment(1);
    match sent {
        Ok(()) => Ok(Delivered::Sent),
        Err(err) if status == PENDING => Err(NotificationError::Smtp(err.to_string())),
        Err(err) => Err(NotificationError::Undeliverable(format!(
            "gave up after {attempt_no} attempt(s): {err}"
        ))),
    }
}

async fn finish(
    store: &Store,
    id: &str,
    claimed_at: mongodb::bson::DateTime,
    status: &str,
    attempt: &Attempt,
) -> Result<(), NotificationError> {
    store.finish(id, claimed_at, status, attempt).await?;
    Ok(())
}

/// The caller's [`RECENT`] newest notifications, newest first (never anyone else's).
pub async fn recent(
    store: &Store,
    caller: &AuthUser,
) -> Result<Vec<NotificationDoc>, NotificationError> {
    Ok(store.recent(&caller.id.to_string(), RECENT).await?)
}
