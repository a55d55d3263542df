//! An in-process notification-service over a test database and private topics, sending to
//! Mailpit through [`SmtpGate`], a proxy a test can take down to play an SMTP outage.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{bail, Context};
use reqwest::StatusCode;
use serde_json::Value;
use ticketflow_common::auth::{test_identity_key, Role};
use ticketflow_common::kafka::messages::{
    BookingCancelled, BookingConfirmed, BookingFailed, UserRegistered,
};
use ticketflow_common::kafka::{topics, Envelope, Message, Producer};
use ticketflow_notification::store::{NotificationDoc, Store, MESSAGE_ID_INDEX, NOTIFICATIONS};
use ticketflow_notification::Config;
use ticketflow_testkit::mailpit::Mailpit;
use ticketflow_testkit::{
    eventually, kafka_bootstrap, private_topics, setting, Spawned, TestMongoDatabase, TopicWatcher,
};
use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use uuid::Uuid;

pub const WAIT: Duration = Duration::from_secs(30);

pub struct Notification {
    pub service: Spawned,
    pub store: Store,
    pub prefix: String,
    pub producer: Producer,
    pub mailpit: Mailpit,
    pub gate: SmtpGate,
    db: TestMongoDatabase,
}

/// Starts one instance whose SMTP server is Mailpit behind a gate (open); `tweak` may change
/// the config (e.g. point SMTP elsewhere, fewer attempts).
pub async fn start(tweak: impl FnOnce(&mut Config)) -> anyhow::Result<Notification> {
    let db = TestMongoDatabase::create().await?;
    let prefix = private_topics(&ticketflow_notification::messaging::CONSUMED).await?;
    let kafka = kafka_bootstrap()?;
    let mailpit_smtp: SocketAddr = format!("{}:{}", setting("SMTP_HOST")?, setting("SMTP_PORT")?)
        .parse()
        .context("SMTP_HOST:SMTP_PORT")?;
    let gate = SmtpGate::start(mailpit_smtp).await?;
    let mut config = Config::for_test(
        db.url(),
        db.name(),
        &kafka,
        &prefix,
        test_identity_key(),
        "127.0.0.1",
        gate.port,
    );
    tweak(&mut config);
    if config.kafka_topic_prefix.is_empty() {
        bail!("a test's notification-service runs under private topics, never the shared ones");
    }
    let mut service = Spawned::start(|listener, shutdown| {
        ticketflow_notification::run(config, listener, shutdown)
    })
    .await?;
    service.wait_ready("/health/ready").await?;
    let store = Store::connect(db.url(), db.name()).await?;
    eventually(WAIT, "indexes", || async {
        let names = store
            .database()
            .collection::<mongodb::bson::Document>(NOTIFICATIONS)
            .list_index_names()
            .await
            .unwrap_or_default();
        Ok(names.iter().any(|n| n == MESSAGE_ID_INDEX).then_some(()))
    })
    .await?;
    Ok(Notification {
        service,
        store,
        producer: Producer::new(&kafka)?.with_topic_prefix(&prefix),
        prefix,
        mailpit: Mailpit::from_env()?,
        gate,
        db,
    })
}

/// A recipient no other test (or run) mails.
pub fn recipient() -> String {
    format!("n-{}@test.ticketflow.dev", Uuid::new_v4())
}

pub fn registered(email: &str) -> UserRegistered {
    UserRegistered {
        user_id: Uuid::new_v4(),
        email: email.to_owned(),
        name: "Asha Rao".to_owned(),
    }
}

/// 14:00 UTC: 7:30 PM in India.
pub const EVENT_DATE: &str = "2026-12-12T14:00:00.000Z";

pub fn confirmed(email: &str) -> BookingConfirmed {
    BookingConfirmed {
        booking_id: Uuid::new_v4(),
        user_id: Uuid::new_v4(),
        user_email: email.to_owned(),
        event_id: Uuid::new_v4(),
        event_name: "Monsoon Jazz Night".to_owned(),
        event_date: EVENT_DATE.to_owned(),
        venue_name: "Blue Frog, Mumbai".to_owned(),
        seat_ids: vec![Uuid::new_v4(), Uuid::new_v4()],
        seat_labels: vec!["A1".to_owned(), "A2".to_owned()],
        total_amount: 2998.0,
        currency: "INR".to_owned(),
    }
}

pub fn failed(email: &str, reason: &str) -> BookingFailed {
    BookingFailed {
        booking_id: Uuid::new_v4(),
        user_id: Uuid::new_v4(),
        user_email: email.to_owned(),
        event_id: Uuid::new_v4(),
        event_name: "Monsoon Jazz Night".to_owned(),
        reason: reason.to_owned(),
    }
}

pub fn cancelled(email: &str) -> BookingCancelled {
    BookingCancelled {
        booking_id: Uuid::new_v4(),
        user_id: Uuid::new_v4(),
        user_email: email.to_owned(),
        event_id: Uuid::new_v4(),
        event_name: "Berlin Philharmonic Matinee".to_owned(),
        seat_ids: vec![Uuid::new_v4()],
        seat_labels: vec!["C7".to_owned()],
        total_amount: 25.0,
        currency: "EUR".to_owned(),
    }
}

impl Notification {
    pub async fn publish<M: Message + Clone>(&self, payload: &M) -> anyhow::Result<Envelope<M>> {
        self.producer.publish(payload.clone()).await
    }

    /// Sends `envelope` again byte for byte, as a redelivery would.
    pub async fn redeliver<M: Message>(&self, envelope: &Envelope<M>) -> anyhow::Result<()> {
        let bytes = serde_json::to_vec(envelope)?;
        self.producer
            .send_raw(M::TOPIC, Some(&envelope.payload.key()), &bytes, &[])
            .await
    }

    /// Watches this test's `<topic>.DLT` from now on.
    pub fn dead_letters(&self, topic: &str) -> anyhow::Result<TopicWatcher> {
        TopicWatcher::new(&[&format!("{}{}", self.prefix, topics::dead_letter(topic))])
    }

    /// The record of `message_id` once `done` holds for it.
    pub async fn record_when(
        &self,
        message_id: Uuid,
        what: &str,
        done: impl Fn(&NotificationDoc) -> bool,
    ) -> anyhow::Result<NotificationDoc> {
        let id = message_id.to_string();
        eventually(WAIT, what, || async {
            Ok(self.store.by_message_id(&id).await?.filter(|r| done(r)))
        })
        .await
    }

    /// `GET path` as `user` (a USER), or without identity.
    pub async fn get(&self, path: &str, user: Option<Uuid>) -> anyhow::Result<(StatusCode, Value)> {
        let mut request = self.service.client.get(self.service.url(path));
        if let Some(id) = user {
            request = request.headers(test_identity_key().forwarded_headers(
                &id.to_string(),
                "someone@ticketflow.dev",
                Role::User,
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
        let stopped = self.service.stop().await;
        self.db.cleanup().await?;
        stopped
    }
}

/// A TCP proxy in front of an SMTP server. Open, it forwards; down, it cuts the connections
/// it carries and closes new ones at once, as a server that is restarting would.
pub struct SmtpGate {
    pub port: u16,
    open: watch::Sender<bool>,
}

impl SmtpGate {
    pub async fn start(upstream: SocketAddr) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let (open, state) = watch::channel(true);
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !*state.borrow() {
                    drop(client);
                    continue;
                }
                let mut state = state.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = copy_bidirectional(&mut client, &mut server) => {}
                        _ = state.wait_for(|open| !*open) => {}
                    }
                });
            }
        });
        Ok(Self { port, open })
    }

    pub fn set_open(&self, open: bool) {
        self.open.send_replace(open);
    }
}
