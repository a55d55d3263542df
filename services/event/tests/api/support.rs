//! An in-process event-service (testkit's `Spawned`) with a MongoDB database of its own.

use std::time::Duration;

use anyhow::{bail, Context};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use ticketflow_common::auth::{test_identity_key, Role};
use ticketflow_common::kafka::topics;
use ticketflow_event::store::Store;
use ticketflow_event::{run, Config};
use ticketflow_testkit::{kafka_bootstrap, private_topics, Spawned, TestMongoDatabase};

/// A `KAFKA_TOPIC_PREFIX` of the test's own (testkit's `private_topics`) with every topic
/// event-service produces to or consumes, and their `.DLT`s, created under it. Without one, a
/// test instance would join the real `event-service` group on the shared topics: it would take
/// partitions from (and acknowledge reports meant for) a locally running event-service, read
/// other processes' reports, and announce its events to their consumers.
pub async fn private_prefix() -> anyhow::Result<String> {
    private_topics(&[topics::EVENT_CREATED, topics::SEATS_AVAILABILITY]).await
}

/// The headers the gateway would forward for `who` on the request `request_id`.
pub fn identity_headers(who: Identity, request_id: &str) -> anyhow::Result<HeaderMap> {
    let mut headers = HeaderMap::new();
    headers.insert("x-request-id", request_id.parse()?);
    let id = uuid::Uuid::new_v4().to_string();
    let identity = match who {
        Identity::Admin => Some((id.as_str(), "admin@ticketflow.dev", Role::Admin)),
        Identity::User => Some((id.as_str(), "test@ticketflow.dev", Role::User)),
        Identity::Anonymous => None,
    };
    test_identity_key().sign_headers(&mut headers, identity);
    Ok(headers)
}

pub const ADMIN: Identity = Identity::Admin;
pub const USER: Identity = Identity::User;
pub const ANON: Identity = Identity::Anonymous;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    Admin,
    User,
    Anonymous,
}

pub struct Service {
    pub base: String,
    pub client: reqwest::Client,
    pub store: Store,
    /// Its `KAFKA_TOPIC_PREFIX` (never empty): it publishes to `{prefix}ticketflow.…` and
    /// consumes `{prefix}ticketflow.seats.availability` as group `{prefix}event-service`.
    pub prefix: String,
    service: Spawned,
    /// The database `start` made for it; `start_on` runs on one the test owns.
    db: Option<TestMongoDatabase>,
}

pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    /// `error.code` of an envelope.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }

    /// The `field`s listed under `error.details`.
    pub fn fields(&self) -> Vec<String> {
        self.body["error"]["details"]
            .as_array()
            .map(|ds| {
                ds.iter()
                    .filter_map(|d| d["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn expect(&self, status: u16) -> anyhow::Result<&Value> {
        if self.status.as_u16() != status {
            bail!("expected {status}, got {}: {}", self.status, self.body);
        }
        Ok(&self.body)
    }

    /// Asserts an error envelope with `status` and `code` (and a request id).
    pub fn expect_error(&self, status: u16, code: &str) -> anyhow::Result<()> {
        self.expect(status)?;
        if self.code() != code {
            bail!("expected {code}, got {}", self.body);
        }
        if self.body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .is_empty()
            || self.body["error"]["requestId"].as_str().is_none()
        {
            bail!("incomplete envelope: {}", self.body);
        }
        Ok(())
    }

    /// Asserts `400 VALIDATION_ERROR` naming exactly `field` in `details`.
    pub fn expect_invalid(&self, field: &str) -> anyhow::Result<()> {
        self.expect_error(400, "VALIDATION_ERROR")?;
        if self.fields() != vec![field.to_owned()] {
            bail!("expected details for {field}, got {}", self.body);
        }
        Ok(())
    }
}

impl Service {
    /// On a new database of its own, dropped by `stop` (or when the test ends), under a
    /// [`private_prefix`] of its own (`prefix`).
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_prefixed(&private_prefix().await?).await
    }

    /// Like [`start`](Self::start), with `KAFKA_TOPIC_PREFIX` = `prefix` (from
    /// [`private_prefix`], made by the test first, e.g. to watch a topic before the start).
    pub async fn start_prefixed(prefix: &str) -> anyhow::Result<Self> {
        let db = TestMongoDatabase::create().await?;
        let mut service = Self::start_on(&db, prefix).await?;
        service.db = Some(db);
        Ok(service)
    }

    /// On the test's database `db` (e.g. one it seeded first), ready to serve, under the
    /// test's `prefix` (from [`private_prefix`]; the one it seeded with, if it produced).
    pub async fn start_on(db: &TestMongoDatabase, prefix: &str) -> anyhow::Result<Self> {
        let mut config = Config::for_test(
            db.url(),
            db.name(),
            &kafka_bootstrap()?,
            test_identity_key(),
        );
        config.relay_interval = Duration::from_millis(200);
        config.kafka_topic_prefix = prefix.to_owned();
        let mut service = Self::spawn(config).await?;
        service.service.wait_ready("/health/ready").await?;
        Ok(service)
    }

    /// Starts with `config` without waiting for MongoDB. `config.kafka_topic_prefix` must be
    /// one of the test's own (from [`private_prefix`]): an unprefixed test instance would
    /// consume the shared topics as the real `event-service` group.
    pub async fn spawn(config: Config) -> anyhow::Result<Self> {
        if config.kafka_topic_prefix.is_empty() {
            bail!("a test's event-service runs under a private_prefix(), never the shared topics");
        }
        let prefix = config.kafka_topic_prefix.clone();
        let store = Store::connect(config.mongodb_url.expose(), &config.mongodb_db).await?;
        let service = Spawned::start(|listener, shutdown| run(config, listener, shutdown)).await?;
        Ok(Self {
            base: service.base.clone(),
            client: service.client.clone(),
            store,
            prefix,
            service,
            db: None,
        })
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        who: Identity,
        body: Option<&Value>,
    ) -> anyhow::Result<Reply> {
        let request_id = uuid::Uuid::new_v4().to_string();
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .headers(identity_headers(who, &request_id)?);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.context("calling event-service")?;
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await?;
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).with_context(|| format!("non-JSON body: {text}"))?
        };
        Ok(Reply {
            status,
            body,
            headers,
        })
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Reply> {
        self.call(Method::GET, path, ANON, None).await
    }

    pub async fn post(&self, path: &str, who: Identity, body: &Value) -> anyhow::Result<Reply> {
        self.call(Method::POST, path, who, Some(body)).await
    }

    pub async fn put(&self, path: &str, who: Identity, body: &Value) -> anyhow::Result<Reply> {
        self.call(Method::PUT, path, who, Some(body)).await
    }

    pub async fn create_venue(&self, name: &str) -> anyhow::Result<Value> {
        let reply = self
            .post(
                "/api/venues",
                ADMIN,
                &json!({
                    "name": name, "address": "1 Test Road", "city": "Pune",
                    "country": "India", "capacity": 500
                }),
            )
            .await?;
        Ok(reply.expect(201)?.clone())
    }

    /// Creates an event at `venue_id`; `overrides` replace fields of a valid body.
    pub async fn create_event(&self, venue_id: &str, overrides: Value) -> anyhow::Result<Value> {
        let mut body = valid_event(venue_id);
        merge(&mut body, overrides);
        let reply = self.post("/api/events", ADMIN, &body).await?;
        Ok(reply.expect(201)?.clone())
    }

    /// Stops the service (returning its error, if it had one), then drops the database
    /// `start` made for it.
    pub async fn stop(self) -> anyhow::Result<()> {
        let stopped = self.service.stop().await;
        if let Some(db) = self.db {
            db.cleanup().await?;
        }
        stopped
    }
}

/// A valid create body: a future date, 100 seats, ₹150.50.
pub fn valid_event(venue_id: &str) -> Value {
    let date = chrono::Utc::now() + chrono::Duration::days(30);
    json!({
        "name": format!("Event {}", uuid::Uuid::new_v4().simple()),
        "description": "An evening to remember",
        "venue_id": venue_id,
        "date": ticketflow_common::time::rfc3339(&date),
        "price": 150.5,
        "total_seats": 100,
        "tags": ["music"],
        "image_url": "/posters/test.svg",
    })
}

pub fn merge(target: &mut Value, overrides: Value) {
    if let (Some(t), Value::Object(o)) = (target.as_object_mut(), overrides) {
        for (k, v) in o {
            t.insert(k, v);
        }
    }
}

/// `Utc::now() + days` as an RFC 3339 string.
pub fn days_from_now(days: i64) -> String {
    ticketflow_common::time::rfc3339(&(chrono::Utc::now() + chrono::Duration::days(days)))
}

pub fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_default()
}
