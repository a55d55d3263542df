//! What a booking needs from event-service: name, date, venue, price and currency. Asked over
//! HTTP with a bounded timeout; the client never supplies any of them.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use ticketflow_common::context::{RequestContext, REQUEST_ID, TRACEPARENT};
use uuid::Uuid;

use crate::error::BookingError;

#[derive(Debug, Clone)]
pub struct CatalogueEvent {
    pub name: String,
    pub date: DateTime<Utc>,
    pub venue_name: String,
    pub price_minor: i64,
    pub currency: String,
}

#[derive(Deserialize)]
struct EventBody {
    name: String,
    date: DateTime<Utc>,
    price: f64,
    currency: String,
    venue: Option<VenueBody>,
}

#[derive(Deserialize)]
struct VenueBody {
    name: String,
}

#[derive(Clone)]
pub struct Catalogue {
    http: reqwest::Client,
    base: String,
}

impl Catalogue {
    pub fn new(base: &str, timeout: Duration) -> anyhow::Result<Self> {
        Ok(Self {
            http: reqwest::Client::builder()
                .timeout(timeout)
                .connect_timeout(timeout)
                .no_proxy()
                .build()?,
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    pub async fn event(&self, event_id: Uuid) -> Result<CatalogueEvent, BookingError> {
        let unavailable = |e: String| BookingError::CatalogueUnavailable(e);
        let mut request = self
            .http
            .get(format!("{}/api/events/{event_id}", self.base));
        // The same trace and request id as the request that asked.
        if let Some(ctx) = RequestContext::current() {
            request = request
                .header(REQUEST_ID, ctx.request_id)
                .header(TRACEPARENT, ctx.traceparent);
        }
        let response = request
            .send()
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        match response.status() {
            reqwest::StatusCode::OK => {}
            reqwest::StatusCode::NOT_FOUND => return Err(BookingError::EventNotFound),
            other => return Err(unavailable(format!("answered {other}"))),
        }
        let body: EventBody = response
            .json()
            .await
            .map_err(|e| unavailable(format!("unreadable event: {e}")))?;
        let price_minor = ticketflow_common::money::to_minor(body.price)
            .map_err(|e| unavailable(format!("event price {e}")))?;
        Ok(CatalogueEvent {
            name: body.name,
            date: body.date,
            venue_name: body.venue.map(|v| v.name).unwrap_or_default(),
            price_minor,
            currency: body.currency,
        })
    }
}
