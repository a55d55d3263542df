use serde_json::{json, Value};

use crate::support::{merge, str_of, Service, ADMIN, ANON, USER};

fn venue_body() -> Value {
    json!({
        "name": "Blue Hall", "address": "7 Lake Road", "city": "Pune",
        "country": "India", "capacity": 1200
    })
}

#[tokio::test]
async fn create_list_and_get_venues() -> anyhow::Result<()> {
    let svc = Service::start().await?;
    assert_eq!(
        svc.get("/api/venues").await?.expect(200)?,
        &json!({"venues": []})
    );

    let reply = svc.post("/api/venues", ADMIN, &venue_body()).await?;
    let blue = reply.expect(201)?.clone();
    let id = str_of(&blue, "id").to_owned();
    let parsed = uuid::Uuid::parse_str(&id)?;
    assert_eq!(parsed.get_version_num(), 4);
    assert_eq!(parsed.to_string(), id, "lowercase hyphenated");
    assert_eq!(
        blue,
        json!({
            "id": id, "name": "Blue Hall", "address": "7 Lake Road", "city": "Pune",
            "country": "India", "capacity": 1200
        })
    );
    let amber = svc.create_venue("Amber Stage").await?;
    let zinc = svc.create_venue("Zinc Club").await?;

    let list = svc.get("/api/venues").await?;
    let names: Vec<&str> = list.expect(200)?["venues"]
        .as_array()
        .map(|vs| vs.iter().map(|v| str_of(v, "name")).collect())
        .unwrap_or_default();
    assert_eq!(names, vec!["Amber Stage", "Blue Hall", "Zinc Club"]);

    let one = svc
        .get(&format!("/api/venues/{}", str_of(&zinc, "id")))
        .await?;
    assert_eq!(one.expect(200)?, &zinc);
    // Any case of the id finds it.
    let upper = str_of(&amber, "id").to_uppercase();
    assert_eq!(
        svc.get(&format!("/api/venues/{upper}"))
            .await?
            .expect(200)?,
        &amber
    );

    svc.get(&format!("/api/venues/{}", uuid::Uuid::new_v4()))
        .await?
        .expect_error(404, "VENUE_NOT_FOUND")?;
    svc.get("/api/venues/not-a-uuid")
        .await?
        .expect_error(404, "VENUE_NOT_FOUND")?;
    svc.stop().await
}

#[tokio::test]
async fn only_admins_create_venues() -> anyhow::Result<()> {
    let svc = Service::start().await?;
    svc.post("/api/venues", ANON, &venue_body())
        .await?
        .expect_error(401, "UNAUTHORIZED")?;
    svc.post("/api/venues", USER, &venue_body())
        .await?
        .expect_error(403, "FORBIDDEN")?;
    // A malformed identity is no identity.
    let reply = svc
        .client
        .post(format!("{}/api/venues", svc.base))
        .header("x-user-id", "nobody")
        .header("x-user-email", "a@b.c")
        .header("x-user-role", "ADMIN")
        .json(&venue_body())
        .send()
        .await?;
    assert_eq!(reply.status().as_u16(), 401);
    assert_eq!(
        svc.get("/api/venues").await?.expect(200)?["venues"],
        json!([])
    );
    svc.stop().await
}

#[tokio::test]
async fn venue_validation_names_each_field() -> anyhow::Result<()> {
    let svc = Service::start().await?;
    let long = "x".repeat(201);
    let cases: Vec<(Value, &str)> = vec![
        (json!({"name": null}), "name"),
        (json!({"name": "  "}), "name"),
        (json!({"name": long}), "name"),
        (json!({"address": ""}), "address"),
        (json!({"address": "a".repeat(501)}), "address"),
        (json!({"city": 5}), "city"),
        (json!({"country": "c".repeat(101)}), "country"),
        (json!({"capacity": 0}), "capacity"),
        (json!({"capacity": 1_000_001}), "capacity"),
        (json!({"capacity": "100"}), "capacity"),
        (json!({"capacity": 10.5}), "capacity"),
    ];
    for (overrides, field) in cases {
        let mut body = venue_body();
        merge(&mut body, overrides.clone());
        let reply = svc.post("/api/venues", ADMIN, &body).await?;
        reply
            .expect_invalid(field)
            .map_err(|e| e.context(format!("{overrides}")))?;
    }
    let mut missing = venue_body();
    if let Some(map) = missing.as_object_mut() {
        map.remove("city");
    }
    let reply = svc.post("/api/venues", ADMIN, &missing).await?;
    reply.expect_invalid("city")?;
    let reply = svc.post("/api/venues", ADMIN, &json!({})).await?;
    reply.expect(400)?;
    let mut fields = reply.fields();
    fields.sort();
    assert_eq!(
        fields,
        vec!["address", "capacity", "city", "country", "name"]
    );
    svc.post("/api/venues", ADMIN, &json!([1, 2]))
        .await?
        .expect_invalid("body")?;
    assert_eq!(
        svc.get("/api/venues").await?.expect(200)?["venues"],
        json!([])
    );
    svc.stop().await
}

/// Anyone who can reach the service directly could send these headers; without the gateway's
/// proof they are not an identity.
#[tokio::test]
async fn forged_admin_headers_are_refused() -> anyhow::Result<()> {
    let svc = Service::start().await?;
    let forged = svc
        .client
        .post(format!("{}/api/venues", svc.base))
        .header("x-user-id", uuid::Uuid::new_v4().to_string())
        .header("x-user-email", "admin@ticketflow.dev")
        .header("x-user-role", "ADMIN")
        .json(&venue_body())
        .send()
        .await?;
    assert_eq!(forged.status().as_u16(), 401);
    let body: serde_json::Value = forged.json().await?;
    assert_eq!(body["error"]["code"], "UNAUTHORIZED");
    assert_eq!(
        svc.get("/api/venues").await?.expect(200)?,
        &json!({"venues": []})
    );
    svc.stop().await
}
