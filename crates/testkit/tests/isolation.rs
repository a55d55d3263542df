//! Per-test databases really are separate, so tests can run in parallel.

use mongodb::bson::doc;

#[tokio::test]
async fn postgres_databases_do_not_share_data() -> anyhow::Result<()> {
    let (a, b) = (
        ticketflow_testkit::fresh_pg_pool().await?,
        ticketflow_testkit::fresh_pg_pool().await?,
    );
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
    let a = ticketflow_testkit::fresh_mongo_database().await?;
    let b = ticketflow_testkit::fresh_mongo_database().await?;
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
    a.drop().await?;
    Ok(())
}
