//! The API reference as clients get it: `GET /api/docs/openapi.json` on the gateway, in front of
//! the real user-, event-, inventory-, booking-, payment- and notification-service, lists every
//! route of them all.

use std::collections::BTreeSet;

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use ticketflow_common::auth::test_identity_key;
use ticketflow_common::kafka::topics;
use ticketflow_common::openapi::operations;
use ticketflow_gateway::config::{Service, Upstreams};
use ticketflow_testkit::{
    kafka_bootstrap, private_topics, setting, unreachable_addr, Spawned, TestMongoDatabase,
    TestPgDatabase,
};
use ticketflow_user::config::TEST_JWT_SECRET;

/// Gateway + user-, event- and inventory-service in-process (testkit's `Spawned`); stopped,
/// and the databases dropped, when it is dropped (fields drop in order: services first).
struct Stack {
    gateway: String,
    /// `(gateway name, base URL)` of every service started.
    services: Vec<(&'static str, String)>,
    http: Client,
    _services: Vec<Spawned>,
    _pg: [TestPgDatabase; 3],
    _mongo: [TestMongoDatabase; 3],
}

async fn start() -> anyhow::Result<Stack> {
    // The gateway and both services share the tests' identity key, as they share
    // `INTERNAL_SECRET` in a deployment.
    let pg = TestPgDatabase::create().await?;
    let user_config =
        ticketflow_user::Config::for_test(pg.url(), &kafka_bootstrap()?, test_identity_key());
    let mut user =
        Spawned::start(|listener, shutdown| ticketflow_user::run(user_config, listener, shutdown))
            .await?;

    // The consumers (event, inventory) read private copies of their topics.
    let prefix = private_topics(&[
        topics::EVENT_CREATED,
        topics::BOOKING_INITIATED,
        topics::SEATS_CONFIRM,
        topics::SEATS_RELEASE,
        topics::SEATS_AVAILABILITY,
        topics::SEATS_LOCKED,
        topics::SEATS_LOCK_FAILED,
        topics::PAYMENT_REQUESTED,
        topics::PAYMENT_PROCESSED,
        topics::BOOKING_FAILED,
        topics::BOOKING_CANCELLED,
        topics::BOOKING_CONFIRMED,
        topics::USER_REGISTERED,
    ])
    .await?;
    let mongo = TestMongoDatabase::create().await?;
    let mut event_config = ticketflow_event::Config::for_test(
        mongo.url(),
        mongo.name(),
        &kafka_bootstrap()?,
        test_identity_key(),
    );
    event_config.kafka_topic_prefix.clone_from(&prefix);
    let mut event = Spawned::start(|listener, shutdown| {
        ticketflow_event::run(event_config, listener, shutdown)
    })
    .await?;

    let inventory_pg = TestPgDatabase::create().await?;
    let inventory_config = ticketflow_inventory::Config::for_test(
        inventory_pg.url(),
        &setting("REDIS_URL")?,
        &kafka_bootstrap()?,
        &prefix,
        test_identity_key(),
    );
    let mut inventory = Spawned::start(|listener, shutdown| {
        ticketflow_inventory::run(inventory_config, listener, shutdown)
    })
    .await?;

    let booking_pg = TestPgDatabase::create().await?;
    let booking_config = ticketflow_booking::Config::for_test(
        booking_pg.url(),
        &kafka_bootstrap()?,
        &prefix,
        &event.base,
        test_identity_key(),
    );
    let mut booking = Spawned::start(|listener, shutdown| {
        ticketflow_booking::run(booking_config, listener, shutdown)
    })
    .await?;

    let payment_mongo = TestMongoDatabase::create().await?;
    let payment_config = ticketflow_payment::Config::for_test(
        payment_mongo.url(),
        payment_mongo.name(),
        &kafka_bootstrap()?,
        &prefix,
        test_identity_key(),
    );
    let mut payment = Spawned::start(|listener, shutdown| {
        ticketflow_payment::run(payment_config, listener, shutdown)
    })
    .await?;

    let notification_mongo = TestMongoDatabase::create().await?;
    let notification_config = ticketflow_notification::Config::for_test(
        notification_mongo.url(),
        notification_mongo.name(),
        &kafka_bootstrap()?,
        &prefix,
        test_identity_key(),
        &setting("SMTP_HOST")?,
        setting("SMTP_PORT")?.parse()?,
    );
    let mut notification = Spawned::start(|listener, shutdown| {
        ticketflow_notification::run(notification_config, listener, shutdown)
    })
    .await?;

    // Every upstream is set below; the rest of the table starts at an address nobody
    // listens on.
    let nowhere = format!("http://{}", unreachable_addr()?);
    let upstreams = Upstreams::all(&nowhere)?
        .with(Service::User, &user.base)?
        .with(Service::Event, &event.base)?
        .with(Service::Inventory, &inventory.base)?
        .with(Service::Booking, &booking.base)?
        .with(Service::Payment, &payment.base)?
        .with(Service::Notification, &notification.base)?;
    let mut gateway = Spawned::start(|listener, shutdown| {
        ticketflow_gateway::run(
            ticketflow_gateway::Config::for_test(TEST_JWT_SECRET, test_identity_key(), upstreams),
            listener,
            shutdown,
        )
    })
    .await?;

    user.wait_ready("/health/ready").await?;
    event.wait_ready("/health/ready").await?;
    inventory.wait_ready("/health/ready").await?;
    booking.wait_ready("/health/ready").await?;
    payment.wait_ready("/health/ready").await?;
    notification.wait_ready("/health/ready").await?;
    gateway.wait_ready("/health").await?;
    Ok(Stack {
        gateway: gateway.base.clone(),
        services: vec![
            ("user", user.base.clone()),
            ("event", event.base.clone()),
            ("inventory", inventory.base.clone()),
            ("booking", booking.base.clone()),
            ("payment", payment.base.clone()),
            ("notification", notification.base.clone()),
        ],
        http: gateway.client.clone(),
        _services: vec![
            gateway,
            user,
            event,
            inventory,
            booking,
            payment,
            notification,
        ],
        _pg: [pg, inventory_pg, booking_pg],
        _mongo: [mongo, payment_mongo, notification_mongo],
    })
}

impl Stack {
    async fn document(&self, url: &str) -> anyhow::Result<Value> {
        let response = self.http.get(url).send().await?;
        anyhow::ensure!(
            response.status() == StatusCode::OK,
            "{url}: {}",
            response.status()
        );
        Ok(response.json().await?)
    }
}

/// Every route the gateway and the services built so far offer through the gateway.
const THROUGH_THE_GATEWAY: [&str; 27] = [
    "GET /api/bookings/health",
    "GET /api/bookings/my",
    "GET /api/bookings/{id}",
    "GET /api/docs/openapi.json",
    "GET /api/events",
    "GET /api/events/{id}",
    "GET /api/events/{id}/poster",
    "GET /api/inventory/events/{eventId}/seats",
    "GET /api/inventory/events/{eventId}/seats/stream",
    "GET /api/notifications/health",
    "GET /api/notifications/recent",
    "GET /api/payments/booking/{bookingId}",
    "GET /api/payments/health",
    "GET /api/payments/{id}",
    "GET /api/users/health",
    "GET /api/users/me",
    "GET /api/venues",
    "GET /api/venues/{id}",
    "GET /health",
    "GET /health/all",
    "POST /api/bookings",
    "POST /api/bookings/{id}/cancel",
    "POST /api/events",
    "POST /api/users/login",
    "POST /api/users/register",
    "POST /api/venues",
    "PUT /api/events/{id}",
];

/// What each service serves on its own port only.
const INTERNAL: [&str; 4] = [
    "GET /health",
    "GET /health/ready",
    "GET /metrics",
    "GET /openapi.json",
];

#[tokio::test]
async fn the_gateway_document_lists_every_route_of_the_services_and_gateway() -> anyhow::Result<()>
{
    let stack = start().await?;
    // Public: no token.
    let merged = stack
        .document(&format!("{}/api/docs/openapi.json", stack.gateway))
        .await?;
    assert_eq!(operations(&merged), THROUGH_THE_GATEWAY, "{merged}");
    assert_eq!(
        merged["x-merged-services"],
        json!([
            "user",
            "event",
            "booking",
            "inventory",
            "payment",
            "notification"
        ])
    );
    assert_eq!(merged["x-unavailable-services"], json!([]));
    for service in [
        "user",
        "event",
        "booking",
        "inventory",
        "payment",
        "notification",
    ] {
        assert_eq!(
            merged["x-internal-routes"][service],
            json!(INTERNAL),
            "{service}"
        );
    }

    // Nothing a service documents is lost: each of its routes is in `paths` (with the
    // service's own definition) or among its internal routes.
    let merged_ops: BTreeSet<String> = operations(&merged).into_iter().collect();
    for (name, base) in &stack.services {
        let own = stack.document(&format!("{base}/openapi.json")).await?;
        for route in operations(&own) {
            let (method, path) = route.split_once(' ').unwrap_or_default();
            if path.starts_with("/api/") {
                assert!(merged_ops.contains(&route), "{name}: {route} missing");
                let method = method.to_ascii_lowercase();
                assert_eq!(
                    merged["paths"][path][&method], own["paths"][path][&method],
                    "{name}: {route} differs"
                );
            } else {
                assert!(INTERNAL.contains(&route.as_str()), "{name}: {route}");
            }
        }
    }

    // One shared envelope and bearer scheme; every reference resolves.
    let schemas = &merged["components"]["schemas"];
    for name in [
        "ErrorEnvelope",
        "UserView",
        "AuthResponse",
        "EventView",
        "VenueView",
        "SeatMapView",
    ] {
        assert!(schemas[name].is_object(), "{name} missing");
    }
    let renamed: Vec<&String> = schemas
        .as_object()
        .map(|s| s.keys().filter(|k| k.contains('.')).collect())
        .unwrap_or_default();
    assert!(renamed.is_empty(), "services disagree on {renamed:?}");
    assert_eq!(
        merged["components"]["securitySchemes"]["bearerAuth"]["scheme"],
        "bearer"
    );
    let mut refs = Vec::new();
    collect_refs(&merged, &mut refs);
    for reference in refs {
        let name = reference
            .strip_prefix("#/components/schemas/")
            .unwrap_or(&reference);
        assert!(schemas[name].is_object(), "dangling {reference}");
    }
    Ok(())
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                match (key.as_str(), child) {
                    ("$ref", Value::String(target)) => out.push(target.clone()),
                    _ => collect_refs(child, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}
