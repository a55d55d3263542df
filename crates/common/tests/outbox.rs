//! The outbox relay against local PostgreSQL and Kafka.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use ticketflow_common::kafka::{Message, Producer};
use ticketflow_common::outbox::{self, Relay};
use ticketflow_testkit::{create_topic, kafka_bootstrap, TestPgDatabase, TopicWatcher};
use tokio_util::sync::CancellationToken;

const TOPIC: &str = "tftest.outbox";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Step {
    run: String,
    booking_id: String,
    seq: u32,
}

impl Message for Step {
    const EVENT_TYPE: &'static str = "step.done";
    const TOPIC: &'static str = TOPIC;
    fn key(&self) -> String {
        self.booking_id.clone()
    }
}

/// The database (dropped with it), a pool on it, a producer, a watcher on `TOPIC`, a run id.
async fn setup() -> anyhow::Result<(TestPgDatabase, sqlx::PgPool, Producer, TopicWatcher, String)> {
    create_topic(TOPIC, 3).await?;
    let db = TestPgDatabase::create().await?;
    let pool = db.pool().await?;
    // Services migrate from spawned tasks: the future must be `Send`.
    let spawned = pool.clone();
    tokio::spawn(async move { outbox::migrate(&spawned).await }).await??;
    outbox::migrate(&pool).await?; // idempotent
    let producer = Producer::new(&kafka_bootstrap()?)?;
    let watcher = TopicWatcher::new(&[TOPIC])?;
    Ok((
        db,
        pool,
        producer,
        watcher,
        uuid::Uuid::new_v4().to_string(),
    ))
}

async fn unpublished(pool: &sqlx::PgPool) -> anyhow::Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            .fetch_one(pool)
            .await?,
    )
}

#[tokio::test]
async fn publishes_committed_rows_once_and_rolled_back_rows_never() -> anyhow::Result<()> {
    let (_db, pool, producer, watcher, run) = setup().await?;
    let step = |booking: &str, seq| Step {
        run: run.clone(),
        booking_id: booking.to_owned(),
        seq,
    };

    let mut tx = pool.begin().await?;
    let committed = outbox::enqueue(&mut tx, step("kept", 1)).await?;
    tx.commit().await?;
    let mut tx = pool.begin().await?;
    outbox::enqueue(&mut tx, step("rolled-back", 1)).await?;
    tx.rollback().await?;

    // The relay starts after the commit: it must find the row by polling, not only NOTIFY.
    let shutdown = CancellationToken::new();
    let relay = tokio::spawn(Relay::new(pool.clone(), producer.clone()).run(shutdown.clone()));
    // And a row committed while it runs arrives through NOTIFY.
    let mut tx = pool.begin().await?;
    outbox::enqueue(&mut tx, step("kept", 2)).await?;
    tx.commit().await?;

    let mine = |r: &ticketflow_testkit::kafka::Received| r.payload["run"] == run.as_str();
    let got = watcher.collect(Duration::from_secs(4), mine).await?;
    shutdown.cancel();
    relay.await?;

    let seqs: Vec<(String, u64)> = got
        .iter()
        .map(|r| {
            (
                r.payload["bookingId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                r.payload["seq"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(seqs, vec![("kept".to_owned(), 1), ("kept".to_owned(), 2)]);
    assert_eq!(got[0].key.as_deref(), Some("kept"));
    assert_eq!(
        got[0].payload["messageId"],
        committed.message_id.to_string()
    );
    assert_eq!(got[0].payload["eventType"], "step.done");
    assert!(got[0].header("traceparent").is_some() && got[0].header("x-request-id").is_some());
    assert_eq!(unpublished(&pool).await?, 0);
    Ok(())
}

#[tokio::test]
async fn two_racing_relays_publish_each_row_once_in_key_order() -> anyhow::Result<()> {
    let (_db, pool, producer, watcher, run) = setup().await?;
    const KEYS: u32 = 8;
    const PER_KEY: u32 = 60;

    let shutdown = CancellationToken::new();
    let relays: Vec<_> = (0..2)
        .map(|_| tokio::spawn(Relay::new(pool.clone(), producer.clone()).run(shutdown.clone())))
        .collect();
    // Writers commit while both relays run, in many small transactions.
    for seq in 0..PER_KEY {
        let mut tx = pool.begin().await?;
        for key in 0..KEYS {
            outbox::enqueue(
                &mut tx,
                Step {
                    run: run.clone(),
                    booking_id: format!("booking-{key}"),
                    seq,
                },
            )
            .await?;
        }
        tx.commit().await?;
    }

    let total = (KEYS * PER_KEY) as usize;
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while got.len() < total && tokio::time::Instant::now() < deadline {
        got.extend(
            watcher
                .collect(Duration::from_millis(500), |r| {
                    r.payload["run"] == run.as_str()
                })
                .await?,
        );
    }
    // Anything published twice would show up shortly after.
    got.extend(
        watcher
            .collect(Duration::from_secs(1), |r| r.payload["run"] == run.as_str())
            .await?,
    );
    shutdown.cancel();
    for relay in relays {
        relay.await?;
    }

    let ids: HashSet<String> = got
        .iter()
        .map(|r| r.payload["messageId"].to_string())
        .collect();
    assert_eq!(got.len(), total, "every row published exactly once");
    assert_eq!(ids.len(), total, "no message id twice");
    let mut by_key: HashMap<String, Vec<u64>> = HashMap::new();
    for r in &got {
        by_key
            .entry(
                r.payload["bookingId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
            .or_default()
            .push(r.payload["seq"].as_u64().unwrap_or(u64::MAX));
    }
    for (key, seqs) in by_key {
        let expected: Vec<u64> = (0..u64::from(PER_KEY)).collect();
        assert_eq!(seqs, expected, "order of {key}");
    }
    assert_eq!(unpublished(&pool).await?, 0);
    Ok(())
}

#[tokio::test]
async fn first_delivery_is_recorded_once() -> anyhow::Result<()> {
    let db = TestPgDatabase::create().await?;
    let pool = db.pool().await?;
    outbox::migrate(&pool).await?;
    let id = uuid::Uuid::new_v4();
    let mut tx = pool.begin().await?;
    assert!(outbox::first_delivery(&mut tx, id).await?);
    assert!(!outbox::first_delivery(&mut tx, id).await?);
    tx.commit().await?;
    let mut tx = pool.begin().await?;
    assert!(!outbox::first_delivery(&mut tx, id).await?);
    tx.rollback().await?;
    let mut tx = pool.begin().await?;
    let other = uuid::Uuid::new_v4();
    assert!(outbox::first_delivery(&mut tx, other).await?);
    tx.rollback().await?;
    let mut tx = pool.begin().await?;
    assert!(
        outbox::first_delivery(&mut tx, other).await?,
        "rolled back, so not recorded"
    );
    tx.commit().await?;
    Ok(())
}

#[tokio::test]
async fn purge_drops_only_old_published_rows_and_ids() -> anyhow::Result<()> {
    let db = TestPgDatabase::create().await?;
    let pool = db.pool().await?;
    outbox::migrate(&pool).await?;
    for (published, age_days) in [(true, 20), (true, 1), (false, 20)] {
        sqlx::query(
            "INSERT INTO outbox (topic, message_key, payload, created_at, published_at)
             VALUES ('t', 'k', '', now() - make_interval(days => $1),
                     CASE WHEN $2 THEN now() - make_interval(days => $1) END)",
        )
        .bind(age_days)
        .bind(published)
        .execute(&pool)
        .await?;
    }
    for age_days in [20, 1] {
        sqlx::query(
            "INSERT INTO processed_messages (message_id, processed_at)
             VALUES ($1, now() - make_interval(days => $2))",
        )
        .bind(uuid::Uuid::new_v4())
        .bind(age_days)
        .execute(&pool)
        .await?;
    }
    assert_eq!(outbox::purge(&pool).await?, 2);
    let left: Vec<(bool, i64)> = sqlx::query_as(
        "SELECT published_at IS NOT NULL, count(*) FROM outbox GROUP BY 1 ORDER BY 1",
    )
    .fetch_all(&pool)
    .await?;
    assert_eq!(
        left,
        vec![(false, 1), (true, 1)],
        "the unpublished row is never purged"
    );
    let ids: i64 = sqlx::query_scalar("SELECT count(*) FROM processed_messages")
        .fetch_one(&pool)
        .await?;
    assert_eq!(ids, 1);
    Ok(())
}
