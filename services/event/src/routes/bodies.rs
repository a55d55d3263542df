//! What the write routes accept, for the OpenAPI document only. The handlers read bodies as
//! `serde_json::Value` and validate them field by field (`crate::domain`), so every invalid
//! field is reported at once; these types describe the same rules. Unknown fields are ignored.

use utoipa::ToSchema;

/// `POST /api/events`.
#[derive(ToSchema)]
pub struct NewEventBody {
    /// 1–200 characters after trimming, no control characters.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// At most 5000 characters; `null` or absent means empty.
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    /// An existing venue (else `404 VENUE_NOT_FOUND`).
    #[schema(format = Uuid)]
    pub venue_id: String,
    /// RFC 3339 with an offset, stored in UTC at millisecond precision, not before 1970.
    #[schema(format = DateTime)]
    pub date: String,
    /// Major units, 0–1,000,000, at most 2 decimals.
    #[schema(minimum = 0, maximum = 1000000)]
    pub price: f64,
    /// Three uppercase letters; `INR` when absent.
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
    /// 1–10000; fixed once the event exists.
    #[schema(minimum = 1, maximum = 10000)]
    pub total_seats: u32,
    /// A site path (`/posters/x.svg`) or an `http(s)://` URL, at most 2048 characters; `""` or
    /// `null` means no image.
    #[schema(max_length = 2048)]
    pub image_url: Option<String>,
    /// At most 20 tags of 1–40 characters, stored trimmed, lowercased and de-duplicated.
    #[schema(max_items = 20)]
    pub tags: Option<Vec<String>>,
}

/// `PUT /api/events/{id}`: only the fields sent change; `null` clears `description`,
/// `image_url` and `tags` and is a `400` for the others; `{}` returns the event unchanged.
#[derive(ToSchema)]
pub struct EventPatchBody {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    #[schema(format = Uuid)]
    pub venue_id: Option<String>,
    #[schema(format = DateTime)]
    pub date: Option<String>,
    #[schema(minimum = 0, maximum = 1000000)]
    pub price: Option<f64>,
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
    /// Only the current number is accepted (`422 SEATS_ALREADY_ALLOCATED` otherwise).
    pub total_seats: Option<u32>,
    #[schema(max_length = 2048)]
    pub image_url: Option<String>,
    #[schema(max_items = 20)]
    pub tags: Option<Vec<String>>,
}

/// `POST /api/venues`: every field required and non-empty after trimming.
#[derive(ToSchema)]
pub struct NewVenueBody {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[schema(min_length = 1, max_length = 500)]
    pub address: String,
    #[schema(min_length = 1, max_length = 100)]
    pub city: String,
    #[schema(min_length = 1, max_length = 100)]
    pub country: String,
    #[schema(minimum = 1, maximum = 1000000)]
    pub capacity: u32,
}
