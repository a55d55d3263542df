//! `seed_users`: the demo accounts, idempotently, and never through HTTP.

use reqwest::StatusCode;
use ticketflow_common::auth::test_identity_key;
use ticketflow_common::Role;
use ticketflow_testkit::TestPgDatabase;
use ticketflow_user::{seed_users, Config, SeedOutcome, SeedStatus};

use crate::helpers::spawn_ready;

fn summary(outcomes: &[SeedOutcome]) -> Vec<(&str, Role, SeedStatus)> {
    outcomes
        .iter()
        .map(|o| (o.email.as_str(), o.role, o.status))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeding_twice_creates_once_and_demo_logins_work() -> anyhow::Result<()> {
    // Seeding applies the schema itself: an empty database is enough.
    let db = TestPgDatabase::create().await?;
    let pool = sqlx::PgPool::connect(db.url()).await?;
    let first = seed_users(&pool).await?;
    assert_eq!(
        summary(&first),
        [
            ("test@ticketflow.dev", Role::User, SeedStatus::Created),
            ("admin@ticketflow.dev", Role::Admin, SeedStatus::Created),
        ]
    );
    let second = seed_users(&pool).await?;
    assert_eq!(
        summary(&second),
        [
            ("test@ticketflow.dev", Role::User, SeedStatus::Unchanged),
            ("admin@ticketflow.dev", Role::Admin, SeedStatus::Unchanged),
        ]
    );
    let ids = |o: &[SeedOutcome]| o.iter().map(|o| o.id).collect::<Vec<_>>();
    assert_eq!(ids(&first), ids(&second), "ids are kept");
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&pool)
        .await?;
    assert_eq!(users, 2);
    // One user.registered per created account, none for the second run.
    let messages: Vec<String> = sqlx::query_scalar(
        "SELECT message_key FROM outbox WHERE topic = 'ticketflow.user.registered' ORDER BY id",
    )
    .fetch_all(&pool)
    .await?;
    assert_eq!(
        messages,
        ids(&first)
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    );
    assert!(first[0].to_string().contains("created"), "{}", first[0]);

    // The demo passwords work through the API, with the seeded roles.
    let kafka = ticketflow_testkit::kafka_bootstrap()?;
    let app = spawn_ready(Config::for_test(db.url(), &kafka, test_identity_key())).await?;
    for (email, password, role, outcome) in [
        ("test@ticketflow.dev", "Test1234!", "USER", &first[0]),
        ("admin@ticketflow.dev", "Admin1234!", "ADMIN", &first[1]),
    ] {
        let (status, body) = app.login(email, password).await?;
        assert_eq!(status, StatusCode::OK, "{email}: {body}");
        assert_eq!(body["user"]["role"], role);
        assert_eq!(body["user"]["id"], outcome.id.to_string());
    }
    let (_, body) = app.login("test@ticketflow.dev", "Admin1234!").await?;
    assert_eq!(body["error"]["code"], "INVALID_CREDENTIALS");
    app.stop().await?;
    pool.close().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeding_never_promotes_an_account_it_cannot_prove_is_the_demo_one() -> anyhow::Result<()> {
    let app = crate::helpers::spawn_app().await?;
    // An attacker registered the admin demo address first, with a password of their own.
    let test = app
        .register_ok("Test@TicketFlow.dev", "their-own-password")
        .await?;
    let squatter = app
        .register_ok("admin@ticketflow.dev", "attacker-password")
        .await?;
    assert_eq!(
        squatter["user"]["role"], "USER",
        "HTTP never creates an admin"
    );

    let refused = seed_users(&app.pool).await;
    let message = refused.err().map(|e| format!("{e:#}")).unwrap_or_default();
    assert!(message.contains("refusing to make it ADMIN"), "{message:?}");
    let role: String = sqlx::query_scalar("SELECT role FROM users WHERE email = $1")
        .bind("admin@ticketflow.dev")
        .fetch_one(&app.pool)
        .await?;
    assert_eq!(role, "USER", "the squatter stays a plain user");
    let (status, body) = app
        .login("admin@ticketflow.dev", "attacker-password")
        .await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["role"], "USER");
    // Existing non-admin demo accounts keep their id and password either way.
    let (status, body) = app
        .login("test@ticketflow.dev", "their-own-password")
        .await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["id"], test["user"]["id"]);
    app.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_with_the_demo_password_is_promoted_and_keeps_its_id() -> anyhow::Result<()> {
    let app = crate::helpers::spawn_app().await?;
    // Registered over HTTP with the demo credentials: provably the demo account.
    let admin = app
        .register_ok("admin@ticketflow.dev", "Admin1234!")
        .await?;
    assert_eq!(admin["user"]["role"], "USER");

    let outcomes = seed_users(&app.pool).await?;
    assert_eq!(
        summary(&outcomes),
        [
            ("test@ticketflow.dev", Role::User, SeedStatus::Created),
            ("admin@ticketflow.dev", Role::Admin, SeedStatus::Promoted),
        ]
    );
    assert_eq!(
        outcomes[1].id.to_string(),
        admin["user"]["id"].as_str().unwrap_or_default()
    );
    let again = seed_users(&app.pool).await?;
    assert_eq!(again[1].status, SeedStatus::Unchanged);
    assert_eq!(again[1].role, Role::Admin);
    let (status, body) = app.login("admin@ticketflow.dev", "Admin1234!").await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["role"], "ADMIN");
    // One user.registered per account created (HTTP's and the seed's), none for promotion.
    let messages: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox")
        .fetch_one(&app.pool)
        .await?;
    assert_eq!(messages, 2);
    app.stop().await
}
