//! What makes an event valid, for create (`POST`) and partial update (`PUT`).

use chrono::{DateTime, SubsecRound, Utc};
use serde_json::Value;
use ticketflow_common::validate::{self, Fields, Presence};
use ticketflow_common::ApiError;
use uuid::Uuid;

use super::money;

pub const NAME_MAX: usize = 200;
pub const DESCRIPTION_MAX: usize = 5000;
pub const SEATS_MIN: u32 = 1;
pub const SEATS_MAX: u32 = 10_000;
pub const TAGS_MAX: usize = 20;
pub const TAG_MAX_CHARS: usize = 40;
pub const IMAGE_URL_MAX: usize = 2048;

/// A validated `POST /api/events` body.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub name: String,
    pub description: String,
    pub venue_id: Uuid,
    pub date: DateTime<Utc>,
    pub price_minor: i64,
    pub currency: String,
    pub total_seats: u32,
    pub image_url: Option<String>,
    pub tags: Vec<String>,
}

/// A validated `PUT /api/events/:id` body: `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub venue_id: Option<Uuid>,
    pub date: Option<DateTime<Utc>>,
    pub price_minor: Option<i64>,
    pub currency: Option<String>,
    pub total_seats: Option<u32>,
    /// `Some(None)` clears the image.
    pub image_url: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
}

impl EventPatch {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

pub fn validate_new(body: &Value) -> Result<NewEvent, ApiError> {
    let mut f = Fields::of(body)?;
    let name = f.required("name", name);
    let description = f.optional("description", description).unwrap_or_default();
    let venue_id = f.required("venue_id", validate::uuid);
    let date = f.required("date", date);
    let price_minor = f.required("price", price);
    let currency = f
        .optional("currency", currency)
        .unwrap_or_else(|| money::DEFAULT_CURRENCY.to_owned());
    let total_seats = f.required("total_seats", total_seats);
    let image_url = f.optional("image_url", image_url).flatten();
    let tags = f.optional("tags", tags).unwrap_or_default();
    f.finish_with(|| {
        Some(NewEvent {
            name: name?,
            description,
            venue_id: venue_id?,
            date: date?,
            price_minor: price_minor?,
            currency,
            total_seats: total_seats?,
            image_url,
            tags,
        })
    })
}

pub fn validate_patch(body: &Value) -> Result<EventPatch, ApiError> {
    let mut f = Fields::of(body)?;
    let patch = EventPatch {
        name: f.patch("name", name),
        // Null clears the optional fields.
        description: match f.check("description", description) {
            Presence::Absent => None,
            Presence::Null => Some(String::new()),
            Presence::Value(v) => Some(v),
        },
        venue_id: f.patch("venue_id", validate::uuid),
        date: f.patch("date", date),
        price_minor: f.patch("price", price),
        currency: f.patch("currency", currency),
        total_seats: f.patch("total_seats", total_seats),
        image_url: match f.check("image_url", image_url) {
            Presence::Absent => None,
            Presence::Null => Some(None),
            Presence::Value(v) => Some(v),
        },
        tags: match f.check("tags", tags) {
            Presence::Absent => None,
            Presence::Null => Some(Vec::new()),
            Presence::Value(v) => Some(v),
        },
    };
    f.finish()?;
    Ok(patch)
}

/// Seats are laid out by inventory-service from `event.created`; once announced, the number
/// is fixed. Sending the same number again is harmless.
pub fn seats_change_allowed(current: u32, requested: u32) -> bool {
    current == requested
}

fn name(v: &Value) -> Result<String, String> {
    validate::line(v, NAME_MAX)
}

fn description(v: &Value) -> Result<String, String> {
    validate::text(v, DESCRIPTION_MAX)
}

fn total_seats(v: &Value) -> Result<u32, String> {
    validate::whole(v, SEATS_MIN, SEATS_MAX)
}

fn currency(v: &Value) -> Result<String, String> {
    money::currency(v.as_str().ok_or("must be a string")?)
}

fn price(v: &Value) -> Result<i64, String> {
    money::to_minor(v.as_f64().ok_or("must be a number")?)
}

/// RFC 3339 with an offset, stored in UTC at millisecond precision.
pub fn date(v: &Value) -> Result<DateTime<Utc>, String> {
    let text = v.as_str().ok_or("must be an RFC 3339 date-time string")?;
    parse_rfc3339(text)
}

pub fn parse_rfc3339(text: &str) -> Result<DateTime<Utc>, String> {
    let parsed = DateTime::parse_from_rfc3339(text.trim())
        .map_err(|_| "must be an RFC 3339 date-time, e.g. 2026-03-01T19:30:00Z".to_owned())?
        .with_timezone(&Utc)
        .trunc_subsecs(3);
    if parsed.timestamp() < 0 {
        return Err("must not be before 1970".into());
    }
    Ok(parsed)
}

/// Up to 20 tags of 1–40 characters, trimmed, lowercased and de-duplicated (tag search is
/// case-insensitive).
fn tags(v: &Value) -> Result<Vec<String>, String> {
    let items = v.as_array().ok_or("must be an array of strings")?;
    if items.len() > TAGS_MAX {
        return Err(format!("must have at most {TAGS_MAX} tags"));
    }
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        let tag = validate::line(item, TAG_MAX_CHARS)
            .map_err(|e| format!("each tag {e}"))?
            .to_lowercase();
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    Ok(out)
}

/// A path on our own site (`/posters/x.svg`) or an http(s) URL; `""` means no image.
fn image_url(v: &Value) -> Result<Option<String>, String> {
    let text = v.as_str().ok_or("must be a string")?.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.len() > IMAGE_URL_MAX {
        return Err(format!("must be at most {IMAGE_URL_MAX} characters"));
    }
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces or control characters".into());
    }
    let lower = text.to_ascii_lowercase();
    let relative = text.starts_with('/') && !text.starts_with("//");
    if relative || lower.starts_with("https://") || lower.starts_with("http://") {
        Ok(Some(text.to_owned()))
    } else {
        Err("must be a path starting with / or an http(s) URL".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn valid() -> Value {
        json!({
            "name": "  Jazz Night ",
            "venue_id": "0E7C5D0C-1B5B-4C39-9B0A-3C4A1D2E3F40",
            "date": "2030-01-02T20:00:00.123456+05:30",
            "price": 150.5,
            "total_seats": 100,
            "tags": ["Jazz", "jazz", " live "],
        })
    }

    fn fields_of(err: ApiError) -> Vec<String> {
        match err {
            ApiError::Client { details, .. } => details.into_iter().map(|d| d.field).collect(),
            ApiError::Internal(_) => vec![],
        }
    }

    #[test]
    fn accepts_and_normalises_a_valid_event() -> anyhow::Result<()> {
        let event = validate_new(&valid()).map_err(|e| anyhow::anyhow!("{e}"))?;
        assert_eq!(event.name, "Jazz Night");
        assert_eq!(
            event.venue_id.to_string(),
            "0e7c5d0c-1b5b-4c39-9b0a-3c4a1d2e3f40"
        );
        assert_eq!(
            ticketflow_common::time::rfc3339(&event.date),
            "2030-01-02T14:30:00.123Z"
        );
        assert_eq!(event.price_minor, 15050);
        assert_eq!(event.currency, "INR");
        assert_eq!(event.tags, vec!["jazz", "live"]);
        assert_eq!(event.description, "");
        assert_eq!(event.image_url, None);
        Ok(())
    }

    #[test]
    fn reports_every_bad_field() {
        let body = json!({
            "name": "",
            "description": "x".repeat(5001),
            "venue_id": "nope",
            "date": "tomorrow",
            "price": -1,
            "currency": "rupees",
            "total_seats": 0,
            "image_url": "javascript:alert(1)",
            "tags": vec!["a"; 21],
        });
        let mut got = validate_new(&body).err().map(fields_of).unwrap_or_default();
        got.sort();
        assert_eq!(
            got,
            vec![
                "currency",
                "date",
                "description",
                "image_url",
                "name",
                "price",
                "tags",
                "total_seats",
                "venue_id"
            ]
        );
    }

    #[test]
    fn missing_required_fields() {
        let mut got = validate_new(&json!({}))
            .err()
            .map(fields_of)
            .unwrap_or_default();
        got.sort();
        assert_eq!(
            got,
            vec!["date", "name", "price", "total_seats", "venue_id"]
        );
    }

    #[test]
    fn patch_semantics() -> anyhow::Result<()> {
        let patch = validate_patch(&json!({"image_url": null, "tags": null, "price": 10}))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        assert_eq!(patch.image_url, Some(None));
        assert_eq!(patch.tags, Some(vec![]));
        assert_eq!(patch.price_minor, Some(1000));
        assert_eq!(patch.name, None);
        assert!(validate_patch(&json!({}))
            .map(|p| p.is_empty())
            .unwrap_or(false));
        let err = validate_patch(&json!({"name": null})).err();
        assert_eq!(err.map(fields_of), Some(vec!["name".to_owned()]));
        Ok(())
    }

    #[test]
    fn image_urls() {
        assert_eq!(
            image_url(&json!("/posters/a.svg")),
            Ok(Some("/posters/a.svg".to_owned()))
        );
        assert!(image_url(&json!("https://cdn.example/a.png")).is_ok());
        assert_eq!(image_url(&json!("")), Ok(None));
        assert!(image_url(&json!("//evil.example/a.png")).is_err());
        assert!(image_url(&json!("data:image/png;base64,xx")).is_err());
    }

    #[test]
    fn seats_are_fixed_once_announced() {
        assert!(seats_change_allowed(100, 100));
        assert!(!seats_change_allowed(100, 101));
    }
}
