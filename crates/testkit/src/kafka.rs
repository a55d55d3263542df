//! Kafka helpers: per-test topics and a watcher that sees only what is produced after it
//! was created (explicit assignment at the high watermarks, so nothing is missed while a
//! consumer group would still be joining).

use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Headers;
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};

/// A topic name or consumer group id no other test uses (each test's consumers get their own
/// group, so they never share offsets or a rebalance with another test's).
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}.{}", uuid::Uuid::new_v4().simple())
}

/// Creates `name` (and waits until its metadata is visible).
pub async fn create_topic(name: &str, partitions: i32) -> anyhow::Result<()> {
    let bootstrap = super::kafka_bootstrap()?;
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .create()?;
    let topic = NewTopic::new(name, partitions, TopicReplication::Fixed(1));
    let results = admin
        .create_topics(
            [&topic],
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(10))),
        )
        .await?;
    for result in results {
        if let Err((topic, code)) = result {
            if code != rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists {
                bail!("creating topic {topic}: {code}");
            }
        }
    }
    Ok(())
}

/// A message as a test sees it.
#[derive(Debug, Clone)]
pub struct Received {
    pub topic: String,
    pub partition: i32,
    pub key: Option<String>,
    pub payload: serde_json::Value,
    pub headers: Vec<(String, String)>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

pub struct TopicWatcher {
    consumer: BaseConsumer,
}

impl TopicWatcher {
    /// Starts watching `topics` from their current ends.
    pub fn new(topics: &[&str]) -> anyhow::Result<Self> {
        let bootstrap = super::kafka_bootstrap()?;
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &bootstrap)
            .set("group.id", unique_name("tfwatch"))
            .set("enable.auto.commit", "false")
            .create()?;
        let mut assignment = TopicPartitionList::new();
        let metadata = consumer.fetch_metadata(None, Duration::from_secs(10))?;
        for topic in topics {
            let meta = metadata
                .topics()
                .iter()
                .find(|t| t.name() == *topic)
                .ok_or_else(|| anyhow!("topic {topic} does not exist"))?;
            for partition in meta.partitions() {
                let (_, high) =
                    consumer.fetch_watermarks(topic, partition.id(), Duration::from_secs(10))?;
                assignment.add_partition_offset(topic, partition.id(), Offset::Offset(high))?;
            }
        }
        consumer.assign(&assignment)?;
        Ok(Self { consumer })
    }

    /// The next message for which `matches` holds, or an error after `timeout`.
    pub async fn expect<F>(&self, timeout: Duration, mut matches: F) -> anyhow::Result<Received>
    where
        F: FnMut(&Received) -> bool,
    {
        let deadline = tokio::time::Instant::now() + timeout;
        while tokio::time::Instant::now() < deadline {
            if let Some(received) = self.poll_once()? {
                if matches(&received) {
                    return Ok(received);
                }
            } else {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        bail!("no matching message within {timeout:?}")
    }

    /// Every message for which `matches` holds that arrives within `window`.
    pub async fn collect<F>(
        &self,
        window: Duration,
        mut matches: F,
    ) -> anyhow::Result<Vec<Received>>
    where
        F: FnMut(&Received) -> bool,
    {
        let deadline = tokio::time::Instant::now() + window;
        let mut found = Vec::new();
        while tokio::time::Instant::now() < deadline {
            match self.poll_once()? {
                Some(received) if matches(&received) => found.push(received),
                Some(_) => {}
                None => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
        Ok(found)
    }

    fn poll_once(&self) -> anyhow::Result<Option<Received>> {
        let Some(result) = self.consumer.poll(Duration::ZERO) else {
            return Ok(None);
        };
        let msg = result.context("polling Kafka")?;
        let payload = msg.payload().unwrap_or_default();
        let headers = msg
            .headers()
            .map(|hs| {
                hs.iter()
                    .map(|h| {
                        (
                            h.key.to_owned(),
                            String::from_utf8_lossy(h.value.unwrap_or_default()).into_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Some(Received {
            topic: msg.topic().to_owned(),
            partition: msg.partition(),
            key: msg.key().map(|k| String::from_utf8_lossy(k).into_owned()),
            payload: serde_json::from_slice(payload).unwrap_or(serde_json::Value::Null),
            headers,
        }))
    }
}

/// Produces one raw message and waits for the broker's acknowledgement.
pub async fn produce(topic: &str, key: &str, payload: &[u8]) -> anyhow::Result<()> {
    use rdkafka::producer::{FutureProducer, FutureRecord};
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", super::kafka_bootstrap()?)
        .create()?;
    producer
        .send(
            FutureRecord::to(topic).key(key).payload(payload),
            Duration::from_secs(10),
        )
        .await
        .map_err(|(err, _)| anyhow!("producing to {topic}: {err}"))?;
    Ok(())
}

/// A `KAFKA_TOPIC_PREFIX` of this test's own, with `topics` and their `.DLT`s created under
/// it: a service configured with it reads only what this test sends.
pub async fn private_topics(topics: &[&str]) -> anyhow::Result<String> {
    let prefix = format!("{}.", unique_name("tftest"));
    for topic in topics {
        create_topic(&format!("{prefix}{topic}"), 3).await?;
        create_topic(&format!("{prefix}{topic}.DLT"), 1).await?;
    }
    Ok(prefix)
}
