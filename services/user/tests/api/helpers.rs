use anyhow::Context;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use ticketflow_common::auth::{test_identity_key, Role};
use ticketflow_testkit::{Spawned, TestPgDatabase};
use ticketflow_user::Config;

/// What `Config::for_test` signs tokens with.
pub use ticketflow_user::config::TEST_JWT_SECRET as JWT_SECRET;

/// user-service in-process (testkit's `Spawned`), with a pool on its database.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    /// The service's database, for direct checks.
    pub pool: PgPool,
    service: Spawned,
    /// The database `spawn_app` made for it; a test that passes its own config owns its own.
    db: Option<TestPgDatabase>,
}

/// A service on a fresh database and the real Kafka, ready to serve.
pub async fn spawn_app() -> anyhow::Result<TestApp> {
    let db = TestPgDatabase::create().await?;
    let kafka = ticketflow_testkit::kafka_bootstrap()?;
    let mut app = spawn_ready(Config::for_test(db.url(), &kafka, test_identity_key())).await?;
    app.db = Some(db);
    Ok(app)
}

/// Starts the service with `config` and waits until `/health/ready` says up.
pub async fn spawn_ready(config: Config) -> anyhow::Result<TestApp> {
    let mut app = spawn(config).await?;
    app.service.wait_ready("/health/ready").await?;
    Ok(app)
}

/// Starts the service with `config` without waiting for its dependencies.
pub async fn spawn(config: Config) -> anyhow::Result<TestApp> {
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect_lazy(config.database_url.expose())?;
    let service =
        Spawned::start(|listener, shutdown| ticketflow_user::run(config, listener, shutdown))
            .await?;
    Ok(TestApp {
        base: service.base.clone(),
        client: service.client.clone(),
        pool,
        service,
        db: None,
    })
}

/// An address no other test (or earlier run) uses.
pub fn unique_email() -> String {
    format!("user-{}@example.com", uuid::Uuid::new_v4().simple())
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn post(&self, path: &str, body: &Value) -> anyhow::Result<(StatusCode, Value)> {
        let response = self.client.post(self.url(path)).json(body).send().await?;
        read(response).await
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<(StatusCode, Value)> {
        read(self.client.get(self.url(path)).send().await?).await
    }

    pub async fn register(
        &self,
        name: &str,
        email: &str,
        password: &str,
    ) -> anyhow::Result<(StatusCode, Value)> {
        self.post(
            "/api/users/register",
            &json!({"name": name, "email": email, "password": password}),
        )
        .await
    }

    /// Registers a fresh account and returns the 201 body.
    pub async fn register_ok(&self, email: &str, password: &str) -> anyhow::Result<Value> {
        let (status, body) = self.register("Test Person", email, password).await?;
        anyhow::ensure!(status == StatusCode::CREATED, "register: {status} {body}");
        Ok(body)
    }

    pub async fn login(&self, email: &str, password: &str) -> anyhow::Result<(StatusCode, Value)> {
        self.post(
            "/api/users/login",
            &json!({"email": email, "password": password}),
        )
        .await
    }

    /// `GET /api/users/me` with the identity headers the gateway would inject.
    pub async fn me_as(
        &self,
        id: &str,
        email: &str,
        role: Role,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let response = self
            .client
            .get(self.url("/api/users/me"))
            .headers(test_identity_key().forwarded_headers(id, email, role))
            .send()
            .await?;
        read(response).await
    }

    pub async fn user_count(&self) -> anyhow::Result<i64> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM users")
            .fetch_one(&self.pool)
            .await?)
    }

    /// Stops the service (returning its error, if it had one), then drops its database.
    pub async fn stop(self) -> anyhow::Result<()> {
        let stopped = self.service.stop().await;
        self.pool.close().await;
        if let Some(db) = self.db {
            db.cleanup().await?;
        }
        stopped
    }
}

pub async fn read(response: reqwest::Response) -> anyhow::Result<(StatusCode, Value)> {
    let status = response.status();
    let text = response.text().await?;
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).with_context(|| format!("non-JSON body ({status}): {text}"))?
    };
    Ok((status, body))
}

/// The `error.code` of an envelope.
pub fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

/// The `details[].field` names of a validation envelope, in order.
pub fn detail_fields(body: &Value) -> Vec<String> {
    body["error"]["details"]
        .as_array()
        .map(|details| {
            details
                .iter()
                .map(|d| d["field"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// RFC 3339 UTC with milliseconds and `Z`, e.g. `2026-01-02T03:04:05.678Z`.
pub fn is_wire_timestamp(value: &Value) -> bool {
    value.as_str().is_some_and(|text| {
        text.len() == 24
            && text.ends_with('Z')
            && chrono::DateTime::parse_from_rfc3339(text).is_ok()
    })
}
