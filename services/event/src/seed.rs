//! The demo catalogue (`event-service seed`): venues and events with fixed ids, inserted if
//! missing through the same store code and outbox as the API, so each new event announces
//! itself on `ticketflow.event.created` and inventory-service lays out its seats. Existing
//! documents are left untouched: a second run creates nothing and keeps every id.

use std::collections::HashSet;
use std::time::Duration;

use anyhow::{bail, Context};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::Deserialize;
use serde_json::json;
use ticketflow_common::kafka::Producer;
use uuid::Uuid;

use crate::domain::event::{self, NewEvent};
use crate::domain::venue::{self, NewVenue};
use crate::error::EventError;
use crate::messaging;
use crate::service;
use crate::store::Store;

/// The catalogue shipped with the binary (`infra/seed/catalogue.json`), used when no
/// `--file` is given, so a container needs no extra files.
pub const BUILTIN_CATALOGUE: &str = include_str!("../../../infra/seed/catalogue.json");

/// How long the seed waits for Kafka per message before leaving it to the relay.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    pub venues: Vec<CatalogueVenue>,
    pub events: Vec<CatalogueEvent>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueVenue {
    pub id: Uuid,
    pub name: String,
    pub address: String,
    pub city: String,
    pub country: String,
    pub capacity: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueEvent {
    pub id: Uuid,
    /// Names the poster artwork, `infra/seed/posters/<slug>.svg`, served at
    /// `/api/events/<id>/poster` (the event's `image_url`).
    pub slug: String,
    pub name: String,
    pub description: String,
    pub venue_id: Uuid,
    /// The event takes place this many days after the day the seed first runs…
    pub days_from_today: u32,
    /// …at this time of day, UTC (`HH:MM`).
    pub time_utc: String,
    pub price: f64,
    #[serde(default)]
    pub currency: Option<String>,
    pub total_seats: u32,
    #[serde(default)]
    pub tags: Vec<String>,
}

impl Catalogue {
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        serde_json::from_str(text).context("reading the seed catalogue")
    }

    pub fn builtin() -> anyhow::Result<Self> {
        Self::parse(BUILTIN_CATALOGUE)
    }

    /// Every entry validated by the API's own rules, dates resolved against `today`.
    pub fn resolve(&self, today: NaiveDate) -> anyhow::Result<Resolved> {
        let mut seen = HashSet::new();
        let mut venues = Vec::new();
        for v in &self.venues {
            if !seen.insert(v.id) {
                bail!("duplicate id {} in the catalogue", v.id);
            }
            let body = json!({
                "name": v.name, "address": v.address, "city": v.city,
                "country": v.country, "capacity": v.capacity,
            });
            let new = venue::validate_new(&body)
                .map_err(|e| anyhow::anyhow!("venue {}: {}", v.id, describe(e)))?;
            venues.push((v.id, new));
        }
        let mut events = Vec::new();
        for e in &self.events {
            if !seen.insert(e.id) {
                bail!("duplicate id {} in the catalogue", e.id);
            }
            let time = NaiveTime::parse_from_str(&e.time_utc, "%H:%M")
                .with_context(|| format!("event {}: time_utc must be HH:MM", e.id))?;
            let day = today
                .checked_add_days(chrono::Days::new(u64::from(e.days_from_today)))
                .with_context(|| format!("event {}: date out of range", e.id))?;
            let date: DateTime<Utc> = day.and_time(time).and_utc();
            let body = json!({
                "name": e.name,
                "description": e.description,
                "venue_id": e.venue_id,
                "date": ticketflow_common::time::rfc3339(&date),
                "price": e.price,
                "currency": e.currency,
                "total_seats": e.total_seats,
                "tags": e.tags,
                "image_url": crate::posters::url(&e.id.to_string()),
            });
            let new = event::validate_new(&body)
                .map_err(|err| anyhow::anyhow!("event {}: {}", e.id, describe(err)))?;
            events.push((e.id, new));
        }
        Ok(Resolved { venues, events })
    }
}

fn describe(err: ticketflow_common::ApiError) -> String {
    match err {
        ticketflow_common::ApiError::Client {
            message, details, ..
        } => {
            let fields: Vec<String> = details
                .iter()
                .map(|d| format!("{} {}", d.field, d.message))
                .collect();
            if fields.is_empty() {
                message
            } else {
                fields.join("; ")
            }
        }
        ticketflow_common::ApiError::Internal(e) => format!("{e:#}"),
    }
}

/// A catalogue checked and dated, ready to insert.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub venues: Vec<(Uuid, NewVenue)>,
    pub events: Vec<(Uuid, NewEvent)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeedReport {
    pub venues_created: usize,
    pub venues_existing: usize,
    pub events_created: usize,
    pub events_existing: usize,
    /// `event.created` messages published by this run (new events, or older ones that were
    /// still pending).
    pub messages_published: usize,
    /// Catalogue events whose message is still pending (Kafka unreachable); the running
    /// event-service relay publishes them.
    pub messages_pending: usize,
}

/// Inserts the missing venues and events of `catalogue` (dated from `today`) and publishes
/// their `event.created` messages. Safe to run any number of times, also concurrently.
pub async fn seed(
    store: &Store,
    producer: &Producer,
    catalogue: &Catalogue,
    today: NaiveDate,
) -> anyhow::Result<SeedReport> {
    let resolved = catalogue.resolve(today)?;
    let mut report = SeedReport::default();
    let now = ticketflow_common::time::now();

    for (id, new) in &resolved.venues {
        if store.venue(&id.to_string()).await?.is_some() {
            report.venues_existing += 1;
            continue;
        }
        match service::create_venue(store, *id, new, &now).await {
            Ok(_) => report.venues_created += 1,
            Err(EventError::AlreadyExists) => report.venues_existing += 1,
            Err(err) => return Err(err).context("inserting a venue"),
        }
    }

    for (id, new) in &resolved.events {
        if let Some(existing) = store.event(&id.to_string()).await? {
            report.events_existing += 1;
            // Seeded before posters were served by the API: /posters/<slug>.svg never loaded.
            if existing
                .image_url
                .as_deref()
                .is_some_and(|url| url.starts_with("/posters/"))
            {
                let url = crate::posters::url(&existing.id);
                store
                    .update_event(&existing.id, mongodb::bson::doc! {"image_url": url})
                    .await?;
            }
            continue;
        }
        match service::create_event(store, *id, new, &now).await {
            Ok(_) => report.events_created += 1,
            Err(EventError::AlreadyExists) => report.events_existing += 1,
            Err(EventError::VenueNotFound) => {
                bail!("event {id}: venue {} does not exist", new.venue_id)
            }
            Err(err) => return Err(err).context("inserting an event"),
        }
    }

    // Publish what is pending for the catalogue's events (new ones, or an earlier run's
    // that never reached Kafka). Stop trying at the first failure: Kafka is down.
    let mut kafka_down = false;
    for (id, _) in &resolved.events {
        let Some(doc) = store.event(&id.to_string()).await? else {
            continue;
        };
        if doc.outbox_pending_since.is_none() {
            continue;
        }
        if kafka_down {
            report.messages_pending += doc.outbox.len();
            continue;
        }
        match tokio::time::timeout(
            PUBLISH_TIMEOUT,
            messaging::publish_pending(store, producer, &doc),
        )
        .await
        {
            Ok(Ok(n)) => report.messages_published += n,
            Ok(Err(err)) => {
                tracing::warn!(error = format!("{err:#}"), "seed could not publish");
                kafka_down = true;
                report.messages_pending += doc.outbox.len();
            }
            Err(_) => {
                kafka_down = true;
                report.messages_pending += doc.outbox.len();
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalogue_is_valid() -> anyhow::Result<()> {
        let catalogue = Catalogue::builtin()?;
        let today = NaiveDate::from_ymd_opt(2030, 1, 1).unwrap_or_default();
        let resolved = catalogue.resolve(today)?;
        assert!(resolved.venues.len() >= 3);
        assert!(resolved.events.len() >= 6);
        let mut events = resolved.events.clone();
        events.sort_by_key(|(_, e)| e.date);
        // The first listed event is in the future and roomy enough for the demo.
        let (_, first) = &events[0];
        assert!(first.date > today.and_time(NaiveTime::MIN).and_utc());
        assert!(first.total_seats >= 100);
        let seats: Vec<u32> = events.iter().map(|(_, e)| e.total_seats).collect();
        assert!(seats.iter().any(|s| *s <= 50), "{seats:?}");
        assert!(seats.iter().any(|s| *s >= 500), "{seats:?}");
        for (_, e) in &events {
            assert_eq!(e.currency, "INR");
            assert!(resolved.venues.iter().any(|(id, _)| *id == e.venue_id));
        }
        for e in &catalogue.events {
            assert_eq!(e.id.get_version_num(), 4);
        }
        for (id, e) in &resolved.events {
            assert_eq!(
                e.image_url.as_deref(),
                Some(format!("/api/events/{id}/poster").as_str())
            );
        }
        Ok(())
    }
}
