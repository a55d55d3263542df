use std::time::Duration;

use anyhow::Context;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use ticketflow_common::auth::{IdentityKey, Role};
use ticketflow_common::config::Secret;
use ticketflow_testkit::{eventually, free_port};
use ticketflow_user::password::PasswordCost;
use ticketflow_user::Config;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub const JWT_SECRET: &str = "integration-tests-secret-0123456789-abcdef";
pub const INTERNAL_SECRET: &str = "integration-tests-internal-0123456789-abcdef";

/// Signs identities the way the gateway does.
pub fn identity_key() -> IdentityKey {
    IdentityKey::new(Secret::new(INTERNAL_SECRET))
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    /// The service's database, for direct checks.
    pub pool: PgPool,
    shutdown: CancellationToken,
    handle: Option<JoinHandle<anyhow::Result<()>>>,
}

pub fn config(database_url: &str, kafka_bootstrap: &str) -> Config {
    Config {
        port: 0,
        database_url: Secret::new(database_url),
        db_max_connections: 10,
        kafka_bootstrap: kafka_bootstrap.to_owned(),
        jwt_secret: Secret::new(JWT_SECRET),
        identity_key: identity_key(),
        jwt_expiration_ms: 604_800_000,
        password_cost: PasswordCost::TEST_ONLY_MINIMAL,
    }
}

/// A service on a fresh database and the real Kafka, ready to serve.
pub async fn spawn_app() -> anyhow::Result<TestApp> {
    let url = ticketflow_testkit::fresh_pg_database().await?;
    let kafka = ticketflow_testkit::kafka_bootstrap()?;
    spawn_ready(config(&url, &kafka)).await
}

/// Starts the service with `config` and waits until `/health/ready` says up.
pub async fn spawn_ready(config: Config) -> anyhow::Result<TestApp> {
    let app = spawn(config).await?;
    eventually(Duration::from_secs(20), "user-service ready", || async {
        let response = app
            .client
            .get(format!("{}/health/ready", app.base))
            .send()
            .await?;
        Ok((response.status() == StatusCode::OK).then_some(()))
    })
    .await?;
    Ok(app)
}

/// Starts the service with `config` without waiting for its dependencies.
pub async fn spawn(config: Config) -> anyhow::Result<TestApp> {
    let port = free_port()?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let shutdown = CancellationToken::new();
    let handle = tokio::spawn(ticketflow_user::run(
        config.clone(),
        listener,
        shutdown.clone(),
    ));
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect_lazy(config.database_url.expose())?;
    Ok(TestApp {
        base: format!("http://127.0.0.1:{port}"),
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()?,
        pool,
        shutdown,
        handle: Some(handle),
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
            .headers(identity_key().forwarded_headers(id, email, role))
            .send()
            .await?;
        read(response).await
    }

    pub async fn user_count(&self) -> anyhow::Result<i64> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM users")
            .fetch_one(&self.pool)
            .await?)
    }

    /// Stops the service and waits for it to finish.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        if let Some(handle) = self.handle.take() {
            tokio::time::timeout(Duration::from_secs(15), handle)
                .await
                .context("service did not stop")???;
        }
        self.pool.close().await;
        Ok(())
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
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
