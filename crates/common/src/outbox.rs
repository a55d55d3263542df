//! Transactional outbox for PostgreSQL services, plus the processed-message ledger consumers
//! use to apply each `messageId` once.
//!
//! A service writes its row change and `enqueue`s the messages it causes in one transaction;
//! the relay publishes committed rows (woken by `NOTIFY`, polling as a fallback) and marks
//! them sent. Rows of one key are published in insertion order even with several relays.

use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::PgListener;
use sqlx::{PgConnection, PgPool, Row};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::kafka::{correlation_headers, Envelope, Message, Producer};

const CHANNEL: &str = "ticketflow_outbox";
/// Serialises concurrent `migrate` calls: `CREATE ... IF NOT EXISTS` alone can still race.
const MIGRATION_LOCK: i64 = 0x7469_636b_6574_666c;

const SCHEMA: [&str; 4] = [
    "CREATE TABLE IF NOT EXISTS outbox (
        id           BIGSERIAL PRIMARY KEY,
        topic        TEXT        NOT NULL,
        message_key  TEXT        NOT NULL,
        payload      BYTEA       NOT NULL,
        headers      JSONB       NOT NULL DEFAULT '[]',
        created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
        published_at TIMESTAMPTZ
    )",
    "CREATE INDEX IF NOT EXISTS outbox_unpublished ON outbox (id) WHERE published_at IS NULL",
    "CREATE INDEX IF NOT EXISTS outbox_unpublished_key
        ON outbox (message_key, id) WHERE published_at IS NULL",
    "CREATE TABLE IF NOT EXISTS processed_messages (
        message_id   UUID        PRIMARY KEY,
        processed_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )",
];

/// Applies a service's own `migrations` and then the outbox tables. Safe to run concurrently
/// and repeatedly (sqlx takes an advisory lock around its migrations, the outbox its own).
pub async fn migrate_with(
    pool: &PgPool,
    migrations: &sqlx::migrate::Migrator,
) -> anyhow::Result<()> {
    migrations.run(pool).await.context("applying migrations")?;
    migrate(pool).await.context("creating outbox tables")
}

/// Creates the outbox and processed-message tables if missing. Safe to call concurrently.
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *tx)
        .await?;
    // One prepared statement each: `raw_sql` futures are not provably `Send`, and callers
    // migrate from spawned tasks.
    for statement in SCHEMA {
        sqlx::query(statement).execute(&mut *tx).await?;
    }
    tx.commit().await.context("creating outbox tables")?;
    Ok(())
}

/// Queues `payload` for publishing when the caller's transaction commits.
pub async fn enqueue<M: Message>(
    conn: &mut PgConnection,
    payload: M,
) -> anyhow::Result<Envelope<M>> {
    let envelope = Envelope::new(payload);
    let bytes = serde_json::to_vec(&envelope)?;
    let headers: Vec<(String, String)> = correlation_headers()
        .into_iter()
        .map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned()))
        .collect();
    sqlx::query(
        "INSERT INTO outbox (topic, message_key, payload, headers) VALUES ($1, $2, $3, $4)",
    )
    .bind(M::TOPIC)
    .bind(envelope.payload.key())
    .bind(bytes)
    .bind(sqlx::types::Json(headers))
    .execute(&mut *conn)
    .await?;
    // Delivered at commit, never for a rolled-back transaction.
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(CHANNEL)
        .execute(&mut *conn)
        .await?;
    Ok(envelope)
}

/// Records `message_id` as processed inside the caller's transaction. `false` means it was
/// processed before: skip the effect (the transaction may still commit harmlessly).
pub async fn first_delivery(conn: &mut PgConnection, message_id: Uuid) -> anyhow::Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO processed_messages (message_id) VALUES ($1) ON CONFLICT DO NOTHING",
    )
    .bind(message_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Published rows and processed-message ids are kept this long (twice Kafka's 7-day
/// retention, so a redelivered message is still recognised), then purged.
const KEEP_FOR_DAYS: i32 = 14;
const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// Deletes published outbox rows and processed-message ids older than `KEEP_FOR_DAYS`.
pub async fn purge(pool: &PgPool) -> anyhow::Result<u64> {
    let outbox =
        sqlx::query("DELETE FROM outbox WHERE published_at < now() - make_interval(days => $1)")
            .bind(KEEP_FOR_DAYS)
            .execute(pool)
            .await?
            .rows_affected();
    let processed = sqlx::query(
        "DELETE FROM processed_messages WHERE processed_at < now() - make_interval(days => $1)",
    )
    .bind(KEEP_FOR_DAYS)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(outbox + processed)
}

#[derive(Clone)]
pub struct Relay {
    pool: PgPool,
    producer: Producer,
    batch_size: i64,
    poll_interval: Duration,
}

impl Relay {
    pub fn new(pool: PgPool, producer: Producer) -> Self {
        Self {
            pool,
            producer,
            batch_size: 200,
            poll_interval: Duration::from_secs(1),
        }
    }

    /// Publishes until `shutdown` fires. Errors are logged and retried, never fatal.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut listener = None;
        let mut last_purge: Option<tokio::time::Instant> = None;
        loop {
            if last_purge.is_none_or(|at| at.elapsed() >= PURGE_EVERY) {
                last_purge = Some(tokio::time::Instant::now());
                if let Err(err) = purge(&self.pool).await {
                    tracing::warn!(error = format!("{err:#}"), "outbox purge failed");
                }
            }
            if listener.is_none() {
                listener = self.listen().await;
            }
            let published = match self.publish_batch().await {
                Ok(n) => n,
                Err(err) => {
                    tracing::warn!(error = format!("{err:#}"), "outbox relay batch failed");
                    0
                }
            };
            if published as i64 >= self.batch_size {
                continue;
            }
            let wake = async {
                match listener.as_mut() {
                    Some(l) => l.recv().await.map(|_| ()),
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => return,
                woke = wake => if woke.is_err() { listener = None },
                _ = tokio::time::sleep(self.poll_interval) => {}
            }
        }
    }

    async fn listen(&self) -> Option<PgListener> {
        let mut listener = PgListener::connect_with(&self.pool).await.ok()?;
        listener.listen(CHANNEL).await.ok()?;
        Some(listener)
    }

    /// Claims up to `batch_size` unpublished rows, publishes them and marks them, in one
    /// transaction. A row is taken only if no earlier unpublished row of its key is held by
    /// someone else, which keeps per-key order across relays. Returns how many were sent.
    pub async fn publish_batch(&self) -> anyhow::Result<usize> {
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query(
            r"
            WITH claimed AS (
                SELECT id, message_key FROM outbox
                WHERE published_at IS NULL
                ORDER BY id
                LIMIT $1
                FOR UPDATE SKIP LOCKED
            )
            SELECT o.id, o.topic, o.message_key, o.payload, o.headers
            FROM outbox o JOIN claimed c ON c.id = o.id
            WHERE NOT EXISTS (
                SELECT 1 FROM outbox earlier
                WHERE earlier.message_key = c.message_key
                  AND earlier.id < c.id
                  AND earlier.published_at IS NULL
                  AND earlier.id NOT IN (SELECT id FROM claimed)
            )
            ORDER BY o.id
            ",
        )
        .bind(self.batch_size)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let mut sent = Vec::with_capacity(rows.len());
        let sends = rows.iter().map(|row| async move {
            let topic: String = row.try_get("topic")?;
            let key: String = row.try_get("message_key")?;
            let payload: Vec<u8> = row.try_get("payload")?;
            let sqlx::types::Json(headers): sqlx::types::Json<Vec<(String, String)>> =
                row.try_get("headers")?;
            let headers: Vec<(String, Vec<u8>)> = headers
                .into_iter()
                .map(|(k, v)| (k, v.into_bytes()))
                .collect();
            self.producer
                .send_raw(&topic, Some(&key), &payload, &headers)
                .await?;
            anyhow::Ok(row.try_get::<i64, _>("id")?)
        });
        // Sent concurrently; the idempotent producer keeps per-partition order.
        for result in futures::future::join_all(sends).await {
            sent.push(result?);
        }
        sqlx::query("UPDATE outbox SET published_at = now() WHERE id = ANY($1)")
            .bind(&sent)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(sent.len())
    }
}
