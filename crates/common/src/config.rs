//! Typed configuration from the environment, with startup errors that name the variable.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, thiserror::Error)]
#[error("configuration error: {var} {problem}")]
pub struct ConfigError {
    pub var: String,
    pub problem: String,
}

impl ConfigError {
    pub fn new(var: &str, problem: impl Into<String>) -> Self {
        Self {
            var: var.to_owned(),
            problem: problem.into(),
        }
    }
}

/// A non-empty variable, or `None` when unset or blank.
pub fn optional(var: &str) -> Option<String> {
    std::env::var(var).ok().filter(|v| !v.trim().is_empty())
}

pub fn required(var: &str) -> Result<String, ConfigError> {
    optional(var).ok_or_else(|| ConfigError::new(var, "is required but not set"))
}

/// Parses `var` if set, else returns `default`.
pub fn parse_or<T>(var: &str, default: T) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    match optional(var) {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse()
            .map_err(|e| ConfigError::new(var, format!("is not valid ({e}): {raw:?}"))),
    }
}

/// A value that must never reach a log: `Debug` and `Display` print `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

pub const MIN_JWT_SECRET_BYTES: usize = 32;

/// `JWT_SECRET`: HS256 key, UTF-8 bytes, at least 32 of them.
pub fn jwt_secret() -> Result<Secret, ConfigError> {
    let secret = required("JWT_SECRET")?;
    if secret.len() < MIN_JWT_SECRET_BYTES {
        return Err(ConfigError::new(
            "JWT_SECRET",
            format!(
                "must be at least {MIN_JWT_SECRET_BYTES} bytes (got {})",
                secret.len()
            ),
        ));
    }
    Ok(Secret::new(secret))
}

/// `PORT`, defaulting to the service's contract port.
pub fn port(default: u16) -> Result<u16, ConfigError> {
    parse_or("PORT", default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?} {s}"), "Secret([redacted]) [redacted]");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn parse_error_names_the_variable() {
        // A name no other test or process sets.
        std::env::set_var("TF_TEST_PARSE_OR_BAD", "abc");
        let err = parse_or::<u16>("TF_TEST_PARSE_OR_BAD", 1).err();
        let text = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(text.contains("TF_TEST_PARSE_OR_BAD"), "{text}");
        assert_eq!(parse_or::<u16>("TF_TEST_PARSE_OR_UNSET", 7).ok(), Some(7));
    }
}
