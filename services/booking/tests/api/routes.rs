//! The contract of `/api/bookings`: create validation and its error codes, the caller's list,
//! reading one booking, and the Idempotency-Key (per user, safe under concurrent retries).

use std::time::Duration;

use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use ticketflow_common::auth::test_identity_key;
use ticketflow_common::kafka::messages::SeatsLockFailed;
use ticketflow_common::kafka::topics;
use ticketflow_testkit::unreachable_addr;
use uuid::Uuid;

use crate::support::{expect, id_of, start, start_with, uuid_of, Booking, User};

fn seats(n: usize) -> Vec<Uuid> {
    (0..n).map(|_| Uuid::new_v4()).collect()
}

/// `POST /api/bookings` with `body` as `user`, plus `extra` headers.
async fn create(
    booking: &Booking,
    user: Option<&User>,
    body: &Value,
    extra: &[(&str, &str)],
) -> anyhow::Result<(StatusCode, Value)> {
    booking
        .call(Method::POST, "/api/bookings", user, Some(body), extra)
        .await
}

/// `POST /api/bookings` as `user` with a raw body of the given content type.
async fn create_raw(
    booking: &Booking,
    user: &User,
    content_type: &str,
    body: &'static str,
) -> anyhow::Result<(StatusCode, Value)> {
    let response = booking
        .service
        .client
        .post(booking.url("/api/bookings"))
        .headers(test_identity_key().forwarded_headers(
            &user.id.to_string(),
            &user.email,
            user.role,
        ))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await?;
    let status = StatusCode::from_u16(response.status().as_u16())?;
    Ok((status, response.json().await?))
}

async fn mine(booking: &Booking, user: &User, query: &str) -> anyhow::Result<(StatusCode, Value)> {
    booking
        .call(
            Method::GET,
            &format!("/api/bookings/my{query}"),
            Some(user),
            None,
            &[],
        )
        .await
}

async fn rows(booking: &Booking) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM bookings")
        .fetch_one(&booking.pool)
        .await?)
}

/// Asserts `status` and `error.code`.
#[track_caller]
fn assert_error(answer: &(StatusCode, Value), status: StatusCode, code: &str) {
    let (got, body) = answer;
    assert_eq!(
        (*got, body["error"]["code"].as_str()),
        (status, Some(code)),
        "{body}"
    );
}

/// The fields `details` names, sorted.
fn fields(body: &Value) -> Vec<String> {
    let mut names: Vec<String> = body["error"]["details"]
        .as_array()
        .map(|details| {
            details
                .iter()
                .filter_map(|d| d["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Asserts `400 VALIDATION_ERROR` naming exactly `expected` in `details`.
#[track_caller]
fn assert_invalid(answer: &(StatusCode, Value), expected: &[&str]) {
    assert_error(answer, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(fields(&answer.1), expected, "{}", answer.1);
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|items| items.iter().map(id_of).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_validates_the_seats_and_the_body_and_creates_nothing_on_failure(
) -> anyhow::Result<()> {
    let booking = start().await?;
    let user = User::new();
    let event_id = booking.add_event(30, 250.0);

    // Seat counts: 1 to MAX_SEATS_PER_BOOKING (10) distinct seats.
    for bad in [seats(0), seats(11)] {
        let answer = booking.book(&user, event_id, &bad).await?;
        assert_error(&answer, StatusCode::BAD_REQUEST, "INVALID_SEAT_COUNT");
    }
    let seat = Uuid::new_v4();
    let answer = booking
        .book(&user, event_id, &[seat, Uuid::new_v4(), seat])
        .await?;
    assert_error(&answer, StatusCode::BAD_REQUEST, "INVALID_SEAT_COUNT");

    // Shapes: every problem named under its field.
    let good_seats = json!([Uuid::new_v4()]);
    let cases = [
        (json!({"seatIds": good_seats}), vec!["eventId"]),
        (
            json!({"eventId": null, "seatIds": good_seats}),
            vec!["eventId"],
        ),
        (
            json!({"eventId": "not-a-uuid", "seatIds": good_seats}),
            vec!["eventId"],
        ),
        (
            json!({"eventId": 42, "seatIds": good_seats}),
            vec!["eventId"],
        ),
        (json!({"eventId": event_id}), vec!["seatIds"]),
        (
            json!({"eventId": event_id, "seatIds": Uuid::new_v4()}),
            vec!["seatIds"],
        ),
        (
            json!({"eventId": event_id, "seatIds": {"0": Uuid::new_v4()}}),
            vec!["seatIds"],
        ),
        (
            json!({"eventId": event_id, "seatIds": [Uuid::new_v4(), "A7"]}),
            vec!["seatIds"],
        ),
        (
            json!({"eventId": event_id, "seatIds": [Uuid::new_v4(), 7]}),
            vec!["seatIds"],
        ),
        (json!({}), vec!["eventId", "seatIds"]),
        (
            json!({"eventId": "x", "seatIds": "y"}),
            vec!["eventId", "seatIds"],
        ),
        (json!([event_id]), vec!["body"]),
        (json!("book me"), vec!["body"]),
    ];
    for (body, expected) in &cases {
        let answer = create(&booking, Some(&user), body, &[]).await?;
        assert_invalid(&answer, expected);
    }

    // Not JSON at all, or not declared as JSON.
    let answer = create_raw(&booking, &user, "application/json", "{\"eventId\": ").await?;
    assert_invalid(&answer, &["body"]);
    let answer = create_raw(&booking, &user, "application/json", "not json").await?;
    assert_invalid(&answer, &["body"]);
    let answer = create_raw(&booking, &user, "text/plain", "{}").await?;
    assert_invalid(&answer, &["body"]);

    assert_eq!(rows(&booking).await?, 0, "a rejected create left a row");

    // The limits themselves are accepted: 1 seat and 10 seats.
    for n in [1, 10] {
        let (status, body) = booking.book(&user, event_id, &seats(n)).await?;
        assert_eq!(status, StatusCode::ACCEPTED, "{n} seats: {body}");
        assert_eq!(body["seatIds"].as_array().map(Vec::len), Some(n));
        assert_eq!(body["totalAmount"], 250.0 * n as f64);
        assert_eq!(body["status"], "PENDING");
        assert_eq!(body["step"], "AWAITING_SEATS");
        assert_eq!(body["userId"], user.id.to_string());
        assert_eq!(body["bookingId"], body["id"]);
    }
    assert_eq!(rows(&booking).await?, 2);
    booking.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_answers_for_the_event_and_the_caller() -> anyhow::Result<()> {
    let booking = start().await?;
    let user = User::new();

    let answer = booking.book(&user, Uuid::new_v4(), &seats(2)).await?;
    assert_error(&answer, StatusCode::NOT_FOUND, "EVENT_NOT_FOUND");

    let started = booking.add_event(-1, 300.0);
    let answer = booking.book(&user, started, &seats(2)).await?;
    assert_error(
        &answer,
        StatusCode::UNPROCESSABLE_ENTITY,
        "EVENT_ALREADY_STARTED",
    );

    // No identity: 401, whatever the body.
    let upcoming = booking.add_event(30, 300.0);
    for body in [
        json!({"eventId": upcoming, "seatIds": seats(2)}),
        json!({"eventId": "nope"}),
    ] {
        let answer = create(&booking, None, &body, &[]).await?;
        assert_error(&answer, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    }
    for path in [
        "/api/bookings/my",
        &format!("/api/bookings/{}", Uuid::new_v4()),
    ] {
        let answer = booking.call(Method::GET, path, None, None, &[]).await?;
        assert_error(&answer, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    }

    assert_eq!(rows(&booking).await?, 0);
    let (status, body) = booking.book(&user, upcoming, &seats(2)).await?;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(rows(&booking).await?, 1);
    booking.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_service_down_is_503_and_creates_nothing() -> anyhow::Result<()> {
    let dead = unreachable_addr()?;
    let booking = start_with(|config| config.event_service_url = format!("http://{dead}")).await?;
    let user = User::new();

    let answer = booking.book(&user, Uuid::new_v4(), &seats(2)).await?;
    assert_error(
        &answer,
        StatusCode::SERVICE_UNAVAILABLE,
        "SERVICE_UNAVAILABLE",
    );
    // Validation does not need event-service.
    let answer = booking.book(&user, Uuid::new_v4(), &[]).await?;
    assert_error(&answer, StatusCode::BAD_REQUEST, "INVALID_SEAT_COUNT");
    assert_eq!(
        rows(&booking).await?,
        0,
        "a booking was stored without its event"
    );
    // Reading does not need it either.
    let (status, body) = mine(&booking, &user, "").await?;
    assert_eq!((status, body), (StatusCode::OK, json!([])));
    booking.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn my_bookings_are_the_callers_own_newest_first_and_filter_by_status() -> anyhow::Result<()> {
    let booking = start().await?;
    let failures = booking.watch(&[topics::BOOKING_FAILED])?;
    let user = User::new();
    let other = User::new();
    let event_id = booking.add_event(30, 100.0);

    let mut created = Vec::new();
    for n in 1..=3 {
        let (status, body) = booking.book(&user, event_id, &seats(n)).await?;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        created.push(body);
    }
    let (status, theirs) = booking.book(&other, event_id, &seats(1)).await?;
    assert_eq!(status, StatusCode::ACCEPTED, "{theirs}");

    // A bare array, newest first, only the caller's.
    let (status, list) = mine(&booking, &user, "").await?;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert!(list.is_array(), "{list}");
    let newest_first: Vec<String> = created.iter().rev().map(id_of).collect();
    assert_eq!(ids(&list), newest_first);
    assert!(!ids(&list).contains(&id_of(&theirs)));
    assert_eq!(list[0]["seatIds"].as_array().map(Vec::len), Some(3));
    assert_eq!(list[0]["eventName"], "Monsoon Jazz");
    let (status, list) = mine(&booking, &other, "").await?;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(ids(&list), vec![id_of(&theirs)]);
    let (status, list) = mine(&booking, &User::new(), "").await?;
    assert_eq!((status, list), (StatusCode::OK, json!([])));

    // The oldest one fails (inventory could not hold its seats).
    let failing = &created[0];
    let failing_id = id_of(failing);
    booking
        .send(SeatsLockFailed {
            booking_id: uuid_of(failing),
            event_id,
            reason: "SEATS_UNAVAILABLE".into(),
            conflicting_seat_ids: Vec::new(),
        })
        .await?;
    expect(&failures, "booking.failed", &failing_id).await?;
    booking.wait_step(&user, &failing_id, "FAILED").await?;

    let pending: Vec<String> = created[1..].iter().rev().map(id_of).collect();
    for query in ["?status=PENDING", "?status=pending"] {
        let (status, list) = mine(&booking, &user, query).await?;
        assert_eq!(status, StatusCode::OK, "{query}: {list}");
        assert_eq!(ids(&list), pending, "{query}");
        assert!(list
            .as_array()
            .is_some_and(|l| l.iter().all(|b| b["status"] == "PENDING")));
    }
    let (status, list) = mine(&booking, &user, "?status=FAILED").await?;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(ids(&list), vec![failing_id.clone()]);
    assert_eq!(list[0]["failureReason"], "SEATS_UNAVAILABLE");
    let (status, list) = mine(&booking, &user, "?status=CONFIRMED").await?;
    assert_eq!((status, list), (StatusCode::OK, json!([])));
    // Another user's filter never shows this user's failed booking.
    let (status, list) = mine(&booking, &other, "?status=FAILED").await?;
    assert_eq!((status, list), (StatusCode::OK, json!([])));
    // No filter (or an empty one): all three again.
    for query in ["", "?status="] {
        let (status, list) = mine(&booking, &user, query).await?;
        assert_eq!(status, StatusCode::OK, "{query}: {list}");
        assert_eq!(ids(&list), newest_first, "{query}");
    }

    for bogus in ["?status=bogus", "?status=PENDINGX"] {
        let answer = mine(&booking, &user, bogus).await?;
        assert_invalid(&answer, &["status"]);
    }
    booking.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booking_is_visible_to_its_owner_and_admins_only() -> anyhow::Result<()> {
    let booking = start().await?;
    let owner = User::new();
    let event_id = booking.add_event(30, 499.5);
    let seat_ids = seats(2);
    let (status, created) = booking.book(&owner, event_id, &seat_ids).await?;
    assert_eq!(status, StatusCode::ACCEPTED, "{created}");
    let id = id_of(&created);

    for malformed in ["not-a-uuid", "123", "%20"] {
        let answer = booking.get(&owner, malformed).await?;
        assert_error(&answer, StatusCode::NOT_FOUND, "BOOKING_NOT_FOUND");
    }
    let answer = booking.get(&owner, &Uuid::new_v4().to_string()).await?;
    assert_error(&answer, StatusCode::NOT_FOUND, "BOOKING_NOT_FOUND");

    let (status, body) = booking.get(&owner, &id).await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["id"], id.as_str());
    assert_eq!(body["userId"], owner.id.to_string());
    assert_eq!(body["eventId"], event_id.to_string());
    assert_eq!(body["seatIds"], json!(seat_ids));
    assert_eq!(body["totalAmount"], 999.0);
    assert_eq!(body["currency"], "INR");
    assert_eq!(body["status"], "PENDING");
    assert!(body.get("bookingId").is_none(), "{body}");

    let (status, as_admin) = booking.get(&User::admin(), &id).await?;
    assert_eq!(status, StatusCode::OK, "{as_admin}");
    assert_eq!(as_admin["id"], id.as_str());
    assert_eq!(as_admin["userId"], owner.id.to_string());

    // Someone else's booking looks exactly like none.
    let answer = booking.get(&User::new(), &id).await?;
    assert_error(&answer, StatusCode::NOT_FOUND, "BOOKING_NOT_FOUND");
    booking.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_retries_with_one_key_make_one_booking_and_one_message() -> anyhow::Result<()> {
    let booking = start().await?;
    let initiated = booking.watch(&[topics::BOOKING_INITIATED])?;
    let user = User::new();
    let event_id = booking.add_event(30, 1200.0);
    let seat_ids = seats(3);
    let body = json!({"eventId": event_id, "seatIds": seat_ids});
    let key = Uuid::new_v4().to_string();
    let headers = [("Idempotency-Key", key.as_str())];

    let answers = join_all((0..20).map(|_| create(&booking, Some(&user), &body, &headers))).await;
    let mut ids = Vec::new();
    for answer in answers {
        let (status, body) = answer?;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        ids.push(id_of(&body));
    }
    let id = ids[0].clone();
    assert!(!id.is_empty());
    assert!(ids.iter().all(|other| *other == id), "{ids:?}");
    assert_eq!(rows(&booking).await?, 1);

    // A later retry, seats in another order, is the same request.
    let mut reordered = seat_ids.clone();
    reordered.reverse();
    let (status, again) = create(
        &booking,
        Some(&user),
        &json!({"eventId": event_id, "seatIds": reordered}),
        &headers,
    )
    .await?;
    assert_eq!((status, id_of(&again)), (StatusCode::ACCEPTED, id.clone()));
    assert_eq!(rows(&booking).await?, 1);

    // Exactly one booking.initiated: the one arrives, and no second one follows.
    let first = expect(&initiated, "booking.initiated", &id).await?;
    assert_eq!(first.payload["totalAmount"], 3600.0);
    let more = initiated
        .collect(Duration::from_secs(3), |r| {
            r.payload["bookingId"] == id.as_str()
        })
        .await?;
    assert!(more.is_empty(), "duplicate booking.initiated: {more:?}");
    booking.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_is_bound_to_its_request_and_to_its_user() -> anyhow::Result<()> {
    let booking = start().await?;
    let user = User::new();
    let event_id = booking.add_event(30, 100.0);
    let other_event = booking.add_event(40, 100.0);
    let seat_ids = seats(2);
    let key = format!("checkout-{}", Uuid::new_v4());
    let headers = [("Idempotency-Key", key.as_str())];

    let (status, first) = create(
        &booking,
        Some(&user),
        &json!({"eventId": event_id, "seatIds": seat_ids}),
        &headers,
    )
    .await?;
    assert_eq!(status, StatusCode::ACCEPTED, "{first}");

    // The same key for other seats, fewer seats, or another event: refused.
    for body in [
        json!({"eventId": event_id, "seatIds": seats(2)}),
        json!({"eventId": event_id, "seatIds": [seat_ids[0]]}),
        json!({"eventId": other_event, "seatIds": seat_ids}),
    ] {
        let answer = create(&booking, Some(&user), &body, &headers).await?;
        assert_error(
            &answer,
            StatusCode::UNPROCESSABLE_ENTITY,
            "IDEMPOTENCY_KEY_REUSED",
        );
    }
    assert_eq!(rows(&booking).await?, 1);

    // Keys are per user: another user's identical request under the same key is theirs.
    let other = User::new();
    let (status, theirs) = create(
        &booking,
        Some(&other),
        &json!({"eventId": event_id, "seatIds": seat_ids}),
        &headers,
    )
    .await?;
    assert_eq!(status, StatusCode::ACCEPTED, "{theirs}");
    assert_ne!(id_of(&theirs), id_of(&first));
    assert_eq!(theirs["userId"], other.id.to_string());
    assert_eq!(rows(&booking).await?, 2);
    // And each user's retry still finds their own.
    for (who, mine) in [(&user, &first), (&other, &theirs)] {
        let (status, again) = create(
            &booking,
            Some(who),
            &json!({"eventId": event_id, "seatIds": seat_ids}),
            &headers,
        )
        .await?;
        assert_eq!((status, id_of(&again)), (StatusCode::ACCEPTED, id_of(mine)));
    }
    // Without a key, the same request is a new booking.
    let (status, fresh) = booking.book(&user, event_id, &seat_ids).await?;
    assert_eq!(status, StatusCode::ACCEPTED, "{fresh}");
    assert_ne!(id_of(&fresh), id_of(&first));
    assert_eq!(rows(&booking).await?, 3);
    booking.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_over_long_or_empty_key_is_a_validation_error() -> anyhow::Result<()> {
    let booking = start().await?;
    let user = User::new();
    let event_id = booking.add_event(30, 100.0);
    let body = json!({"eventId": event_id, "seatIds": seats(1)});

    let too_long = "k".repeat(256);
    for key in [too_long.as_str(), "", "   "] {
        let answer = create(&booking, Some(&user), &body, &[("Idempotency-Key", key)]).await?;
        assert_invalid(&answer, &["Idempotency-Key"]);
    }
    assert_eq!(rows(&booking).await?, 0);

    let longest = "k".repeat(255);
    let (status, created) = create(
        &booking,
        Some(&user),
        &body,
        &[("Idempotency-Key", &longest)],
    )
    .await?;
    assert_eq!(status, StatusCode::ACCEPTED, "{created}");
    let (status, again) = create(
        &booking,
        Some(&user),
        &body,
        &[("Idempotency-Key", &longest)],
    )
    .await?;
    assert_eq!(
        (status, id_of(&again)),
        (StatusCode::ACCEPTED, id_of(&created))
    );
    assert_eq!(rows(&booking).await?, 1);
    booking.stop().await
}
