//! Field-by-field validation of loosely typed JSON bodies, so a client gets every problem at
//! once in `details[]`, each under the exact field name it sent.

use serde_json::{Map, Value};
use ticketflow_common::{ApiError, FieldError};

/// Collects the errors of one body.
pub struct Fields<'a> {
    body: &'a Map<String, Value>,
    errors: Vec<FieldError>,
}

/// What a body says about one key.
pub enum Presence<T> {
    Absent,
    Null,
    Value(T),
}

impl<'a> Fields<'a> {
    /// The body must be a JSON object.
    pub fn of(body: &'a Value) -> Result<Self, ApiError> {
        match body {
            Value::Object(map) => Ok(Self {
                body: map,
                errors: Vec::new(),
            }),
            _ => Err(ApiError::field("body", "must be a JSON object")),
        }
    }

    pub fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
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

    /// A field that must be present and valid.
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
}

/// A trimmed single-line string of 1..=`max` characters.
pub fn line(value: &Value, max: usize) -> Result<String, String> {
    let text = value.as_str().ok_or("must be a string")?.trim();
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
    let text = value.as_str().ok_or("must be a string")?.trim();
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

/// A UUID (any case), returned in its canonical lowercase form.
pub fn uuid(value: &Value) -> Result<uuid::Uuid, String> {
    value
        .as_str()
        .and_then(|s| uuid::Uuid::parse_str(s.trim()).ok())
        .ok_or_else(|| "must be a UUID".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn line_trims_and_bounds() {
        assert_eq!(line(&json!("  Hi "), 5), Ok("Hi".to_owned()));
        assert!(line(&json!("   "), 5).is_err());
        assert!(line(&json!("abcdef"), 5).is_err());
        assert!(line(&json!(3), 5).is_err());
        assert!(line(&json!("a\u{0}b"), 5).is_err());
        // Characters, not bytes.
        assert!(line(&json!("ééééé"), 5).is_ok());
    }

    #[test]
    fn whole_numbers_only() {
        assert_eq!(whole(&json!(100), 1, 10000), Ok(100));
        assert_eq!(whole(&json!(100.0), 1, 10000), Ok(100));
        assert!(whole(&json!(100.5), 1, 10000).is_err());
        assert!(whole(&json!(0), 1, 10000).is_err());
        assert!(whole(&json!(10001), 1, 10000).is_err());
        assert!(whole(&json!(-1), 1, 10000).is_err());
        assert!(whole(&json!("5"), 1, 10000).is_err());
    }

    #[test]
    fn collects_every_error() {
        let body = json!({"a": null, "b": 5});
        let mut fields = Fields::of(&body).ok();
        let Some(f) = fields.as_mut() else {
            panic!("object expected")
        };
        assert!(f.required("a", |v| line(v, 3)).is_none());
        assert!(f.required("b", |v| line(v, 3)).is_none());
        assert!(f.required("c", |v| line(v, 3)).is_none());
        assert!(f.patch("a", |v| line(v, 3)).is_none());
        assert!(f.optional("a", |v| line(v, 3)).is_none());
        assert_eq!(f.errors.len(), 4);
        assert!(Fields::of(&json!([1])).is_err());
    }
}
