//! Thin HTTP handlers: extract, validate (domain), call the store/service, shape the JSON.

pub mod bodies;
pub mod events;
pub mod venues;

/// A path id in canonical form, or `None` when it is not a UUID (callers answer 404: an id
/// that cannot exist is simply not found).
pub(crate) fn parse_id(raw: &str) -> Option<String> {
    uuid::Uuid::parse_str(raw).ok().map(|id| id.to_string())
}
