//! Per-test databases really are separate, so tests can run in parallel, and they are gone
//! once their owner is done with them.

use mongodb::bson::doc;
use sqlx::Connection;
use ticketflow_testkit::{setting, TestMongoDatabase, TestPgDatabase};

async fn pg_exists(name: &str) -> anyhow::Result<bool> {
    let mut admin = sqlx::PgConnection::connect(&setting("DATABASE_ADMIN_URL")?).await?;
    let found: Option<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname = $1")
            .bind(name)
            .fetch_optional(&mut admin)
            .await?;
    Ok(found.is_some())
}

async fn mongo_exists(name: &str) -> anyhow::Result<bool> {
    let client = mongodb::Client::with_uri_str(setting("MONGODB_URL")?).await?;
    Ok(client
        .list_database_names()
        .await?
        .iter()
        .any(|n| n == name))
}

#[tokio::test]
async fn postgres_databases_do_not_share_data() -> anyhow::Result<()> {
    let (db_a, db_b) = (
        TestPgDatabase::create().await?,
        TestPgDatabase::create().await?,
    );
    let (a, b) = (db_a.pool().await?, db_b.pool().await?);
    sqlx::query("CREATE TABLE marker (id INT)")
        .execute(&a)
        .await?;
    sqlx::query("INSERT INTO marker VALUES (1)")
        .execute(&a)
        .await?;
    let seen_by_b: Option<String> = sqlx::query_scalar("SELECT to_regclass('marker')::text")
        .fetch_one(&b)
        .await?;
    assert_eq!(seen_by_b, None);
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM marker")
        .fetch_one(&a)
        .await?;
    assert_eq!(rows, 1);
    Ok(())
}

#[tokio::test]
async fn mongo_databases_do_not_share_data() -> anyhow::Result<()> {
    let (db_a, db_b) = (
        TestMongoDatabase::create().await?,
        TestMongoDatabase::create().await?,
    );
    let (a, b) = (db_a.database(), db_b.database());
    assert_ne!(a.name(), b.name());
    a.collection("marker").insert_one(doc! {"n": 1}).await?;
    assert_eq!(
        a.collection::<mongodb::bson::Document>("marker")
            .count_documents(doc! {})
            .await?,
        1
    );
    assert_eq!(
        b.collection::<mongodb::bson::Document>("marker")
            .count_documents(doc! {})
            .await?,
        0
    );
    Ok(())
}

#[tokio::test]
async fn databases_are_dropped_by_cleanup_or_when_dropped() -> anyhow::Result<()> {
    let pg = TestPgDatabase::create().await?;
    let name = pg.name().to_owned();
    // Even with a connection still open (as a service that was not stopped would have).
    let pool = pg.pool().await?;
    sqlx::query("SELECT 1").execute(&pool).await?;
    assert!(pg_exists(&name).await?);
    pg.cleanup().await?;
    assert!(!pg_exists(&name).await?, "{name} after cleanup");

    let pg = TestPgDatabase::create().await?;
    let name = pg.name().to_owned();
    drop(pg);
    assert!(!pg_exists(&name).await?, "{name} after drop");

    let mongo = TestMongoDatabase::create().await?;
    let name = mongo.name().to_owned();
    mongo
        .database()
        .collection("marker")
        .insert_one(doc! {"n": 1})
        .await?;
    assert!(mongo_exists(&name).await?);
    mongo.cleanup().await?;
    assert!(!mongo_exists(&name).await?, "{name} after cleanup");

    let mongo = TestMongoDatabase::create().await?;
    let name = mongo.name().to_owned();
    mongo
        .database()
        .collection("marker")
        .insert_one(doc! {"n": 1})
        .await?;
    drop(mongo);
    assert!(!mongo_exists(&name).await?, "{name} after drop");
    Ok(())
}
