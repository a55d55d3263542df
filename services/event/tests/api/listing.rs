use serde_json::{json, Value};

use crate::support::{days_from_now, str_of, Service};

fn names(page: &Value) -> Vec<String> {
    page["events"]
        .as_array()
        .map(|es| es.iter().map(|e| str_of(e, "name").to_owned()).collect())
        .unwrap_or_default()
}

fn ids(page: &Value) -> Vec<String> {
    page["events"]
        .as_array()
        .map(|es| es.iter().map(|e| str_of(e, "id").to_owned()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn pagination_edges() -> anyhow::Result<()> {
    let svc = Service::start().await?;
    let venue = svc.create_venue("Blue Hall").await?;
    let venue_id = str_of(&venue, "id");
    for day in 1..=5 {
        svc.create_event(
            venue_id,
            json!({"name": format!("Day {day}"), "date": days_from_now(day)}),
        )
        .await?;
    }
    // Defaults, and the SPA's empty parameters.
    let all = svc.get("/api/events").await?;
    let all = all.expect(200)?;
    assert_eq!(
        (
            all["total"].clone(),
            all["page"].clone(),
            all["limit"].clone()
        ),
        (json!(5), json!(1), json!(10))
    );
    assert_eq!(
        names(all),
        vec!["Day 1", "Day 2", "Day 3", "Day 4", "Day 5"]
    );
    assert!(all["events"][0]["venue"]["name"] == "Blue Hall");
    let spa = svc
        .get("/api/events?page=1&limit=10&search=&venue_id=&from=&to=")
        .await?;
    assert_eq!(spa.expect(200)?, all);

    let mut seen = Vec::new();
    for (page, expected) in [(1, 2), (2, 2), (3, 1), (4, 0)] {
        let reply = svc.get(&format!("/api/events?page={page}&limit=2")).await?;
        let body = reply.expect(200)?;
        assert_eq!(body["total"], 5);
        assert_eq!(body["page"], page);
        assert_eq!(body["limit"], 2);
        assert_eq!(body["events"].as_array().map(Vec::len), Some(expected));
        seen.extend(names(body));
    }
    assert_eq!(seen, vec!["Day 1", "Day 2", "Day 3", "Day 4", "Day 5"]);
    let max = svc.get("/api/events?limit=100&page=10000").await?;
    assert_eq!(max.expect(200)?["events"], json!([]));

    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=-1", "limit"),
        ("limit=ten", "limit"),
        ("page=0", "page"),
        ("page=abc", "page"),
        ("page=1.5", "page"),
        ("page=10001", "page"),
        ("page=99999999999999999999", "page"),
    ] {
        svc.get(&format!("/api/events?{query}"))
            .await?
            .expect_invalid(field)
            .map_err(|e| e.context(query))?;
    }
    let both = svc.get("/api/events?page=0&limit=0").await?;
    both.expect(400)?;
    assert_eq!(both.fields(), vec!["page", "limit"]);
    svc.stop().await
}

#[tokio::test]
async fn search_is_literal_and_case_insensitive() -> anyhow::Result<()> {
    let svc = Service::start().await?;
    let venue = svc.create_venue("Blue Hall").await?;
    let venue_id = str_of(&venue, "id");
    for (name, description, tags) in [
        ("Rock (Live)", "Loud guitars", json!(["rock"])),
        ("A.B Show", "Letters and dots", json!([])),
        ("Costs $where", "Accounting comedy", json!([])),
        ("Brackets [x] night", "Square things", json!([])),
        ("Back\\slash", "Escapes", json!([])),
        (
            "Quiet evening",
            "Soft piano (solo)",
            json!(["Jazzy", "piano"]),
        ),
        ("AxB Show", "Letters only", json!([])),
    ] {
        svc.create_event(
            venue_id,
            json!({"name": name, "description": description, "tags": tags}),
        )
        .await?;
    }
    let search = |q: &'static str| {
        let svc = &svc;
        async move {
            let reply = svc
                .client
                .get(format!("{}/api/events", svc.base))
                .query(&[("search", q), ("limit", "100")])
                .send()
                .await?;
            anyhow::ensure!(
                reply.status().as_u16() == 200,
                "search {q:?}: {}",
                reply.status()
            );
            let body: Value = reply.json().await?;
            let mut found = names(&body);
            found.sort();
            anyhow::ensure!(body["total"] == json!(found.len()), "total for {q:?}");
            anyhow::Ok(found)
        }
    };
    assert_eq!(search("(").await?, vec!["Quiet evening", "Rock (Live)"]);
    assert_eq!(search("(live)").await?, vec!["Rock (Live)"]);
    assert_eq!(search(".*").await?, Vec::<String>::new());
    assert_eq!(search(".").await?, vec!["A.B Show"]);
    assert_eq!(search("a.b").await?, vec!["A.B Show"]);
    assert_eq!(search("$where").await?, vec!["Costs $where"]);
    assert_eq!(search("$").await?, vec!["Costs $where"]);
    assert_eq!(search("[").await?, vec!["Brackets [x] night"]);
    assert_eq!(search("[x]").await?, vec!["Brackets [x] night"]);
    assert_eq!(search("\\").await?, vec!["Back\\slash"]);
    assert_eq!(search("^A").await?, Vec::<String>::new());
    assert_eq!(search("show$").await?, Vec::<String>::new());
    assert_eq!(search("a|b").await?, Vec::<String>::new());
    assert_eq!(search("ROCK").await?, vec!["Rock (Live)"]);
    assert_eq!(search("  guitars ").await?, vec!["Rock (Live)"]);
    // An exact tag (tags are stored lowercase; the match ignores case), never a tag prefix.
    assert_eq!(search("jazzy").await?, vec!["Quiet evening"]);
    assert_eq!(search("JAZZY").await?, vec!["Quiet evening"]);
    assert_eq!(search("jazz").await?, Vec::<String>::new());
    assert_eq!(search("piano").await?, vec!["Quiet evening"]);
    assert_eq!(search("no such thing").await?, Vec::<String>::new());

    svc.get(&format!("/api/events?search={}", "x".repeat(101)))
        .await?
        .expect_invalid("search")?;
    svc.get("/api/events?search=a%00b")
        .await?
        .expect_invalid("search")?;
    let ok = svc
        .get(&format!("/api/events?search={}", "x".repeat(100)))
        .await?;
    assert_eq!(ok.expect(200)?["total"], 0);
    svc.stop().await
}

#[tokio::test]
async fn venue_and_date_filters() -> anyhow::Result<()> {
    let svc = Service::start().await?;
    let blue = svc.create_venue("Blue Hall").await?;
    let green = svc.create_venue("Green Room").await?;
    let (blue_id, green_id) = (str_of(&blue, "id"), str_of(&green, "id"));
    svc.create_event(
        blue_id,
        json!({"name": "B1", "date": "2031-01-10T18:00:00Z"}),
    )
    .await?;
    svc.create_event(
        blue_id,
        json!({"name": "B2", "date": "2031-02-10T18:00:00Z"}),
    )
    .await?;
    svc.create_event(
        green_id,
        json!({"name": "G1", "date": "2031-01-20T18:00:00Z"}),
    )
    .await?;
    svc.create_event(
        green_id,
        json!({"name": "G2", "date": "2031-03-10T18:00:00Z"}),
    )
    .await?;

    let get = |query: String| {
        let svc = &svc;
        async move {
            let reply = svc.get(&format!("/api/events?{query}")).await?;
            let body = reply.expect(200)?.clone();
            anyhow::Ok((names(&body), body["total"].clone()))
        }
    };
    assert_eq!(
        get(format!("venue_id={blue_id}")).await?,
        (vec!["B1".into(), "B2".into()], json!(2))
    );
    assert_eq!(
        get(format!("venue_id={}", green_id.to_uppercase())).await?,
        (vec!["G1".into(), "G2".into()], json!(2))
    );
    assert_eq!(
        get(format!("venue_id={}", uuid::Uuid::new_v4())).await?.1,
        json!(0)
    );
    assert_eq!(
        get("from=2031-01-15T00:00:00Z".into()).await?.0,
        vec!["G1", "B2", "G2"]
    );
    assert_eq!(
        get("to=2031-02-10T18:00:00Z".into()).await?.0,
        vec!["B1", "G1", "B2"],
        "to is inclusive"
    );
    assert_eq!(
        get("from=2031-01-10T18:00:00.000Z&to=2031-01-31T23:59:59%2B05:30".into())
            .await?
            .0,
        vec!["B1", "G1"],
        "from is inclusive, offsets are honoured"
    );
    assert_eq!(
        get(format!(
            "from=2031-01-15T00:00:00Z&venue_id={blue_id}&search=b"
        ))
        .await?
        .0,
        vec!["B2"]
    );

    svc.get("/api/events?venue_id=blue")
        .await?
        .expect_invalid("venue_id")?;
    svc.get("/api/events?from=yesterday")
        .await?
        .expect_invalid("from")?;
    svc.get("/api/events?to=2031-13-01T00:00:00Z")
        .await?
        .expect_invalid("to")?;
    svc.get("/api/events?from=2031-02-01T00:00:00Z&to=2031-01-01T00:00:00Z")
        .await?
        .expect_invalid("to")?;
    svc.stop().await
}

#[tokio::test]
async fn upcoming_first_then_past_in_a_stable_order() -> anyhow::Result<()> {
    let svc = Service::start().await?;
    let venue = svc.create_venue("Blue Hall").await?;
    let venue_id = str_of(&venue, "id");
    let same_day = days_from_now(2);
    let mut twins = Vec::new();
    for name in ["Twin A", "Twin B", "Twin C"] {
        let e = svc
            .create_event(venue_id, json!({"name": name, "date": same_day}))
            .await?;
        twins.push((str_of(&e, "id").to_owned(), name));
    }
    twins.sort();
    svc.create_event(venue_id, json!({"name": "Soon", "date": days_from_now(1)}))
        .await?;
    svc.create_event(venue_id, json!({"name": "Later", "date": days_from_now(9)}))
        .await?;
    svc.create_event(
        venue_id,
        json!({"name": "Yesterday", "date": days_from_now(-1)}),
    )
    .await?;
    svc.create_event(
        venue_id,
        json!({"name": "Last month", "date": days_from_now(-30)}),
    )
    .await?;

    let mut expected: Vec<String> = vec!["Soon".into()];
    expected.extend(twins.iter().map(|(_, n)| (*n).to_owned()));
    expected.extend(["Later", "Yesterday", "Last month"].map(String::from));

    let all = svc.get("/api/events").await?;
    let all = all.expect(200)?.clone();
    assert_eq!(
        names(&all),
        expected,
        "upcoming soonest first, then past most recent first"
    );
    assert_eq!(all["total"], 7);

    // Page by page, one at a time, gives the same sequence (ties broken by id).
    let mut paged = Vec::new();
    for page in 1..=8 {
        let reply = svc.get(&format!("/api/events?limit=1&page={page}")).await?;
        let body = reply.expect(200)?;
        assert_eq!(body["total"], 7);
        paged.extend(ids(body));
    }
    assert_eq!(paged, ids(&all));
    for limit in [2, 3] {
        let mut pages = Vec::new();
        for page in 1..=4 {
            let reply = svc
                .get(&format!("/api/events?limit={limit}&page={page}"))
                .await?;
            pages.extend(ids(reply.expect(200)?));
        }
        assert_eq!(pages, ids(&all), "limit {limit}");
    }

    // With `from`, plain date order.
    let ranged = svc
        .client
        .get(format!("{}/api/events", svc.base))
        .query(&[("from", days_from_now(-60))])
        .send()
        .await?
        .json::<Value>()
        .await?;
    let mut chronological: Vec<String> =
        vec!["Last month".into(), "Yesterday".into(), "Soon".into()];
    chronological.extend(twins.iter().map(|(_, n)| (*n).to_owned()));
    chronological.push("Later".into());
    assert_eq!(names(&ranged), chronological);
    svc.stop().await
}
