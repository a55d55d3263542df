//! Operations of the HTTP routes and the seed: reads, writes and their rules. Everything here
//! fails with an [`EventError`]; handlers only validate, call one of these, and shape JSON.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use mongodb::bson::{doc, Bson, Document};
use uuid::Uuid;

use crate::domain::event::{seats_change_allowed, EventPatch, NewEvent};
use crate::domain::listing::ListQuery;
use crate::domain::venue::NewVenue;
use crate::error::EventError;
use crate::messaging;
use crate::store::{bson_time, EventDoc, Store, VenueDoc};

/// An event and its venue (`None` if the venue has gone).
pub type EventWithVenue = (EventDoc, Option<VenueDoc>);

/// Event `id` (canonical UUID text) with its venue.
pub async fn event(store: &Store, id: &str) -> Result<EventWithVenue, EventError> {
    let event = store.event(id).await?.ok_or(EventError::EventNotFound)?;
    let venue = store.venue(&event.venue_id).await?;
    Ok((event, venue))
}

/// One page of events matching `query`, each with its venue (one extra query for the page),
/// and the total number matching.
pub async fn events(
    store: &Store,
    query: &ListQuery,
    now: DateTime<Utc>,
) -> Result<(Vec<EventWithVenue>, u64), EventError> {
    let (events, total) = store.list_events(query, now).await?;
    let mut ids: Vec<String> = events.iter().map(|e| e.venue_id.clone()).collect();
    ids.sort();
    ids.dedup();
    let venues: HashMap<String, VenueDoc> = store
        .venues_by_ids(&ids)
        .await?
        .into_iter()
        .map(|v| (v.id.clone(), v))
        .collect();
    let page = events
        .into_iter()
        .map(|e| {
            let venue = venues.get(&e.venue_id).cloned();
            (e, venue)
        })
        .collect();
    Ok((page, total))
}

/// Venue `id` (canonical UUID text).
pub async fn venue(store: &Store, id: &str) -> Result<VenueDoc, EventError> {
    store.venue(id).await?.ok_or(EventError::VenueNotFound)
}

/// Every venue, sorted by name.
pub async fn venues(store: &Store) -> Result<Vec<VenueDoc>, EventError> {
    Ok(store.venues().await?)
}

pub fn new_venue_doc(id: Uuid, venue: &NewVenue, now: &DateTime<Utc>) -> VenueDoc {
    VenueDoc {
        id: id.to_string(),
        name: venue.name.clone(),
        address: venue.address.clone(),
        city: venue.city.clone(),
        country: venue.country.clone(),
        capacity: i64::from(venue.capacity),
        created_at: bson_time(now),
        updated_at: bson_time(now),
    }
}

pub async fn create_venue(
    store: &Store,
    id: Uuid,
    venue: &NewVenue,
    now: &DateTime<Utc>,
) -> Result<VenueDoc, EventError> {
    let doc = new_venue_doc(id, venue, now);
    store.insert_venue(&doc).await?;
    Ok(doc)
}

/// The document for a new event, with its `event.created` message pending inside it.
/// `available_seats` starts at `total_seats` (until inventory-service reports seats).
pub fn new_event_doc(id: Uuid, event: &NewEvent, now: &DateTime<Utc>) -> anyhow::Result<EventDoc> {
    let mut doc = EventDoc {
        id: id.to_string(),
        name: event.name.clone(),
        description: event.description.clone(),
        venue_id: event.venue_id.to_string(),
        date: bson_time(&event.date),
        price_minor: event.price_minor,
        currency: event.currency.clone(),
        total_seats: i64::from(event.total_seats),
        available_seats: i64::from(event.total_seats),
        image_url: event.image_url.clone(),
        tags: event.tags.clone(),
        created_at: bson_time(now),
        updated_at: bson_time(now),
        outbox: Vec::new(),
        outbox_pending_since: Some(messaging::pending_since(now)),
        availability_version: None,
    };
    doc.outbox = vec![messaging::event_created(&doc)?];
    Ok(doc)
}

/// Checks the venue, then stores the event and its pending `event.created` in one insert.
/// Returns the stored document and its venue; the caller publishes (`publish_pending`).
pub async fn create_event(
    store: &Store,
    id: Uuid,
    event: &NewEvent,
    now: &DateTime<Utc>,
) -> Result<(EventDoc, VenueDoc), EventError> {
    let venue = store
        .venue(&event.venue_id.to_string())
        .await?
        .ok_or(EventError::VenueNotFound)?;
    let doc = new_event_doc(id, event, now)?;
    store.insert_event(&doc).await?;
    Ok((doc, venue))
}

/// Applies a partial update. Rules, in order: the event exists; `total_seats`, if sent,
/// equals the announced number; a new `venue_id` exists.
pub async fn update_event(
    store: &Store,
    id: &str,
    patch: &EventPatch,
    now: &DateTime<Utc>,
) -> Result<EventWithVenue, EventError> {
    let current = store.event(id).await?.ok_or(EventError::EventNotFound)?;
    if let Some(requested) = patch.total_seats {
        let allowed = u32::try_from(current.total_seats)
            .map(|c| seats_change_allowed(c, requested))
            .unwrap_or(false);
        if !allowed {
            return Err(EventError::SeatsAlreadyAllocated {
                current: current.total_seats,
            });
        }
    }
    let venue_id = patch
        .venue_id
        .map(|v| v.to_string())
        .unwrap_or_else(|| current.venue_id.clone());
    let venue = store.venue(&venue_id).await?;
    if patch.venue_id.is_some() && venue.is_none() {
        return Err(EventError::VenueNotFound);
    }
    let set = patch_set(patch, &current);
    if set.is_empty() {
        return Ok((current, venue));
    }
    let mut set = set;
    set.insert("updated_at", bson_time(now));
    let updated = store
        .update_event(id, set)
        .await?
        .ok_or(EventError::EventNotFound)?;
    Ok((updated, venue))
}

/// The `$set` document for the fields that actually change.
fn patch_set(patch: &EventPatch, current: &EventDoc) -> Document {
    let mut set = doc! {};
    if let Some(name) = patch.name.as_ref().filter(|n| **n != current.name) {
        set.insert("name", name.as_str());
    }
    if let Some(d) = patch
        .description
        .as_ref()
        .filter(|d| **d != current.description)
    {
        set.insert("description", d.as_str());
    }
    if let Some(v) = patch
        .venue_id
        .map(|v| v.to_string())
        .filter(|v| *v != current.venue_id)
    {
        set.insert("venue_id", v);
    }
    if let Some(date) = patch
        .date
        .map(|d| bson_time(&d))
        .filter(|d| *d != current.date)
    {
        set.insert("date", date);
    }
    if let Some(p) = patch.price_minor.filter(|p| *p != current.price_minor) {
        set.insert("price_minor", p);
    }
    if let Some(c) = patch.currency.as_ref().filter(|c| **c != current.currency) {
        set.insert("currency", c.as_str());
    }
    if let Some(url) = patch
        .image_url
        .as_ref()
        .filter(|u| **u != current.image_url)
    {
        set.insert(
            "image_url",
            url.as_ref()
                .map(|u| Bson::String(u.clone()))
                .unwrap_or(Bson::Null),
        );
    }
    if let Some(tags) = patch.tags.as_ref().filter(|t| **t != current.tags) {
        set.insert("tags", tags.clone());
    }
    set
}
