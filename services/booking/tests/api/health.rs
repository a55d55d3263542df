//! Health, readiness, the OpenAPI document, and behaviour while the database is unreachable.

use axum::Router;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use ticketflow_booking::Config;
use ticketflow_common::auth::test_identity_key;
use ticketflow_testkit::{kafka_bootstrap, unreachable_addr, Spawned};
use uuid::Uuid;

use crate::support::{start, User};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_and_documented_routes() -> anyhow::Result<()> {
    let booking = start().await?;
    for path in ["/health", "/api/bookings/health"] {
        let (status, body) = booking.call(Method::GET, path, None, None, &[]).await?;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        assert_eq!(body["status"], "up", "{path}: {body}");
        assert_eq!(body["service"], "booking-service", "{path}: {body}");
    }
    let (status, body) = booking
        .call(Method::GET, "/health/ready", None, None, &[])
        .await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "up", "{body}");
    assert_eq!(body["service"], "booking-service", "{body}");
    for check in ["postgres", "schema"] {
        assert_eq!(body["checks"][check], "up", "{body}");
    }

    let (status, doc) = booking
        .call(Method::GET, "/openapi.json", None, None, &[])
        .await?;
    assert_eq!(status, StatusCode::OK);
    for (method, path) in [
        ("post", "/api/bookings"),
        ("get", "/api/bookings/my"),
        ("get", "/api/bookings/{id}"),
        ("post", "/api/bookings/{id}/cancel"),
        ("get", "/api/bookings/health"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{} {path} undocumented",
            method.to_uppercase()
        );
    }
    booking.stop().await
}

/// A `Spawned` service's answer to `method path` as `user` (JSON body or none).
async fn call(
    service: &Spawned,
    method: Method,
    path: &str,
    user: Option<&User>,
    body: Option<&Value>,
) -> anyhow::Result<(StatusCode, Value)> {
    let mut request = service.client.request(method, service.url(path));
    if let Some(user) = user {
        request = request.headers(test_identity_key().forwarded_headers(
            &user.id.to_string(),
            &user.email,
            user.role,
        ));
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await?;
    let status = StatusCode::from_u16(response.status().as_u16())?;
    Ok((status, response.json().await?))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_database_means_503_not_a_crash() -> anyhow::Result<()> {
    // event-service answers (404 for every event), so a 503 can only come from the database.
    let catalogue = Spawned::start(|listener, shutdown| async move {
        axum::serve(listener, Router::new())
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await?;
        Ok(())
    })
    .await?;
    let dead = unreachable_addr()?;
    let config = Config::for_test(
        &format!("postgres://postgres@{dead}/ticketflow_bookings"),
        &kafka_bootstrap()?,
        "",
        &catalogue.base,
        test_identity_key(),
    );
    let service =
        Spawned::start(|listener, shutdown| ticketflow_booking::run(config, listener, shutdown))
            .await?;
    let user = User::new();

    let (status, body) = call(&service, Method::GET, "/health", None, None).await?;
    assert_eq!((status, &body["status"]), (StatusCode::OK, &json!("up")));
    let (status, body) = call(&service, Method::GET, "/health/ready", None, None).await?;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["status"], "down", "{body}");
    for check in ["postgres", "schema"] {
        assert_eq!(body["checks"][check], "down", "{body}");
    }

    let event_id = Uuid::new_v4();
    let good = json!({"eventId": event_id, "seatIds": [Uuid::new_v4()]});
    let (status, body) = call(
        &service,
        Method::POST,
        "/api/bookings",
        Some(&user),
        Some(&good),
    )
    .await?;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("SERVICE_UNAVAILABLE")),
        "{body}"
    );
    for path in [
        "/api/bookings/my".to_owned(),
        format!("/api/bookings/{}", Uuid::new_v4()),
    ] {
        let (status, body) = call(&service, Method::GET, &path, Some(&user), None).await?;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::SERVICE_UNAVAILABLE, Some("SERVICE_UNAVAILABLE")),
            "{path}: {body}"
        );
    }

    // What needs no database still answers: validation, then authentication.
    let (status, body) = call(
        &service,
        Method::POST,
        "/api/bookings",
        Some(&user),
        Some(&json!({"eventId": "nope", "seatIds": "x"})),
    )
    .await?;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("VALIDATION_ERROR")),
        "{body}"
    );
    let (status, body) = call(
        &service,
        Method::POST,
        "/api/bookings",
        Some(&user),
        Some(&json!({"eventId": event_id, "seatIds": []})),
    )
    .await?;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("INVALID_SEAT_COUNT")),
        "{body}"
    );
    let (status, body) = call(&service, Method::POST, "/api/bookings", None, Some(&good)).await?;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("UNAUTHORIZED")),
        "{body}"
    );

    service.stop().await?;
    catalogue.stop().await
}
