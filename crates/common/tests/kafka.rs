//! Producer and consumer runner against the local Kafka broker.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use ticketflow_common::context::RequestContext;
use ticketflow_common::kafka::{
    run_consumer, topics, ConsumerConfig, Delivery, Envelope, HandlerError, Message, Producer,
};
use ticketflow_testkit::{
    create_topic, kafka_bootstrap, private_topics, unique_name, TopicWatcher,
};
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Note {
    booking_id: String,
    text: String,
}

/// A topic per test: the runner under test subscribes to it and its `.DLT`.
async fn test_topics() -> anyhow::Result<(String, String)> {
    let topic = unique_name("tftest.runner");
    let dlt = topics::dead_letter(&topic);
    create_topic(&topic, 1).await?;
    create_topic(&dlt, 1).await?;
    Ok((topic, dlt))
}

fn config(topic: &str, group: &str) -> anyhow::Result<ConsumerConfig> {
    let mut config = ConsumerConfig::new(&kafka_bootstrap()?, group, &[topic]);
    config.max_attempts = 3;
    config.initial_backoff = Duration::from_millis(20);
    config.max_backoff = Duration::from_millis(50);
    Ok(config)
}

async fn send(producer: &Producer, topic: &str, key: &str, text: &str) -> anyhow::Result<()> {
    let envelope = Envelope {
        event_type: "note.sent".to_owned(),
        payload: Note {
            booking_id: key.to_owned(),
            text: text.to_owned(),
        },
        message_id: uuid::Uuid::new_v4(),
        timestamp: ticketflow_common::time::now(),
    };
    producer
        .send_raw(
            topic,
            Some(key),
            &serde_json::to_vec(&envelope)?,
            &ticketflow_common::kafka::correlation_headers(),
        )
        .await
}

/// Collects the texts a handler saw, in order.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<String>>>);

impl Seen {
    fn push(&self, text: String) {
        if let Ok(mut seen) = self.0.lock() {
            seen.push(text);
        }
    }
    fn all(&self) -> Vec<String> {
        self.0.lock().map(|s| s.clone()).unwrap_or_default()
    }
    async fn wait_until(&self, what: &str, done: impl Fn(&[String]) -> bool) -> anyhow::Result<()> {
        ticketflow_testkit::eventually(WAIT, what, || async { Ok(done(&self.all()).then_some(())) })
            .await
    }
}

#[tokio::test]
async fn round_trip_carries_envelope_key_and_correlation_headers() -> anyhow::Result<()> {
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Registered {
        user_id: String,
        email: String,
    }
    impl Message for Registered {
        const EVENT_TYPE: &'static str = "user.registered";
        const TOPIC: &'static str = topics::USER_REGISTERED;
        fn key(&self) -> String {
            self.user_id.clone()
        }
    }

    // The contract topic under a prefix of this test's own: a local notification-service
    // reads the shared one, and this payload is not a whole `user.registered`.
    let prefix = private_topics(&[topics::USER_REGISTERED]).await?;
    let producer = Producer::new(&kafka_bootstrap()?)?.with_topic_prefix(&prefix);
    let user_id = uuid::Uuid::new_v4().to_string();
    let ctx = RequestContext::from_incoming(Some("req-round-trip"), None);
    let traceparent = ctx.traceparent.clone();

    // The runner sees contract topic names; only our user id matters.
    type Got = (Delivery, Envelope<Registered>, Option<String>);
    let received: Arc<Mutex<Vec<Got>>> = Arc::default();
    let shutdown = CancellationToken::new();
    let runner = {
        let received = received.clone();
        let user_id = user_id.clone();
        let cfg = config(topics::USER_REGISTERED, &unique_name("tftest-group"))?
            .with_topic_prefix(&prefix);
        tokio::spawn(run_consumer(
            cfg,
            producer.clone(),
            move |delivery: Delivery| {
                let received = received.clone();
                let user_id = user_id.clone();
                async move {
                    let Ok(envelope) = delivery.envelope::<Registered>() else {
                        return Ok(()); // not ours
                    };
                    if envelope.payload.user_id == user_id {
                        // The handler runs inside the message's request context.
                        let seen_request_id = ticketflow_common::context::current_request_id();
                        if let Ok(mut r) = received.lock() {
                            r.push((delivery, envelope, seen_request_id));
                        }
                    }
                    Ok::<_, HandlerError>(())
                }
            },
            shutdown.clone(),
        ))
    };

    let sent = ctx
        .scope(producer.publish(Registered {
            user_id: user_id.clone(),
            email: "ann@example.com".to_owned(),
        }))
        .await?;

    ticketflow_testkit::eventually(WAIT, "the registered message", || async {
        Ok(received
            .lock()
            .map(|r| !r.is_empty())
            .unwrap_or(false)
            .then_some(()))
    })
    .await?;
    shutdown.cancel();
    runner.await??;

    let got = received.lock().map(|r| r.clone()).unwrap_or_default();
    assert_eq!(got.len(), 1, "delivered exactly once");
    let (delivery, envelope, seen_request_id) = &got[0];
    assert_eq!(delivery.key.as_deref(), Some(user_id.as_str()));
    assert_eq!(delivery.header("x-request-id"), Some("req-round-trip"));
    assert_eq!(delivery.header("traceparent"), Some(traceparent.as_str()));
    assert_eq!(seen_request_id.as_deref(), Some("req-round-trip"));
    assert_eq!(envelope, &sent);
    assert_eq!(envelope.event_type, "user.registered");
    let raw: serde_json::Value = serde_json::from_slice(&delivery.payload)?;
    assert_eq!(raw["userId"], user_id.as_str());
    assert_eq!(raw["messageId"], sent.message_id.to_string());
    Ok(())
}

#[tokio::test]
async fn poison_message_goes_to_dlt_and_the_partition_moves_on() -> anyhow::Result<()> {
    // Installed first, so the runner's counters are recorded.
    let metrics = ticketflow_common::telemetry::metrics_handle();
    let (topic, dlt) = test_topics().await?;
    let producer = Producer::new(&kafka_bootstrap()?)?;
    let dlt_watch = TopicWatcher::new(&[dlt.as_str()])?;

    let ctx = RequestContext::from_incoming(Some("req-poison"), None);
    ctx.scope(async {
        send(&producer, &topic, "k1", "poison").await?;
        send(&producer, &topic, "k1", "flaky-forever").await?;
        producer
            .send_raw(&topic, Some("k1"), b"this is not json", &[])
            .await?;
        send(&producer, &topic, "k1", "fine").await
    })
    .await?;

    let seen = Seen::default();
    let attempts = Arc::new(AtomicU32::new(0));
    let shutdown = CancellationToken::new();
    let runner = {
        let (seen, attempts) = (seen.clone(), attempts.clone());
        tokio::spawn(run_consumer(
            config(&topic, &unique_name("tftest-group"))?,
            producer.clone(),
            move |delivery: Delivery| {
                let (seen, attempts) = (seen.clone(), attempts.clone());
                async move {
                    let note = delivery.envelope::<Note>()?.payload;
                    match note.text.as_str() {
                        "poison" => Err(HandlerError::Poison(anyhow::anyhow!("cannot ever work"))),
                        "flaky-forever" => {
                            attempts.fetch_add(1, Ordering::SeqCst);
                            Err(HandlerError::Transient(anyhow::anyhow!("dependency down")))
                        }
                        _ => {
                            seen.push(note.text);
                            Ok(())
                        }
                    }
                }
            },
            shutdown.clone(),
        ))
    };

    seen.wait_until("the message after the poison ones", |s| {
        s.contains(&"fine".to_owned())
    })
    .await?;
    let dead = dlt_watch.collect(Duration::from_secs(2), |_| true).await?;
    shutdown.cancel();
    runner.await??;

    assert_eq!(seen.all(), vec!["fine".to_owned()]);
    assert_eq!(
        attempts.load(Ordering::SeqCst),
        3,
        "transient failures retried max_attempts times"
    );
    assert_eq!(
        dead.len(),
        3,
        "poison, exhausted and undecodable all dead-lettered: {dead:?}"
    );
    let poison = &dead[0];
    assert_eq!(poison.payload["text"], "poison");
    assert_eq!(poison.key.as_deref(), Some("k1"));
    assert_eq!(
        poison.header("x-request-id"),
        Some("req-poison"),
        "original headers kept"
    );
    assert!(poison.header("traceparent").is_some());
    assert!(poison
        .header("x-dlt-error")
        .is_some_and(|e| e.contains("cannot ever work")));
    assert_eq!(poison.header("x-dlt-original-topic"), Some(topic.as_str()));
    assert_eq!(poison.header("x-dlt-attempts"), Some("1"));
    assert_eq!(dead[1].payload["text"], "flaky-forever");
    assert_eq!(dead[1].header("x-dlt-attempts"), Some("3"));
    assert!(dead[1]
        .header("x-dlt-error")
        .is_some_and(|e| e.contains("dependency down")));
    assert!(dead[2]
        .header("x-dlt-error")
        .is_some_and(|e| e.contains("undecodable")));

    // The counters behind /metrics saw the same thing.
    let text = metrics.render();
    let series = |name: &str, extra: &str| {
        text.lines()
            .find(|l| {
                l.starts_with(name)
                    && l.contains(&format!("topic=\"{topic}\""))
                    && l.contains(extra)
            })
            .and_then(|l| l.rsplit(' ').next())
            .map(str::to_owned)
    };
    assert_eq!(
        series("kafka_messages_dead_lettered_total", "").as_deref(),
        Some("3"),
        "{text}"
    );
    assert_eq!(
        series("kafka_messages_consumed_total", "outcome=\"handled\"").as_deref(),
        Some("1")
    );
    assert_eq!(
        series("kafka_messages_consumed_total", "outcome=\"dead_lettered\"").as_deref(),
        Some("3")
    );
    assert_eq!(
        series("kafka_messages_produced_total", "").as_deref(),
        Some("4"),
        "four sent by the test"
    );
    Ok(())
}

#[tokio::test]
async fn failure_before_commit_means_redelivery() -> anyhow::Result<()> {
    let (topic, _dlt) = test_topics().await?;
    let producer = Producer::new(&kafka_bootstrap()?)?;
    let group = unique_name("tftest-group");
    send(&producer, &topic, "k1", "first").await?;
    send(&producer, &topic, "k1", "second").await?;

    // Run 1: "first" succeeds, "second" keeps failing until the consumer is stopped.
    let seen = Seen::default();
    let shutdown = CancellationToken::new();
    let mut cfg = config(&topic, &group)?;
    cfg.max_attempts = 1_000;
    let runner = {
        let seen = seen.clone();
        tokio::spawn(run_consumer(
            cfg,
            producer.clone(),
            move |delivery: Delivery| {
                let seen = seen.clone();
                async move {
                    let text = delivery.envelope::<Note>()?.payload.text;
                    seen.push(text.clone());
                    if text == "second" {
                        return Err(HandlerError::Transient(anyhow::anyhow!(
                            "crash before commit"
                        )));
                    }
                    Ok(())
                }
            },
            shutdown.clone(),
        ))
    };
    seen.wait_until("a failed attempt at the second message", |s| {
        s.iter().filter(|t| *t == "second").count() >= 2
    })
    .await?;
    shutdown.cancel();
    runner.await??;

    // Run 2, same group: the uncommitted message comes back, the committed one does not.
    let seen_again = Seen::default();
    let shutdown = CancellationToken::new();
    let runner = {
        let seen_again = seen_again.clone();
        tokio::spawn(run_consumer(
            config(&topic, &group)?,
            producer.clone(),
            move |delivery: Delivery| {
                let seen_again = seen_again.clone();
                async move {
                    seen_again.push(delivery.envelope::<Note>()?.payload.text);
                    Ok(())
                }
            },
            shutdown.clone(),
        ))
    };
    seen_again
        .wait_until("redelivery of the second message", |s| !s.is_empty())
        .await?;
    // Give a wrongly uncommitted "first" time to show up too.
    tokio::time::sleep(Duration::from_millis(500)).await;
    shutdown.cancel();
    runner.await??;
    assert_eq!(seen_again.all(), vec!["second".to_owned()]);
    Ok(())
}

/// Runs a consumer of `topic` in `group` handling up to `concurrency` messages at once with
/// `handler`; returns its shutdown token and task.
fn spawn_runner<H, Fut>(
    topic: &str,
    group: &str,
    concurrency: usize,
    producer: &Producer,
    handler: H,
) -> anyhow::Result<(
    CancellationToken,
    tokio::task::JoinHandle<anyhow::Result<()>>,
)>
where
    H: Fn(Delivery) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), HandlerError>> + Send + 'static,
{
    let shutdown = CancellationToken::new();
    let mut cfg = config(topic, group)?.with_concurrency(concurrency);
    cfg.max_attempts = 1_000;
    let runner = tokio::spawn(run_consumer(
        cfg,
        producer.clone(),
        handler,
        shutdown.clone(),
    ));
    Ok((shutdown, runner))
}

fn of_key(seen: &[String], key: char) -> Vec<String> {
    seen.iter()
        .filter(|t| t.starts_with(key))
        .cloned()
        .collect()
}

#[tokio::test]
async fn concurrent_runner_lets_other_keys_pass_a_busy_key_and_keeps_each_keys_order(
) -> anyhow::Result<()> {
    let (topic, _dlt) = test_topics().await?;
    let producer = Producer::new(&kafka_bootstrap()?)?;
    let group = unique_name("tftest-group");
    for text in ["a1", "b1", "a2", "b2", "a3", "b3"] {
        send(&producer, &topic, &text[..1], text).await?;
    }

    // "a1" is held until every "b" has been handled: one partition, so only a runner that
    // handles other keys meanwhile gets there; a's and b's each stay in their order.
    let seen = Seen::default();
    let (shutdown, runner) = spawn_runner(&topic, &group, 4, &producer, {
        let seen = seen.clone();
        move |delivery: Delivery| {
            let seen = seen.clone();
            async move {
                let text = delivery.envelope::<Note>()?.payload.text;
                if text == "a1" {
                    seen.wait_until("every b handled while a1 waits", |s| {
                        of_key(s, 'b').len() == 3
                    })
                    .await?;
                }
                seen.push(text);
                Ok(())
            }
        }
    })?;
    seen.wait_until("all six handled", |s| s.len() == 6).await?;
    let all = seen.all();
    assert_eq!(of_key(&all, 'b'), ["b1", "b2", "b3"]);
    assert_eq!(of_key(&all, 'a'), ["a1", "a2", "a3"]);
    assert_eq!(
        &all[..3],
        ["b1", "b2", "b3"],
        "the b's passed the waiting a1"
    );
    shutdown.cancel();
    runner.await??;

    // Every offset was stored: the same group sees only what is sent next.
    let seen_again = Seen::default();
    let (shutdown, runner) = spawn_runner(&topic, &group, 4, &producer, {
        let seen_again = seen_again.clone();
        move |delivery: Delivery| {
            let seen_again = seen_again.clone();
            async move {
                seen_again.push(delivery.envelope::<Note>()?.payload.text);
                Ok(())
            }
        }
    })?;
    send(&producer, &topic, "c", "c1").await?;
    seen_again
        .wait_until("the new message", |s| !s.is_empty())
        .await?;
    shutdown.cancel();
    runner.await??;
    assert_eq!(seen_again.all(), ["c1"]);
    Ok(())
}

#[tokio::test]
async fn concurrent_runner_never_stores_an_offset_past_an_unfinished_message() -> anyhow::Result<()>
{
    let (topic, _dlt) = test_topics().await?;
    let producer = Producer::new(&kafka_bootstrap()?)?;
    let group = unique_name("tftest-group");
    for text in ["a1", "b1", "a2", "b2", "b3"] {
        send(&producer, &topic, &text[..1], text).await?;
    }

    // Run 1: "a2" keeps failing; the b's after it in the partition are handled meanwhile.
    let seen = Seen::default();
    let (shutdown, runner) = spawn_runner(&topic, &group, 4, &producer, {
        let seen = seen.clone();
        move |delivery: Delivery| {
            let seen = seen.clone();
            async move {
                let text = delivery.envelope::<Note>()?.payload.text;
                seen.push(text.clone());
                if text == "a2" {
                    return Err(HandlerError::Transient(anyhow::anyhow!(
                        "crash before commit"
                    )));
                }
                Ok(())
            }
        }
    })?;
    seen.wait_until("the b's handled and a2 failing again", |s| {
        of_key(s, 'b').len() == 3 && s.iter().filter(|t| *t == "a2").count() >= 2
    })
    .await?;
    shutdown.cancel();
    runner.await??;

    // Run 2: redelivery starts at "a2" (a1 and b1 before it were stored; what follows it was
    // handled, but its offset could not be stored past a2: at least once).
    let seen_again = Seen::default();
    let (shutdown, runner) = spawn_runner(&topic, &group, 4, &producer, {
        let seen_again = seen_again.clone();
        move |delivery: Delivery| {
            let seen_again = seen_again.clone();
            async move {
                seen_again.push(delivery.envelope::<Note>()?.payload.text);
                Ok(())
            }
        }
    })?;
    seen_again
        .wait_until("redelivery from a2 on", |s| s.len() == 3)
        .await?;
    // Give a wrongly uncommitted "a1" or "b1" time to show up too.
    tokio::time::sleep(Duration::from_millis(500)).await;
    shutdown.cancel();
    runner.await??;
    let mut again = seen_again.all();
    again.sort();
    assert_eq!(again, ["a2", "b2", "b3"]);
    Ok(())
}
