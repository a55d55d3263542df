//! What makes a venue valid.

use serde_json::Value;
use ticketflow_common::validate::{self, Fields};
use ticketflow_common::ApiError;

pub const NAME_MAX: usize = 200;
pub const ADDRESS_MAX: usize = 500;
pub const CITY_MAX: usize = 100;
pub const COUNTRY_MAX: usize = 100;
pub const CAPACITY_MIN: u32 = 1;
pub const CAPACITY_MAX: u32 = 1_000_000;

/// A validated `POST /api/venues` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVenue {
    pub name: String,
    pub address: String,
    pub city: String,
    pub country: String,
    pub capacity: u32,
}

pub fn validate_new(body: &Value) -> Result<NewVenue, ApiError> {
    let mut f = Fields::of(body)?;
    let name = f.required("name", |v| validate::line(v, NAME_MAX));
    let address = f.required("address", |v| validate::line(v, ADDRESS_MAX));
    let city = f.required("city", |v| validate::line(v, CITY_MAX));
    let country = f.required("country", |v| validate::line(v, COUNTRY_MAX));
    let capacity = f.required("capacity", |v| {
        validate::whole(v, CAPACITY_MIN, CAPACITY_MAX)
    });
    f.finish_with(|| {
        Some(NewVenue {
            name: name?,
            address: address?,
            city: city?,
            country: country?,
            capacity: capacity?,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn valid_and_invalid_venues() {
        let ok = validate_new(&json!({
            "name": "Hall", "address": "1 Road", "city": "Pune", "country": "India", "capacity": 500
        }));
        assert_eq!(ok.ok().map(|v| v.capacity), Some(500));
        let err = validate_new(&json!({"name": "Hall", "capacity": 0}));
        let count = match err {
            Err(ApiError::Client { details, .. }) => details.len(),
            _ => 0,
        };
        assert_eq!(count, 4); // address, city, country, capacity
    }
}
