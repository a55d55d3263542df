//! `GET /api/events` query parameters and the literal, case-insensitive search pattern.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use ticketflow_common::{ApiError, FieldError};
use uuid::Uuid;

pub const DEFAULT_PAGE: u32 = 1;
pub const DEFAULT_LIMIT: u32 = 10;
pub const MAX_LIMIT: u32 = 100;
pub const MAX_PAGE: u32 = 10_000;
pub const SEARCH_MAX: usize = 100;

/// The raw query string: everything optional, and `key=` (empty) means "not given", as the
/// SPA sends `?search=&venue_id=&from=&to=`.
#[derive(Debug, Default, Deserialize)]
pub struct RawListQuery {
    pub page: Option<String>,
    pub limit: Option<String>,
    pub search: Option<String>,
    pub venue_id: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    pub page: u32,
    pub limit: u32,
    /// Trimmed search text, never empty.
    pub search: Option<String>,
    pub venue_id: Option<Uuid>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl ListQuery {
    pub fn skip(&self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.limit)
    }
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn number(
    errors: &mut Vec<FieldError>,
    field: &str,
    raw: Option<&str>,
    default: u32,
    max: u32,
) -> u32 {
    match raw {
        None => default,
        Some(text) => match text.parse::<u32>() {
            Ok(n) if (1..=max).contains(&n) => n,
            _ => {
                errors.push(FieldError::new(
                    field,
                    format!("must be a whole number from 1 to {max}"),
                ));
                default
            }
        },
    }
}

pub fn parse(raw: &RawListQuery) -> Result<ListQuery, ApiError> {
    let mut errors = Vec::new();
    let page = number(
        &mut errors,
        "page",
        given(&raw.page),
        DEFAULT_PAGE,
        MAX_PAGE,
    );
    let limit = number(
        &mut errors,
        "limit",
        given(&raw.limit),
        DEFAULT_LIMIT,
        MAX_LIMIT,
    );
    let search = given(&raw.search).map(str::to_owned);
    if let Some(text) = &search {
        if text.chars().count() > SEARCH_MAX {
            errors.push(FieldError::new(
                "search",
                format!("must be at most {SEARCH_MAX} characters"),
            ));
        } else if text.chars().any(char::is_control) {
            errors.push(FieldError::new(
                "search",
                "must not contain control characters",
            ));
        }
    }
    let venue_id = given(&raw.venue_id).and_then(|text| match Uuid::parse_str(text) {
        Ok(id) => Some(id),
        Err(_) => {
            errors.push(FieldError::new("venue_id", "must be a UUID"));
            None
        }
    });
    let mut date = |field: &str, raw: Option<&str>| {
        raw.and_then(|text| match super::event::parse_rfc3339(text) {
            Ok(at) => Some(at),
            Err(message) => {
                errors.push(FieldError::new(field, message));
                None
            }
        })
    };
    let from = date("from", given(&raw.from));
    let to = date("to", given(&raw.to));
    if let (Some(from), Some(to)) = (from, to) {
        if from > to {
            errors.push(FieldError::new("to", "must not be before from"));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    Ok(ListQuery {
        page,
        limit,
        search,
        venue_id,
        from,
        to,
    })
}

/// A regular expression that matches `text` literally, in MongoDB's PCRE and in FerretDB's
/// Go RE2 alike: every ASCII punctuation character is backslash-escaped (both engines read
/// `\` + punctuation as that character), letters, digits, spaces and non-ASCII stay as they
/// are (an escaped letter could mean a class such as `\d`).
pub fn literal_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(pairs: &[(&str, &str)]) -> RawListQuery {
        let mut q = RawListQuery::default();
        for (k, v) in pairs {
            let v = Some((*v).to_owned());
            match *k {
                "page" => q.page = v,
                "limit" => q.limit = v,
                "search" => q.search = v,
                "venue_id" => q.venue_id = v,
                "from" => q.from = v,
                "to" => q.to = v,
                _ => {}
            }
        }
        q
    }

    #[test]
    fn defaults_and_empty_values() {
        let q = parse(&raw(&[
            ("search", ""),
            ("venue_id", ""),
            ("from", ""),
            ("to", ""),
        ]))
        .ok();
        assert_eq!(
            q,
            Some(ListQuery {
                page: 1,
                limit: 10,
                search: None,
                venue_id: None,
                from: None,
                to: None
            })
        );
    }

    #[test]
    fn bounds() {
        for (k, v) in [
            ("limit", "0"),
            ("limit", "101"),
            ("page", "0"),
            ("page", "10001"),
            ("page", "abc"),
            ("limit", "-1"),
            ("limit", "1.5"),
            ("venue_id", "x"),
            ("from", "yesterday"),
            ("to", "2024-13-01T00:00:00Z"),
        ] {
            assert!(parse(&raw(&[(k, v)])).is_err(), "{k}={v}");
        }
        assert!(parse(&raw(&[("limit", "100"), ("page", "10000")])).is_ok());
        assert!(parse(&raw(&[("search", &"x".repeat(101))])).is_err());
        assert!(parse(&raw(&[
            ("from", "2030-01-02T00:00:00Z"),
            ("to", "2030-01-01T00:00:00Z")
        ]))
        .is_err());
    }

    #[test]
    fn skip_is_page_times_limit() {
        let q = parse(&raw(&[("page", "3"), ("limit", "20")])).ok();
        assert_eq!(q.map(|q| q.skip()), Some(40));
    }

    #[test]
    fn escapes_metacharacters() {
        assert_eq!(literal_pattern("a.b*c"), r"a\.b\*c");
        assert_eq!(literal_pattern("(x)"), r"\(x\)");
        assert_eq!(literal_pattern("$where"), r"\$where");
        assert_eq!(literal_pattern(r"a\b"), r"a\\b");
        assert_eq!(literal_pattern("[a-z]{2}|^"), r"\[a\-z\]\{2\}\|\^");
        assert_eq!(literal_pattern("Café 2"), "Café 2");
    }
}
