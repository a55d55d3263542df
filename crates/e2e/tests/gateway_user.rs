//! Sign-up and sign-in as clients see them: through the gateway to the real user-service,
//! PostgreSQL and Kafka.

use std::time::Duration;

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use ticketflow_common::auth::test_identity_key;
use ticketflow_common::kafka::topics;
use ticketflow_gateway::config::{Service, Upstreams};
use ticketflow_testkit::{
    kafka_bootstrap, unreachable_addr, Spawned, TestPgDatabase, TopicWatcher,
};
use ticketflow_user::config::TEST_JWT_SECRET;

/// Gateway + user-service in-process (testkit's `Spawned`); stopped, and the database
/// dropped, when it is dropped (fields drop in order: services first).
struct Stack {
    gateway: String,
    http: Client,
    _gateway: Spawned,
    _user: Spawned,
    _db: TestPgDatabase,
}

async fn start() -> anyhow::Result<Stack> {
    let db = TestPgDatabase::create().await?;
    // The gateway and user-service share the tests' identity key, as they share
    // `INTERNAL_SECRET` in a deployment, and the JWT key user-service's test config signs with.
    let user_config =
        ticketflow_user::Config::for_test(db.url(), &kafka_bootstrap()?, test_identity_key());
    let mut user =
        Spawned::start(|listener, shutdown| ticketflow_user::run(user_config, listener, shutdown))
            .await?;
    // Ready means migrated; /health/ready is internal, so ask the service itself.
    user.wait_ready("/health/ready").await?;

    // Every other upstream points at an address nobody listens on.
    let nowhere = format!("http://{}", unreachable_addr()?);
    let upstreams = Upstreams::all(&nowhere)?.with(Service::User, &user.base)?;
    let gateway_config =
        ticketflow_gateway::Config::for_test(TEST_JWT_SECRET, test_identity_key(), upstreams);
    let mut gateway = Spawned::start(|listener, shutdown| {
        ticketflow_gateway::run(gateway_config, listener, shutdown)
    })
    .await?;
    gateway.wait_ready("/api/users/health").await?;

    Ok(Stack {
        gateway: gateway.base.clone(),
        http: gateway.client.clone(),
        _gateway: gateway,
        _user: user,
        _db: db,
    })
}

impl Stack {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.gateway)
    }

    async fn post(&self, path: &str, body: &Value) -> anyhow::Result<(StatusCode, Value)> {
        let response = self.http.post(self.url(path)).json(body).send().await?;
        let status = response.status();
        Ok((status, response.json().await.unwrap_or(Value::Null)))
    }

    async fn register(&self, email: &str, password: &str) -> anyhow::Result<(StatusCode, Value)> {
        self.post(
            "/api/users/register",
            &json!({"name": "Ada Lovelace", "email": email, "password": password}),
        )
        .await
    }
}

fn unique_email() -> String {
    format!("e2e-{}@example.com", uuid::Uuid::new_v4().simple())
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn register_login_me_through_the_gateway() -> anyhow::Result<()> {
    let stack = start().await?;
    let email = unique_email();
    let (status, registered) = stack.register(&email, "correct horse").await?;
    assert_eq!(status, StatusCode::CREATED, "{registered}");
    assert_eq!(registered["user"]["email"], email.as_str());
    assert_eq!(registered["user"]["role"], "USER");
    let user_id = registered["user"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    let (status, login) = stack
        .post(
            "/api/users/login",
            &json!({"email": email, "password": "correct horse"}),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{login}");
    let token = login["token"].as_str().unwrap_or_default();
    assert!(login["expiresAt"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));

    // Forged identity headers next to a valid token: the token wins.
    let me = stack
        .http
        .get(stack.url("/api/users/me"))
        .bearer_auth(token)
        .header("x-user-id", uuid::Uuid::new_v4().to_string())
        .header("x-user-role", "ADMIN")
        .send()
        .await?;
    assert_eq!(me.status(), StatusCode::OK);
    let me: Value = me.json().await?;
    assert_eq!(me["user"]["id"], user_id.as_str());
    assert_eq!(me["user"]["role"], "USER");

    // Without a token, forged headers get nowhere.
    let forged = stack
        .http
        .get(stack.url("/api/users/me"))
        .header("x-user-id", user_id.as_str())
        .header("x-user-email", email.as_str())
        .header("x-user-role", "USER")
        .send()
        .await?;
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&forged.json().await?), "UNAUTHORIZED");
    Ok(())
}

#[tokio::test]
async fn duplicate_emails_are_409_sequentially_and_concurrently() -> anyhow::Result<()> {
    let stack = start().await?;
    let email = unique_email();
    assert_eq!(
        stack.register(&email, "password-1").await?.0,
        StatusCode::CREATED
    );
    let (status, body) = stack
        .register(&format!("  {}  ", email.to_uppercase()), "password-2")
        .await?;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::CONFLICT, "EMAIL_ALREADY_EXISTS")
    );

    let racing = unique_email();
    let attempts = (0..8).map(|_| stack.register(&racing, "password-3"));
    let statuses: Vec<StatusCode> = futures::future::join_all(attempts)
        .await
        .into_iter()
        .map(|r| r.map(|(s, _)| s))
        .collect::<anyhow::Result<_>>()?;
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let conflicts = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((created, conflicts), (1, 7), "{statuses:?}");
    Ok(())
}

#[tokio::test]
async fn invalid_bodies_name_every_field() -> anyhow::Result<()> {
    let stack = start().await?;
    let cases = [
        (
            json!({"name": "A", "email": unique_email(), "password": "long enough"}),
            vec!["name"],
        ),
        (
            json!({"name": "Ann", "email": "not-an-email", "password": "long enough"}),
            vec!["email"],
        ),
        (
            json!({"name": "Ann", "email": unique_email(), "password": "short"}),
            vec!["password"],
        ),
        (
            json!({"name": " ", "email": "x", "password": "1"}),
            vec!["name", "email", "password"],
        ),
    ];
    for (body, fields) in cases {
        let (status, reply) = stack.post("/api/users/register", &body).await?;
        assert_eq!(
            (status, error_code(&reply)),
            (StatusCode::BAD_REQUEST, "VALIDATION_ERROR")
        );
        let mut named: Vec<&str> = reply["error"]["details"]
            .as_array()
            .map(|d| d.iter().filter_map(|e| e["field"].as_str()).collect())
            .unwrap_or_default();
        named.sort_unstable();
        let mut expected = fields.clone();
        expected.sort_unstable();
        assert_eq!(named, expected, "{reply}");
        assert!(reply["error"]["requestId"].as_str().is_some());
    }

    let malformed = stack
        .http
        .post(stack.url("/api/users/register"))
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await?;
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&malformed.json().await?), "VALIDATION_ERROR");

    let wrong_type = stack
        .http
        .post(stack.url("/api/users/register"))
        .header("content-type", "text/plain")
        .body(
            json!({"name": "Ann", "email": unique_email(), "password": "long enough"}).to_string(),
        )
        .send()
        .await?;
    assert_eq!(wrong_type.status(), StatusCode::BAD_REQUEST);
    let body: Value = wrong_type.json().await?;
    assert_eq!(error_code(&body), "VALIDATION_ERROR");
    assert!(body["error"]["details"]
        .as_array()
        .is_some_and(|d| !d.is_empty()));
    Ok(())
}

#[tokio::test]
async fn wrong_password_and_unknown_email_look_the_same() -> anyhow::Result<()> {
    let stack = start().await?;
    let email = unique_email();
    assert_eq!(
        stack.register(&email, "the right one").await?.0,
        StatusCode::CREATED
    );
    let (s1, wrong) = stack
        .post(
            "/api/users/login",
            &json!({"email": email, "password": "the wrong one"}),
        )
        .await?;
    let (s2, unknown) = stack
        .post(
            "/api/users/login",
            &json!({"email": unique_email(), "password": "the right one"}),
        )
        .await?;
    assert_eq!(
        (s1, error_code(&wrong)),
        (StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS")
    );
    assert_eq!(
        (s2, error_code(&unknown)),
        (StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS")
    );
    assert_eq!(wrong["error"]["message"], unknown["error"]["message"]);
    Ok(())
}

#[tokio::test]
async fn user_registered_is_published_once_and_only_on_success() -> anyhow::Result<()> {
    let stack = start().await?;
    let watcher = TopicWatcher::new(&[topics::USER_REGISTERED])?;
    let email = unique_email();
    let (status, body) = stack.register(&email, "correct horse").await?;
    assert_eq!(status, StatusCode::CREATED);
    let user_id = body["user"]["id"].as_str().unwrap_or_default().to_owned();
    // A failed registration of the same address must not publish anything.
    assert_eq!(
        stack.register(&email, "correct horse").await?.0,
        StatusCode::CONFLICT
    );

    let message = watcher
        .expect(Duration::from_secs(20), |m| {
            m.payload["email"] == email.as_str()
        })
        .await?;
    assert_eq!(message.key.as_deref(), Some(user_id.as_str()));
    assert_eq!(message.payload["eventType"], "user.registered");
    assert_eq!(message.payload["userId"], user_id.as_str());
    assert_eq!(message.payload["name"], "Ada Lovelace");
    assert!(message.payload["messageId"]
        .as_str()
        .is_some_and(|id| uuid::Uuid::parse_str(id).is_ok()));
    assert!(message.header("traceparent").is_some());
    let again = watcher
        .collect(Duration::from_secs(2), |m| {
            m.payload["email"] == email.as_str()
        })
        .await?;
    assert!(again.is_empty(), "published again: {again:?}");
    Ok(())
}
