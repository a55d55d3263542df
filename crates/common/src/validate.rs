//! Field-by-field validation of loosely typed JSON bodies, so a client gets every problem at
//! once in `error.details`, each under the exact field name it sent.
//!
//! Handlers take the body as `serde_json::Value` (not a typed struct, whose first serde error
//! would hide the others), open it with [`Fields::of`], read each field with a parser
//! (`Fn(&Value) -> Result<T, String>`, the `String` being the message), and end with
//! [`Fields::finish`] or [`Fields::finish_with`]: `400 VALIDATION_ERROR` listing every problem.
//!
//! What each reader does with a field that is absent, `null`, or present but invalid:
//!
//! | reader       | absent          | `null`               | invalid           |
//! | ------------ | --------------- | -------------------- | ----------------- |
//! | `required`   | "is required"   | "is required"        | parser's message  |
//! | `optional`   | `None`          | `None`               | parser's message  |
//! | `patch`      | `None`          | "must not be null"   | parser's message  |
//! | `check`      | `Absent`        | `Null`               | parser's message  |
//!
//! The parsers here are the generic ones; a service keeps its own (money, dates, e-mail…)
//! next to its domain and passes them the same way.

use serde_json::{Map, Value};

use crate::error::{ApiError, FieldError};

/// Collects the problems of one body.
#[derive(Debug)]
pub struct Fields<'a> {
    body: &'a Map<String, Value>,
    errors: Vec<FieldError>,
}

/// What a body says about one key, for fields where absent and `null` mean different things.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presence<T> {
    Absent,
    /// Sent as `null`, or sent invalid (the problem is then recorded).
    Null,
    Value(T),
}

impl<'a> Fields<'a> {
    /// The body must be a JSON object; anything else is `body: must be a JSON object`.
    pub fn of(body: &'a Value) -> Result<Self, ApiError> {
        match body {
            Value::Object(map) => Ok(Self {
                body: map,
                errors: Vec::new(),
            }),
            _ => Err(ApiError::field("body", "must be a JSON object")),
        }
    }

    /// Records a problem the readers cannot see, e.g. one between two fields.
    pub fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// The problems recorded so far.
    pub fn errors(&self) -> &[FieldError] {
        &self.errors
    }

    /// Runs `parse` on a present, non-null value; records its error under `field`.
    pub fn check<T>(
        &mut self,
        field: &str,
        parse: impl FnOnce(&Value) -> Result<T, String>,
    ) -> Presence<T> {
        match self.body.get(field) {
            None => Presence::Absent,
            Some(Value::Null) => Presence::Null,
            Some(value) => match parse(value) {
                Ok(parsed) => Presence::Value(parsed),
                Err(message) => {
                    self.error(field, message);
                    Presence::Null
                }
            },
        }
    }

    /// A field that must be present, not null, and valid.
    pub fn required<T>(
        &mut self,
        field: &str,
        parse: impl FnOnce(&Value) -> Result<T, String>,
    ) -> Option<T> {
        let present = self.body.get(field).is_some_and(|v| !v.is_null());
        match self.check(field, parse) {
            Presence::Value(v) => Some(v),
            Presence::Absent | Presence::Null => {
                if !present {
                    self.error(field, "is required");
                }
                None
            }
        }
    }

    /// A field that may be absent or null (`None`), else must be valid.
    pub fn optional<T>(
        &mut self,
        field: &str,
        parse: impl FnOnce(&Value) -> Result<T, String>,
    ) -> Option<T> {
        match self.check(field, parse) {
            Presence::Value(v) => Some(v),
            Presence::Absent | Presence::Null => None,
        }
    }

    /// For partial updates: absent → `None`; null → error (the field cannot be cleared).
    pub fn patch<T>(
        &mut self,
        field: &str,
        parse: impl FnOnce(&Value) -> Result<T, String>,
    ) -> Option<T> {
        let is_null = self.body.get(field).is_some_and(Value::is_null);
        match self.check(field, parse) {
            Presence::Value(v) => Some(v),
            Presence::Absent => None,
            Presence::Null => {
                if is_null {
                    self.error(field, "must not be null");
                }
                None
            }
        }
    }

    /// `Ok(())` when nothing was recorded, else `400 VALIDATION_ERROR` with every detail.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(self.errors))
        }
    }

    /// [`finish`](Self::finish), then `build` the value from what the readers returned, e.g.
    /// `f.finish_with(|| Some(Venue { name: name?, capacity: capacity? }))`.
    ///
    /// `build` returning `None` means a reader gave `None` without recording a problem (an
    /// `optional` field used as if required): that is reported as `body: is incomplete`.
    pub fn finish_with<T>(self, build: impl FnOnce() -> Option<T>) -> Result<T, ApiError> {
        self.finish()?;
        build().ok_or_else(|| ApiError::field("body", "is incomplete"))
    }
}

/// The value as a string, untouched; else "must be a string".
pub fn string(value: &Value) -> Result<&str, String> {
    value.as_str().ok_or_else(|| "must be a string".to_owned())
}

/// A trimmed single-line string of 1..=`max` characters.
pub fn line(value: &Value, max: usize) -> Result<String, String> {
    let text = string(value)?.trim();
    if text.is_empty() {
        return Err("must not be empty".into());
    }
    if text.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if text.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(text.to_owned())
}

/// A trimmed multi-line text of 0..=`max` characters (tabs and newlines allowed).
pub fn text(value: &Value, max: usize) -> Result<String, String> {
    let text = string(value)?.trim();
    if text.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err("must not contain control characters".into());
    }
    Ok(text.to_owned())
}

/// A whole number in `min..=max` (`100.0` is accepted, `100.5` is not).
pub fn whole(value: &Value, min: u32, max: u32) -> Result<u32, String> {
    let out_of_range = || format!("must be a whole number from {min} to {max}");
    let number = match value {
        Value::Number(n) => n,
        _ => return Err(out_of_range()),
    };
    let as_int = number.as_i64().or_else(|| {
        number
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
            .map(|f| f as i64)
    });
    match as_int {
        Some(n) if n >= i64::from(min) && n <= i64::from(max) => {
            u32::try_from(n).map_err(|_| out_of_range())
        }
        _ => Err(out_of_range()),
    }
}

/// A UUID (any case, surrounding spaces ignored).
pub fn uuid(value: &Value) -> Result<uuid::Uuid, String> {
    value
        .as_str()
        .and_then(|s| uuid::Uuid::parse_str(s.trim()).ok())
        .ok_or_else(|| "must be a UUID".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;
    use serde_json::json;

    /// What `finish` reported: `(field, message)` pairs in order; empty when it passed.
    fn details(result: Result<(), ApiError>) -> Vec<(String, String)> {
        match result {
            Ok(()) => Vec::new(),
            Err(ApiError::Client {
                status,
                code,
                details,
                ..
            }) => {
                assert_eq!(status, StatusCode::BAD_REQUEST);
                assert_eq!(code, "VALIDATION_ERROR");
                details.into_iter().map(|d| (d.field, d.message)).collect()
            }
            Err(other) => panic!("expected a validation error, got {other:?}"),
        }
    }

    fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        expected
            .iter()
            .map(|(f, m)| ((*f).to_owned(), (*m).to_owned()))
            .collect()
    }

    fn short(v: &Value) -> Result<String, String> {
        line(v, 3)
    }

    #[test]
    fn every_problem_is_reported_at_once_in_reading_order() -> Result<(), ApiError> {
        let body = json!({"b": 5, "c": "toolong", "d": null, "ok": "yes"});
        let mut f = Fields::of(&body)?;
        assert_eq!(f.required("a", short), None);
        assert_eq!(f.required("b", short), None);
        assert_eq!(f.optional("c", short), None);
        assert_eq!(f.patch("d", short), None);
        assert_eq!(f.required("ok", short), Some("yes".to_owned()));
        f.error("ok", "must differ from b");
        assert_eq!(
            details(f.finish()),
            pairs(&[
                ("a", "is required"),
                ("b", "must be a string"),
                ("c", "must be at most 3 characters"),
                ("d", "must not be null"),
                ("ok", "must differ from b"),
            ])
        );
        Ok(())
    }

    #[test]
    fn one_problem_names_its_field_in_the_message() -> Result<(), ApiError> {
        let body = json!({});
        let mut f = Fields::of(&body)?;
        f.required("name", short);
        match f.finish() {
            Err(err) => assert_eq!(err.to_string(), "name: is required"),
            Ok(()) => panic!("a missing field must fail"),
        }
        Ok(())
    }

    #[test]
    fn absent_null_and_invalid_are_told_apart() -> Result<(), ApiError> {
        let body = json!({"null": null, "bad": 7, "good": " x "});
        // One reader on a fresh collector: what it returned and what `finish` reported.
        fn with<T>(
            body: &Value,
            reader: impl FnOnce(&mut Fields<'_>) -> T,
        ) -> Result<(T, Vec<(String, String)>), ApiError> {
            let mut f = Fields::of(body)?;
            let out = reader(&mut f);
            Ok((out, details(f.finish())))
        }
        let read = |field: &str| -> Result<_, ApiError> {
            Ok((
                with(&body, |f| f.required(field, short))?,
                with(&body, |f| f.optional(field, short))?,
                with(&body, |f| f.patch(field, short))?,
                with(&body, |f| f.check(field, short))?,
            ))
        };
        let none = Vec::new;
        let x = || Some("x".to_owned());

        let (required, optional, patch, check) = read("absent")?;
        assert_eq!(required, (None, pairs(&[("absent", "is required")])));
        assert_eq!(optional, (None, none()));
        assert_eq!(patch, (None, none()));
        assert_eq!(check, (Presence::Absent, none()));

        let (required, optional, patch, check) = read("null")?;
        assert_eq!(required, (None, pairs(&[("null", "is required")])));
        assert_eq!(optional, (None, none()));
        assert_eq!(patch, (None, pairs(&[("null", "must not be null")])));
        assert_eq!(check, (Presence::Null, none()));

        // Invalid: the parser's message, never "is required" on top.
        let bad = || pairs(&[("bad", "must be a string")]);
        let (required, optional, patch, check) = read("bad")?;
        assert_eq!(required, (None, bad()));
        assert_eq!(optional, (None, bad()));
        assert_eq!(patch, (None, bad()));
        assert_eq!(check, (Presence::Null, bad()));

        let (required, optional, patch, check) = read("good")?;
        assert_eq!(required, (x(), none()));
        assert_eq!(optional, (x(), none()));
        assert_eq!(patch, (x(), none()));
        assert_eq!(check, (Presence::Value("x".to_owned()), none()));
        Ok(())
    }

    #[test]
    fn a_body_that_is_not_an_object_is_one_body_error() {
        for body in [json!([1]), json!("x"), json!(3), json!(null), json!(true)] {
            let result = Fields::of(&body).map(|_| ());
            assert_eq!(
                details(result),
                pairs(&[("body", "must be a JSON object")]),
                "{body}"
            );
        }
    }

    #[test]
    fn finish_with_builds_only_when_nothing_was_recorded() -> Result<(), ApiError> {
        let body = json!({"a": "x", "b": 2});
        let mut f = Fields::of(&body)?;
        let a = f.required("a", short);
        let b = f.required("b", |v| whole(v, 1, 5));
        assert_eq!(f.finish_with(|| Some((a?, b?)))?, ("x".to_owned(), 2));

        let mut f = Fields::of(&body)?;
        let c = f.required("c", short);
        let result = f.finish_with(|| c).map(|_| ());
        assert_eq!(details(result), pairs(&[("c", "is required")]));

        // An optional field used as if required: no problem recorded, yet nothing to build.
        let mut f = Fields::of(&body)?;
        let c = f.optional("c", short);
        let result = f.finish_with(|| c).map(|_| ());
        assert_eq!(details(result), pairs(&[("body", "is incomplete")]));
        Ok(())
    }

    #[test]
    fn line_trims_and_bounds() {
        assert_eq!(line(&json!("  Hi "), 5), Ok("Hi".to_owned()));
        assert_eq!(line(&json!("   "), 5), Err("must not be empty".to_owned()));
        assert!(line(&json!("abcdef"), 5).is_err());
        assert_eq!(line(&json!(3), 5), Err("must be a string".to_owned()));
        assert!(line(&json!("a\u{0}b"), 5).is_err());
        assert!(line(&json!("a\nb"), 5).is_err());
        // Characters, not bytes.
        assert!(line(&json!("ééééé"), 5).is_ok());
    }

    #[test]
    fn text_allows_line_breaks_and_empty() {
        assert_eq!(text(&json!(" a\n\tb "), 10), Ok("a\n\tb".to_owned()));
        assert_eq!(text(&json!("  "), 10), Ok(String::new()));
        assert!(text(&json!("a\u{7}b"), 10).is_err());
        assert!(text(&json!("x".repeat(11)), 10).is_err());
        assert!(text(&json!(["a"]), 10).is_err());
    }

    #[test]
    fn whole_numbers_only() {
        assert_eq!(whole(&json!(100), 1, 10000), Ok(100));
        assert_eq!(whole(&json!(100.0), 1, 10000), Ok(100));
        assert!(whole(&json!(100.5), 1, 10000).is_err());
        assert!(whole(&json!(0), 1, 10000).is_err());
        assert!(whole(&json!(10001), 1, 10000).is_err());
        assert!(whole(&json!(-1), 1, 10000).is_err());
        assert!(whole(&json!(1e20), 1, 10000).is_err());
        assert_eq!(
            whole(&json!("5"), 1, 10000),
            Err("must be a whole number from 1 to 10000".to_owned())
        );
    }

    #[test]
    fn uuids_in_any_case() {
        let id = "0e7c5d0c-1b5b-4c39-9b0a-3c4a1d2e3f40";
        assert_eq!(
            uuid(&json!(" 0E7C5D0C-1B5B-4C39-9B0A-3C4A1D2E3F40 ")).map(|u| u.to_string()),
            Ok(id.to_owned())
        );
        assert_eq!(uuid(&json!("nope")), Err("must be a UUID".to_owned()));
        assert!(uuid(&json!(5)).is_err());
    }
}
