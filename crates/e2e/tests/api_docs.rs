//! The API reference as clients get it: `GET /api/docs/openapi.json` on the gateway, in front of
//! the real user-service (PostgreSQL, Kafka) and event-service (MongoDB, Kafka), lists every
//! route of the three.

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use ticketflow_common::auth::IdentityKey;
use ticketflow_common::config::Secret;
use ticketflow_common::openapi::operations;
use ticketflow_gateway::config::{Service, Upstreams};
use ticketflow_testkit::{eventually, free_port, kafka_bootstrap, setting, unique_db_name};
use tokio_util::sync::CancellationToken;

const JWT_SECRET: &str = "e2e-docs-secret-0123456789-abcdefghijklm";

/// The gateway and both services share it, as they share `INTERNAL_SECRET` in a deployment.
fn identity_key() -> IdentityKey {
    IdentityKey::new(Secret::new("e2e-docs-internal-secret-0123456789abcdef"))
}

/// Gateway + user-service + event-service on free ports; stopped when dropped.
struct Stack {
    gateway: String,
    user: String,
    event: String,
    http: Client,
    shutdown: CancellationToken,
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn start() -> anyhow::Result<Stack> {
    let shutdown = CancellationToken::new();

    let user_port = free_port()?;
    let user_config = ticketflow_user::Config {
        port: user_port,
        database_url: Secret::new(ticketflow_testkit::fresh_pg_database().await?),
        db_max_connections: 5,
        kafka_bootstrap: kafka_bootstrap()?,
        jwt_secret: Secret::new(JWT_SECRET),
        identity_key: identity_key(),
        jwt_expiration_ms: 60_000,
        password_cost: ticketflow_user::password::PasswordCost::TEST_ONLY_MINIMAL,
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", user_port)).await?;
    tokio::spawn(ticketflow_user::run(
        user_config,
        listener,
        shutdown.clone(),
    ));

    let event_port = free_port()?;
    let event_config = ticketflow_event::Config::for_test(
        &setting("MONGODB_URL")?,
        &unique_db_name("tftest_e2e_docs"),
        &kafka_bootstrap()?,
        identity_key(),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", event_port)).await?;
    tokio::spawn(ticketflow_event::run(
        event_config,
        listener,
        shutdown.clone(),
    ));

    // The services not built yet point at a port nobody listens on.
    let nowhere = format!("http://127.0.0.1:{}", free_port()?);
    let user = format!("http://127.0.0.1:{user_port}");
    let event = format!("http://127.0.0.1:{event_port}");
    let upstreams = Upstreams::all(&nowhere)?
        .with(Service::User, &user)?
        .with(Service::Event, &event)?;
    let gateway_port = free_port()?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", gateway_port)).await?;
    tokio::spawn(ticketflow_gateway::run(
        ticketflow_gateway::Config::for_test(JWT_SECRET, identity_key(), upstreams),
        listener,
        shutdown.clone(),
    ));

    let stack = Stack {
        gateway: format!("http://127.0.0.1:{gateway_port}"),
        user,
        event,
        http: Client::builder().timeout(Duration::from_secs(20)).build()?,
        shutdown,
    };
    let ready = [
        format!("{}/health/ready", stack.user),
        format!("{}/health/ready", stack.event),
        format!("{}/health", stack.gateway),
    ];
    for url in ready {
        eventually(Duration::from_secs(30), &url, || async {
            let response = stack.http.get(&url).send().await;
            Ok(response
                .ok()
                .filter(|r| r.status() == StatusCode::OK)
                .map(|_| ()))
        })
        .await?;
    }
    Ok(stack)
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

/// Every route the gateway, user-service and event-service offer through the gateway.
const THROUGH_THE_GATEWAY: [&str; 15] = [
    "GET /api/docs/openapi.json",
    "GET /api/events",
    "GET /api/events/{id}",
    "GET /api/events/{id}/poster",
    "GET /api/users/health",
    "GET /api/users/me",
    "GET /api/venues",
    "GET /api/venues/{id}",
    "GET /health",
    "GET /health/all",
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
async fn the_gateway_document_lists_every_route_of_user_event_and_gateway() -> anyhow::Result<()> {
    let stack = start().await?;
    // Public: no token.
    let merged = stack
        .document(&format!("{}/api/docs/openapi.json", stack.gateway))
        .await?;
    assert_eq!(operations(&merged), THROUGH_THE_GATEWAY, "{merged}");
    assert_eq!(merged["x-merged-services"], json!(["user", "event"]));
    assert_eq!(
        merged["x-unavailable-services"],
        json!(["booking", "inventory", "payment", "notification"])
    );
    assert_eq!(merged["x-internal-routes"]["user"], json!(INTERNAL));
    assert_eq!(merged["x-internal-routes"]["event"], json!(INTERNAL));

    // Nothing a service documents is lost: each of its routes is in `paths` (with the
    // service's own definition) or among its internal routes.
    let merged_ops: BTreeSet<String> = operations(&merged).into_iter().collect();
    for (name, base) in [("user", &stack.user), ("event", &stack.event)] {
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
