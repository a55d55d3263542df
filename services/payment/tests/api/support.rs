//! One or more in-process payment-service instances over one test database and one set of
//! private topics (one consumer group), as a deployment with replicas.

use std::time::Duration;

use anyhow::{bail, Context};
use mongodb::bson::doc;
use reqwest::StatusCode;
use serde_json::Value;
use ticketflow_common::auth::{test_identity_key, Role};
use ticketflow_common::kafka::messages::PaymentRequested;
use ticketflow_common::kafka::{topics, Envelope, Message, Producer};
use ticketflow_payment::store::{PaymentDoc, Store, PAYMENTS};
use ticketflow_payment::Config;
use ticketflow_testkit::kafka::Received;
use ticketflow_testkit::{
    eventually, kafka_bootstrap, private_topics, Spawned, TestMongoDatabase, TopicWatcher,
};
use uuid::Uuid;

/// Every topic payment-service reads or writes, private to one test.
pub const TOPICS: [&str; 4] = [
    topics::PAYMENT_REQUESTED,
    topics::PAYMENT_PROCESSED,
    topics::BOOKING_FAILED,
    topics::BOOKING_CANCELLED,
];

pub const WAIT: Duration = Duration::from_secs(20);

pub struct Payment {
    pub instances: Vec<Spawned>,
    pub store: Store,
    pub prefix: String,
    pub producer: Producer,
    pub client: reqwest::Client,
    db: TestMongoDatabase,
}

pub async fn start(instances: usize, tweak: impl Fn(&mut Config)) -> anyhow::Result<Payment> {
    let db = TestMongoDatabase::create().await?;
    let prefix = private_topics(&TOPICS).await?;
    let kafka = kafka_bootstrap()?;
    let mut spawned = Vec::new();
    for _ in 0..instances {
        let mut config =
            Config::for_test(db.url(), db.name(), &kafka, &prefix, test_identity_key());
        tweak(&mut config);
        if config.kafka_topic_prefix.is_empty() {
            bail!("a test's payment-service runs under private topics, never the shared ones");
        }
        let mut service = Spawned::start(|listener, shutdown| {
            ticketflow_payment::run(config, listener, shutdown)
        })
        .await?;
        service.wait_ready("/health/ready").await?;
        spawned.push(service);
    }
    let client = spawned
        .first()
        .map(|s| s.client.clone())
        .context("at least one instance")?;
    let store = Store::connect(db.url(), db.name()).await?;
    // The consumer starts once the unique index exists; requests sent before the group has
    // joined are still read (a new group starts at the earliest offset of private topics).
    eventually(WAIT, "indexes", || async {
        let names = store
            .database()
            .collection::<mongodb::bson::Document>(PAYMENTS)
            .list_index_names()
            .await
            .unwrap_or_default();
        Ok(names.iter().any(|n| n == "booking_id_unique").then_some(()))
    })
    .await?;
    Ok(Payment {
        instances: spawned,
        store,
        producer: Producer::new(&kafka)?.with_topic_prefix(&prefix),
        prefix,
        client,
        db,
    })
}

/// A payment request for a new booking of a new user.
pub fn request(amount: f64) -> PaymentRequested {
    PaymentRequested {
        booking_id: Uuid::new_v4(),
        user_id: Uuid::new_v4(),
        amount,
        currency: "INR".to_owned(),
    }
}

impl Payment {
    /// Watches this test's `payment.processed` from now on.
    pub fn processed_watcher(&self) -> anyhow::Result<TopicWatcher> {
        TopicWatcher::new(&[&format!("{}{}", self.prefix, topics::PAYMENT_PROCESSED)])
    }

    /// Publishes `payload` in a new envelope; returns it (to redeliver it byte for byte).
    pub async fn publish<M: Message + Clone>(&self, payload: &M) -> anyhow::Result<Envelope<M>> {
        self.producer.publish(payload.clone()).await
    }

    /// Sends `envelope` again, as a redelivery would, under `key`.
    pub async fn redeliver<M: Message>(
        &self,
        envelope: &Envelope<M>,
        key: &str,
    ) -> anyhow::Result<()> {
        let bytes = serde_json::to_vec(envelope)?;
        self.producer
            .send_raw(M::TOPIC, Some(key), &bytes, &[])
            .await
    }

    /// The booking's payment once it exists.
    pub async fn wait_payment(&self, booking_id: Uuid) -> anyhow::Result<PaymentDoc> {
        let id = booking_id.to_string();
        eventually(WAIT, "payment stored", || async {
            Ok(self.store.by_booking(&id).await?)
        })
        .await
    }

    /// How many payment documents the booking has.
    pub async fn count(&self, booking_id: Uuid) -> anyhow::Result<u64> {
        Ok(self
            .store
            .database()
            .collection::<mongodb::bson::Document>(PAYMENTS)
            .count_documents(doc! {"booking_id": booking_id.to_string()})
            .await?)
    }

    /// `GET path` on the first instance as `who` (id, role), or without identity.
    pub async fn get(
        &self,
        path: &str,
        who: Option<(Uuid, Role)>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let base = &self.instances.first().context("an instance")?.base;
        let mut request = self.client.get(format!("{base}{path}"));
        if let Some((id, role)) = who {
            request = request.headers(test_identity_key().forwarded_headers(
                &id.to_string(),
                "someone@ticketflow.dev",
                role,
            ));
        }
        let response = request.send().await?;
        let status = response.status();
        let text = response.text().await?;
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).with_context(|| format!("non-JSON body: {text}"))?
        };
        Ok((status, body))
    }

    pub async fn stop(self) -> anyhow::Result<()> {
        let mut result = Ok(());
        for instance in self.instances {
            if let Err(err) = instance.stop().await {
                result = Err(err);
            }
        }
        self.db.cleanup().await?;
        result
    }
}

/// The next `payment.processed` of `booking_id`.
pub async fn next_processed(watcher: &TopicWatcher, booking_id: Uuid) -> anyhow::Result<Received> {
    let key = booking_id.to_string();
    watcher
        .expect(WAIT, |m| m.key.as_deref() == Some(key.as_str()))
        .await
}
