//! The JSON clients see (snake_case, **compat** with the old Python service). The outbox
//! fields of a document never appear here.

use serde::Serialize;
use ticketflow_common::time::rfc3339;
use utoipa::ToSchema;

use crate::domain::money;
use crate::store::{chrono_time, EventDoc, VenueDoc};

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct VenueView {
    pub id: String,
    pub name: String,
    pub address: String,
    pub city: String,
    pub country: String,
    pub capacity: i64,
}

impl From<&VenueDoc> for VenueView {
    fn from(v: &VenueDoc) -> Self {
        Self {
            id: v.id.clone(),
            name: v.name.clone(),
            address: v.address.clone(),
            city: v.city.clone(),
            country: v.country.clone(),
            capacity: v.capacity,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EventView {
    pub id: String,
    pub name: String,
    pub description: String,
    pub venue_id: String,
    /// `null` only when the referenced venue cannot be found.
    #[schema(required = true)]
    pub venue: Option<VenueView>,
    /// RFC 3339 UTC with milliseconds and `Z`.
    #[schema(format = DateTime)]
    pub date: String,
    /// Major units.
    pub price: f64,
    pub currency: String,
    pub total_seats: i64,
    pub available_seats: i64,
    /// A site path (seeded events: `/api/events/{id}/poster`) or an http(s) URL; `null` for none.
    #[schema(required = true)]
    pub image_url: Option<String>,
    pub tags: Vec<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl EventView {
    /// `venue` is `null` when the referenced venue cannot be found.
    pub fn new(e: &EventDoc, venue: Option<&VenueDoc>) -> Self {
        Self {
            id: e.id.clone(),
            name: e.name.clone(),
            description: e.description.clone(),
            venue_id: e.venue_id.clone(),
            venue: venue.filter(|v| v.id == e.venue_id).map(VenueView::from),
            date: rfc3339(&chrono_time(e.date)),
            price: money::to_major(e.price_minor),
            currency: e.currency.clone(),
            total_seats: e.total_seats,
            available_seats: e.available_seats,
            image_url: e.image_url.clone(),
            tags: e.tags.clone(),
            created_at: rfc3339(&chrono_time(e.created_at)),
            updated_at: rfc3339(&chrono_time(e.updated_at)),
        }
    }
}
