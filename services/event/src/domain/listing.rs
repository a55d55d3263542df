//! `GET /api/events` query parameters and the literal, case-insensitive search pattern.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};
use ticketflow_common::validate::{self, Fields};
use ticketflow_common::ApiError;
use uuid::Uuid;

use super::event;

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

impl RawListQuery {
    /// The parameters given (trimmed, `key=` left out) as the JSON object `Fields` reads.
    fn given(&self) -> Value {
        let params = [
            ("page", &self.page),
            ("limit", &self.limit),
            ("search", &self.search),
            ("venue_id", &self.venue_id),
            ("from", &self.from),
            ("to", &self.to),
        ];
        let given: Map<String, Value> = params
            .into_iter()
            .filter_map(|(key, value)| {
                let text = value.as_deref().map(str::trim).filter(|v| !v.is_empty())?;
                Some((key.to_owned(), Value::String(text.to_owned())))
            })
            .collect();
        Value::Object(given)
    }
}

/// A query-string number in `1..=max`.
fn number(value: &Value, max: u32) -> Result<u32, String> {
    validate::string(value)?
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| format!("must be a whole number from 1 to {max}"))
}

pub fn parse(raw: &RawListQuery) -> Result<ListQuery, ApiError> {
    let given = raw.given();
    let mut f = Fields::of(&given)?;
    let page = f
        .optional("page", |v| number(v, MAX_PAGE))
        .unwrap_or(DEFAULT_PAGE);
    let limit = f
        .optional("limit", |v| number(v, MAX_LIMIT))
        .unwrap_or(DEFAULT_LIMIT);
    let search = f.optional("search", |v| validate::line(v, SEARCH_MAX));
    let venue_id = f.optional("venue_id", validate::uuid);
    let from = f.optional("from", event::date);
    let to = f.optional("to", event::date);
    if let (Some(from), Some(to)) = (from, to) {
        if from > to {
            f.error("to", "must not be before from");
        }
    }
    f.finish()?;
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
    fn every_bad_parameter_is_reported_at_once() {
        let long = "x".repeat(101);
        let details = match parse(&raw(&[
            ("page", "0"),
            ("limit", "ten"),
            ("search", &long),
            ("venue_id", " nope "),
            ("from", "2030-01-02T00:00:00Z"),
            ("to", "2030-01-01T00:00:00Z"),
        ])) {
            Err(ApiError::Client { details, .. }) => details,
            other => panic!("expected a validation error, got {other:?}"),
        };
        let got: Vec<(&str, &str)> = details
            .iter()
            .map(|d| (d.field.as_str(), d.message.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("page", "must be a whole number from 1 to 10000"),
                ("limit", "must be a whole number from 1 to 100"),
                ("search", "must be at most 100 characters"),
                ("venue_id", "must be a UUID"),
                ("to", "must not be before from"),
            ]
        );
        let q = parse(&raw(&[("search", " a\u{7}b ")]));
        assert!(q.is_err(), "control characters in search");
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
