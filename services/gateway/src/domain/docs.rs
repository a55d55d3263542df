//! Merging the services' OpenAPI documents into the gateway's (`GET /api/docs/openapi.json`).
//!
//! - A service's path goes into `paths` only when the gateway forwards it to that service
//!   ([`routing::resolve`]); the others (its `/health`, `/health/ready`, `/metrics`,
//!   `/openapi.json`) are served on the service's own port only and are listed under
//!   `x-internal-routes.<service>` as `"GET /path"`.
//! - Components are merged by name; a name already taken by a different definition is renamed
//!   `<service>.<Name>` in that service's document (references included) before merging, so
//!   no service's schema silently replaces another's.
//! - An operation id already taken is prefixed `<service>_`.
//! - Services merged are listed in `x-merged-services`, those that did not answer with a
//!   document in `x-unavailable-services` (both in contract order).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use crate::config::Service;
use crate::domain::routing::{self, Target};

/// The operations of a path item (other keys, e.g. `parameters`, are not operations).
pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

pub const MERGED: &str = "x-merged-services";
pub const UNAVAILABLE: &str = "x-unavailable-services";
pub const INTERNAL: &str = "x-internal-routes";

/// `own` (the gateway's document) with each service's document merged in; `None` for a service
/// that did not answer with one.
pub fn merge(own: Value, services: Vec<(Service, Option<Value>)>) -> Value {
    let Value::Object(mut root) = own else {
        return own;
    };
    let mut merged = Vec::new();
    let mut unavailable = Vec::new();
    let mut internal = Map::new();
    let mut operation_ids = operation_ids(&root);
    for (service, document) in services {
        match document.filter(|d| d["paths"].is_object()) {
            Some(document) => {
                let routes = merge_one(&mut root, service, document, &mut operation_ids);
                internal.insert(service.name().to_owned(), json!(routes));
                merged.push(service.name());
            }
            None => unavailable.push(service.name()),
        }
    }
    root.insert(MERGED.to_owned(), json!(merged));
    root.insert(UNAVAILABLE.to_owned(), json!(unavailable));
    root.insert(INTERNAL.to_owned(), Value::Object(internal));
    Value::Object(root)
}

/// Merges one service's document; returns its routes the gateway does not forward.
fn merge_one(
    own: &mut Map<String, Value>,
    service: Service,
    mut document: Value,
    operation_ids: &mut BTreeSet<String>,
) -> Vec<String> {
    rename_conflicts(own, service, &mut document);
    if let Some(sections) = document["components"].as_object() {
        for (section, entries) in sections {
            let (Some(entries), Some(target)) = (
                entries.as_object(),
                object(own, "components").and_then(|c| object(c, section)),
            ) else {
                continue;
            };
            for (name, definition) in entries {
                target
                    .entry(name.clone())
                    .or_insert_with(|| definition.clone());
            }
        }
    }
    if let (Some(tags), Some(target)) = (
        document["tags"].as_array(),
        own.entry("tags")
            .or_insert_with(|| Value::Array(Vec::new()))
            .as_array_mut(),
    ) {
        for tag in tags {
            if !target.iter().any(|t| t["name"] == tag["name"]) {
                target.push(tag.clone());
            }
        }
    }
    let mut internal = Vec::new();
    let paths = document["paths"].as_object().cloned().unwrap_or_default();
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        if routing::resolve(&path) != Target::Proxy(service) {
            internal.extend(
                item.keys()
                    .filter(|key| METHODS.contains(&key.as_str()))
                    .map(|method| format!("{} {path}", method.to_ascii_uppercase())),
            );
            continue;
        }
        let Some(target) = object(own, "paths").and_then(|paths| object(paths, &path)) else {
            continue;
        };
        for (key, operation) in item {
            if target.contains_key(key) {
                continue; // first come, first served (never a different service's route)
            }
            let mut operation = operation.clone();
            if METHODS.contains(&key.as_str()) {
                unique_operation_id(&mut operation, service, operation_ids);
            }
            target.insert(key.clone(), operation);
        }
    }
    internal.sort();
    internal
}

/// The object under `key`, created if absent; `None` if something else is there.
fn object<'a>(map: &'a mut Map<String, Value>, key: &str) -> Option<&'a mut Map<String, Value>> {
    map.entry(key.to_owned())
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
}

/// Renames, in `document`, every component whose name `own` already uses for a different
/// definition, and rewrites the references to it.
fn rename_conflicts(own: &Map<String, Value>, service: Service, document: &mut Value) {
    let mut renames: BTreeMap<String, String> = BTreeMap::new();
    if let Some(sections) = document["components"].as_object_mut() {
        for (section, entries) in sections.iter_mut() {
            let Some(entries) = entries.as_object_mut() else {
                continue;
            };
            let clashing: Vec<String> = entries
                .iter()
                .filter(|(name, definition)| {
                    own.get("components")
                        .and_then(|c| c.get(section))
                        .and_then(|entries| entries.get(name.as_str()))
                        .is_some_and(|existing| existing != *definition)
                })
                .map(|(name, _)| name.clone())
                .collect();
            for name in clashing {
                let renamed = format!("{}.{name}", service.name());
                if let Some(definition) = entries.remove(&name) {
                    entries.insert(renamed.clone(), definition);
                }
                renames.insert(
                    format!("#/components/{section}/{name}"),
                    format!("#/components/{section}/{renamed}"),
                );
            }
        }
    }
    if !renames.is_empty() {
        rewrite_refs(document, &renames);
    }
}

fn rewrite_refs(value: &mut Value, renames: &BTreeMap<String, String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                match child {
                    Value::String(target) if key == "$ref" => {
                        if let Some(renamed) = renames.get(target.as_str()) {
                            *target = renamed.clone();
                        }
                    }
                    _ => rewrite_refs(child, renames),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite_refs(v, renames)),
        _ => {}
    }
}

fn unique_operation_id(operation: &mut Value, service: Service, taken: &mut BTreeSet<String>) {
    let Some(id) = operation["operationId"].as_str().map(str::to_owned) else {
        return;
    };
    let mut unique = id.clone();
    if taken.contains(&unique) {
        unique = format!("{}_{id}", service.name());
        let mut n = 2;
        while taken.contains(&unique) {
            unique = format!("{}_{id}_{n}", service.name());
            n += 1;
        }
        operation["operationId"] = json!(unique);
    }
    taken.insert(unique);
}

fn operation_ids(document: &Map<String, Value>) -> BTreeSet<String> {
    document
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|paths| paths.values())
        .filter_map(Value::as_object)
        .flat_map(|item| item.values())
        .filter_map(|operation| operation["operationId"].as_str())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own() -> Value {
        json!({
            "openapi": "3.1.0",
            "info": {"title": "gateway", "version": "1"},
            "paths": {
                "/health": {"get": {"operationId": "health", "tags": ["health"]}},
                "/api/docs/openapi.json": {"get": {"operationId": "api_docs"}}
            },
            "components": {"schemas": {
                "ErrorEnvelope": {"type": "object", "title": "shared"},
                "Liveness": {"type": "object"}
            }}
        })
    }

    fn user() -> Value {
        json!({
            "openapi": "3.1.0",
            "info": {"title": "user-service", "version": "1"},
            "paths": {
                "/health": {"get": {"operationId": "health"}},
                "/metrics": {"get": {"operationId": "metrics"}},
                "/api/users/me": {"get": {
                    "operationId": "me",
                    "responses": {"401": {"content": {"application/json": {"schema": {
                        "$ref": "#/components/schemas/ErrorEnvelope"}}}}}
                }},
                "/api/users/login": {"post": {
                    "operationId": "login",
                    "responses": {"200": {"content": {"application/json": {"schema": {
                        "$ref": "#/components/schemas/Liveness"}}}}}
                }},
                "/api/events": {"get": {"operationId": "sneaky"}}
            },
            "components": {"schemas": {
                "ErrorEnvelope": {"type": "object", "title": "shared"},
                "Liveness": {"type": "string", "title": "a different one"},
                "UserView": {"type": "object"}
            }}
        })
    }

    fn event() -> Value {
        json!({
            "paths": {
                "/api/events": {"get": {"operationId": "me"}, "post": {"operationId": "create_event"}},
                "/api/events/{id}": {"get": {"operationId": "get_event"}}
            },
            "components": {"schemas": {"EventView": {"type": "object"}}}
        })
    }

    #[test]
    fn merges_forwarded_paths_and_lists_the_rest() {
        let doc = merge(
            own(),
            vec![
                (Service::User, Some(user())),
                (Service::Event, Some(event())),
                (Service::Booking, None),
                (Service::Payment, Some(json!({"not": "a document"}))),
            ],
        );
        let mut paths: Vec<&String> = doc["paths"]
            .as_object()
            .map(|p| p.keys().collect())
            .unwrap_or_default();
        paths.sort();
        assert_eq!(
            paths,
            [
                "/api/docs/openapi.json",
                "/api/events",
                "/api/events/{id}",
                "/api/users/login",
                "/api/users/me",
                "/health"
            ]
        );
        // The gateway's own /health stays; user's is internal, as is a path it does not own.
        assert_eq!(doc["paths"]["/health"]["get"]["tags"], json!(["health"]));
        assert_eq!(
            doc[INTERNAL]["user"],
            json!(["GET /api/events", "GET /health", "GET /metrics"])
        );
        assert_eq!(doc[INTERNAL]["event"], json!([]));
        assert_eq!(
            doc["paths"]["/api/events"]["get"]["operationId"],
            "event_me"
        );
        assert_eq!(doc[MERGED], json!(["user", "event"]));
        assert_eq!(doc[UNAVAILABLE], json!(["booking", "payment"]));
    }

    #[test]
    fn a_clashing_component_is_renamed_with_its_references() {
        let doc = merge(own(), vec![(Service::User, Some(user()))]);
        let schemas = &doc["components"]["schemas"];
        assert_eq!(schemas["Liveness"], json!({"type": "object"}));
        assert_eq!(
            schemas["user.Liveness"],
            json!({"type": "string", "title": "a different one"})
        );
        assert!(schemas.get("user.ErrorEnvelope").is_none(), "{schemas}");
        assert!(schemas["UserView"].is_object());
        let login = &doc["paths"]["/api/users/login"]["post"]["responses"]["200"];
        assert_eq!(
            login["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/user.Liveness"
        );
        let me = &doc["paths"]["/api/users/me"]["get"]["responses"]["401"];
        assert_eq!(
            me["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ErrorEnvelope"
        );
    }

    #[test]
    fn no_service_answering_still_gives_the_gateway_document() {
        let doc = merge(own(), Service::ALL.iter().map(|s| (*s, None)).collect());
        assert_eq!(doc["paths"], own()["paths"]);
        assert_eq!(doc[UNAVAILABLE].as_array().map(Vec::len), Some(6));
    }
}
