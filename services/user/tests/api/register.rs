//! `POST /api/users/register`: shape, normalisation, validation, duplicates.

use reqwest::header::CONTENT_TYPE;
use reqwest::StatusCode;
use serde_json::{json, Value};
use ticketflow_common::jwt;

use crate::helpers::{code, detail_fields, is_wire_timestamp, spawn_app, unique_email, JWT_SECRET};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_returns_token_and_normalised_user() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let email = unique_email();
    let sent_email = format!("  {}  ", email.to_uppercase());
    let (status, body) = app
        .register("  Ada Lovelace  ", &sent_email, "correct horse")
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let mut keys: Vec<&String> = body
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    keys.sort();
    assert_eq!(keys, ["expiresAt", "token", "user"]);
    let user = &body["user"];
    let mut user_keys: Vec<&String> = user
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    user_keys.sort();
    assert_eq!(user_keys, ["createdAt", "email", "id", "name", "role"]);
    assert_eq!(user["name"], "Ada Lovelace");
    assert_eq!(user["email"], email.as_str());
    assert_eq!(user["role"], "USER");
    assert!(
        is_wire_timestamp(&user["createdAt"]),
        "{}",
        user["createdAt"]
    );
    assert!(
        is_wire_timestamp(&body["expiresAt"]),
        "{}",
        body["expiresAt"]
    );
    let id = user["id"].as_str().unwrap_or_default();
    assert_eq!(uuid::Uuid::parse_str(id)?.get_version_num(), 4);

    // Stored as answered, with an argon2id PHC hash and never the password itself.
    let (stored_email, hash, role): (String, String, String) =
        sqlx::query_as("SELECT email, password_hash, role FROM users WHERE id = $1::uuid")
            .bind(id)
            .fetch_one(&app.pool)
            .await?;
    assert_eq!(
        (stored_email.as_str(), role.as_str()),
        (email.as_str(), "USER")
    );
    assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
    assert!(!hash.contains("correct horse"));
    app.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_in_body_is_ignored() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let email = unique_email();
    let (status, body) = app
        .post(
            "/api/users/register",
            &json!({"name": "Mallory", "email": email, "password": "password123", "role": "ADMIN"}),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["user"]["role"], "USER");
    let secret = ticketflow_common::config::Secret::new(JWT_SECRET);
    let claims = jwt::verify(&secret, body["token"].as_str().unwrap_or_default());
    assert_eq!(claims.map(|c| c.role), Some(ticketflow_common::Role::User));
    let role: String = sqlx::query_scalar("SELECT role FROM users WHERE email = $1")
        .bind(&email)
        .fetch_one(&app.pool)
        .await?;
    assert_eq!(role, "USER");
    app.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_email_is_409_whatever_the_case_or_spacing() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let email = unique_email();
    app.register_ok(&email, "password123").await?;
    for variant in [
        email.clone(),
        email.to_uppercase(),
        format!("  {email}\t"),
        format!(" {} ", email.replacen("user", "USER", 1)),
    ] {
        let (status, body) = app
            .register("Someone Else", &variant, "different-pass")
            .await?;
        assert_eq!(status, StatusCode::CONFLICT, "{variant:?}: {body}");
        assert_eq!(code(&body), "EMAIL_ALREADY_EXISTS");
        assert!(body["error"]["requestId"].is_string());
    }
    assert_eq!(app.user_count().await?, 1);
    app.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_duplicates_yield_exactly_one_account() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let email = unique_email();
    let attempts = (0..8).map(|i| {
        // Mixed case: the database's case-insensitive index must still see one address.
        let variant = if i % 2 == 0 {
            email.clone()
        } else {
            email.to_uppercase()
        };
        let app = &app;
        async move {
            app.register(&format!("Racer {i}"), &variant, "password123")
                .await
        }
    });
    let results = futures::future::join_all(attempts).await;
    let mut created = 0;
    let mut conflicts = 0;
    for result in results {
        let (status, body) = result?;
        match status {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => {
                assert_eq!(code(&body), "EMAIL_ALREADY_EXISTS", "{body}");
                conflicts += 1;
            }
            other => anyhow::bail!("unexpected {other}: {body}"),
        }
    }
    assert_eq!((created, conflicts), (1, 7));
    assert_eq!(app.user_count().await?, 1);
    let outbox: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE topic = $1")
        .bind("ticketflow.user.registered")
        .fetch_one(&app.pool)
        .await?;
    assert_eq!(
        outbox, 1,
        "only the committed registration may leave a message"
    );
    app.stop().await
}

/// Posts `body` to register and returns the `details[].field` list of the 400.
async fn invalid_fields(app: &crate::helpers::TestApp, body: Value) -> anyhow::Result<Vec<String>> {
    let (status, response) = app.post("/api/users/register", &body).await?;
    anyhow::ensure!(
        status == StatusCode::BAD_REQUEST && code(&response) == "VALIDATION_ERROR",
        "{body} -> {status} {response}"
    );
    anyhow::ensure!(
        response["error"]["details"].as_array().is_some_and(|d| d
            .iter()
            .all(|e| e["message"].as_str().is_some_and(|m| !m.is_empty()))),
        "every detail has a message: {response}"
    );
    Ok(detail_fields(&response))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_invalid_field_is_named() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let good = |name: &str, email: &str, password: &str| json!({"name": name, "email": email, "password": password});
    let email = unique_email();
    let cases = [
        (good("A", &email, "password123"), "name"),
        (good("   A   ", &email, "password123"), "name"),
        (good(&"n".repeat(101), &email, "password123"), "name"),
        (good("Ada", "not-an-email", "password123"), "email"),
        (good("Ada", "a@b", "password123"), "email"),
        (good("Ada", "two@@example.com", "password123"), "email"),
        (good("Ada", "   ", "password123"), "email"),
        (
            good(
                "Ada",
                &format!("{}@example.com", "a".repeat(250)),
                "password123",
            ),
            "email",
        ),
        (good("Ada", &email, "short"), "password"),
        (good("Ada", &email, "1234567"), "password"),
        (good("Ada", &email, &"p".repeat(73)), "password"),
        // 25 characters, 75 bytes: the bound is bytes.
        (good("Ada", &email, &"€".repeat(25)), "password"),
        (
            json!({"name": 42, "email": email, "password": "password123"}),
            "name",
        ),
        (
            json!({"name": "Ada", "email": ["x"], "password": "password123"}),
            "email",
        ),
        (
            json!({"name": "Ada", "email": email, "password": null}),
            "password",
        ),
        (json!({"email": email, "password": "password123"}), "name"),
        (json!({"name": "Ada", "password": "password123"}), "email"),
        (json!({"name": "Ada", "email": email}), "password"),
    ];
    for (body, field) in cases {
        assert_eq!(invalid_fields(&app, body.clone()).await?, [field], "{body}");
    }
    // Boundaries that are valid: 2 and 100 characters, 8 and 72 bytes.
    let (status, body) = app.register("Al", &unique_email(), "12345678").await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = app
        .register(&"é".repeat(100), &unique_email(), &"p".repeat(72))
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(app.user_count().await?, 2);
    app.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_invalid_fields_are_reported_together() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let fields = invalid_fields(
        &app,
        json!({"name": "x", "email": "nope", "password": "123"}),
    )
    .await?;
    assert_eq!(fields, ["name", "email", "password"]);
    let fields = invalid_fields(&app, json!({})).await?;
    assert_eq!(fields, ["name", "email", "password"]);
    let fields = invalid_fields(&app, json!({"name": true, "password": "123"})).await?;
    assert_eq!(fields, ["name", "email", "password"]);
    let (_, body) = app.post("/api/users/register", &json!({})).await?;
    assert_eq!(body["error"]["message"], "Request validation failed");
    assert_eq!(body["error"]["details"][0]["message"], "is required");
    assert_eq!(app.user_count().await?, 0);
    app.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_bodies_are_400_envelopes() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let url = app.url("/api/users/register");
    let good =
        json!({"name": "Ada", "email": unique_email(), "password": "password123"}).to_string();
    let requests = [
        // Malformed JSON.
        app.client
            .post(&url)
            .header(CONTENT_TYPE, "application/json")
            .body("{\"name\": \"Ada\","),
        // Wrong content type, although the body is fine.
        app.client
            .post(&url)
            .header(CONTENT_TYPE, "text/plain")
            .body(good.clone()),
        // No content type at all.
        app.client.post(&url).body(good.clone()),
        // Not an object.
        app.client
            .post(&url)
            .header(CONTENT_TYPE, "application/json")
            .body("[1,2,3]"),
        app.client
            .post(&url)
            .header(CONTENT_TYPE, "application/json")
            .body("\"hello\""),
        // Empty body.
        app.client
            .post(&url)
            .header(CONTENT_TYPE, "application/json"),
    ];
    for request in requests {
        let (status, body) = crate::helpers::read(request.send().await?).await?;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(code(&body), "VALIDATION_ERROR", "{body}");
        assert_eq!(detail_fields(&body), ["body"], "{body}");
        assert!(body["error"]["requestId"].is_string(), "{body}");
    }
    // Login gets the same treatment.
    let login = app.url("/api/users/login");
    let (status, body) = crate::helpers::read(
        app.client
            .post(&login)
            .header(CONTENT_TYPE, "application/json")
            .body("{oops")
            .send()
            .await?,
    )
    .await?;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "VALIDATION_ERROR")
    );
    let (status, body) = app
        .post("/api/users/login", &json!({"password": 5}))
        .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(detail_fields(&body), ["email", "password"]);
    assert_eq!(app.user_count().await?, 0);
    app.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unique_index_guards_the_database_itself() -> anyhow::Result<()> {
    // Even bypassing the service's pre-check, the store refuses a second address.
    use ticketflow_user::accounts;
    use ticketflow_user::domain::user::User;
    use ticketflow_user::error::UserError;
    let app = spawn_app().await?;
    let email = unique_email();
    let first = User::new(
        "One".into(),
        email.clone(),
        "$argon2id$x".into(),
        ticketflow_common::Role::User,
    );
    accounts::create(&app.pool, &first).await?;
    let second = User::new(
        "Two".into(),
        email.clone(),
        "$argon2id$y".into(),
        ticketflow_common::Role::User,
    );
    assert!(matches!(
        accounts::create(&app.pool, &second).await,
        Err(UserError::EmailTaken)
    ));
    // Rows written by hand in another case collide too (index on lower(email)).
    let clash = sqlx::query(
        "INSERT INTO users (id, name, email, password_hash) VALUES (gen_random_uuid(), 'X', $1, 'h')",
    )
    .bind(email.to_uppercase())
    .execute(&app.pool)
    .await;
    let constraint = match clash {
        Err(sqlx::Error::Database(db)) => db.constraint().map(str::to_owned),
        other => anyhow::bail!("expected a unique violation, got {other:?}"),
    };
    assert_eq!(
        constraint.as_deref(),
        Some(ticketflow_user::store::users::EMAIL_UNIQUE_INDEX)
    );
    app.stop().await
}
