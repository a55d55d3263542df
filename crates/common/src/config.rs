//! Typed configuration from the environment, with startup errors that name the variable.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

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

/// Where configuration comes from: the process environment, or any name → value lookup, so
/// tests can check a service's rules without touching (shared, racy) process env.
pub struct Vars<F> {
    lookup: F,
}

/// The process environment.
pub fn env() -> Vars<fn(&str) -> Option<String>> {
    Vars::new(|name| std::env::var(name).ok())
}

impl<F: Fn(&str) -> Option<String>> Vars<F> {
    pub fn new(lookup: F) -> Self {
        Self { lookup }
    }

    /// A non-empty value, or `None` when unset or blank.
    pub fn optional(&self, var: &str) -> Option<String> {
        (self.lookup)(var).filter(|v| !v.trim().is_empty())
    }

    pub fn required(&self, var: &str) -> Result<String, ConfigError> {
        self.optional(var)
            .ok_or_else(|| ConfigError::new(var, "is required but not set"))
    }

    /// Parses `var` if set, else returns `default`.
    pub fn parse_or<T>(&self, var: &str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        match self.optional(var) {
            None => Ok(default),
            Some(raw) => raw
                .trim()
                .parse()
                .map_err(|e| ConfigError::new(var, format!("is not valid ({e}): {raw:?}"))),
        }
    }

    /// A duration given in milliseconds, between 1 ms and `max_ms`.
    pub fn millis(&self, var: &str, default_ms: u64, max_ms: u64) -> Result<Duration, ConfigError> {
        let ms = self.parse_or(var, default_ms)?;
        if !(1..=max_ms).contains(&ms) {
            return Err(ConfigError::new(
                var,
                format!("must be between 1 and {max_ms} milliseconds (got {ms})"),
            ));
        }
        Ok(Duration::from_millis(ms))
    }

    /// `true`/`false` (also `1`/`0`, `yes`/`no`).
    pub fn flag(&self, var: &str, default: bool) -> Result<bool, ConfigError> {
        match self.optional(var) {
            None => Ok(default),
            Some(raw) => match raw.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Ok(true),
                "false" | "0" | "no" => Ok(false),
                _ => Err(ConfigError::new(
                    var,
                    format!("must be true or false, got {raw:?}"),
                )),
            },
        }
    }

    /// `JWT_SECRET`: HS256 key, UTF-8 bytes, at least 32 of them, and not a placeholder.
    pub fn jwt_secret(&self) -> Result<Secret, ConfigError> {
        self.secret("JWT_SECRET")
    }

    /// `INTERNAL_SECRET`: the key the gateway signs forwarded identities with; same rules.
    pub fn identity_key(&self) -> Result<crate::auth::IdentityKey, ConfigError> {
        self.secret(INTERNAL_SECRET)
            .map(crate::auth::IdentityKey::new)
    }

    fn secret(&self, var: &str) -> Result<Secret, ConfigError> {
        let secret = self.required(var)?;
        check_secret(var, &secret)?;
        // Tests build their configs in code (`Config::for_test`); from the environment, a
        // secret published in the test sources is as unsafe as the placeholder.
        if secret.to_ascii_lowercase().contains(TEST_ONLY_MARKER) {
            return Err(ConfigError::new(
                var,
                "is a test secret published in the source; set a random secret",
            ));
        }
        Ok(Secret::new(secret))
    }

    /// `KAFKA_TOPIC_PREFIX` (empty unless set): put before every topic name, so several
    /// fleets (or tests) can share one broker. Letters, digits, `.`, `_` and `-` only.
    pub fn kafka_topic_prefix(&self) -> Result<String, ConfigError> {
        let prefix = self.optional("KAFKA_TOPIC_PREFIX").unwrap_or_default();
        if prefix.len() > 100
            || !prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err(ConfigError::new(
                "KAFKA_TOPIC_PREFIX",
                "may hold at most 100 letters, digits, '.', '_' or '-'",
            ));
        }
        Ok(prefix)
    }

    /// `MONGODB_URL` (required, kept secret: it may carry a password) and `MONGODB_DB`
    /// (`default_db` unless set; 1-63 letters, digits, `_` or `-`).
    pub fn mongodb(&self, default_db: &str) -> Result<(Secret, String), ConfigError> {
        let url = self.required("MONGODB_URL")?;
        if !(url.starts_with("mongodb://") || url.starts_with("mongodb+srv://")) {
            // Never echo the value: it may contain a password.
            return Err(ConfigError::new(
                "MONGODB_URL",
                "must start with mongodb:// or mongodb+srv://",
            ));
        }
        let db = self
            .optional("MONGODB_DB")
            .unwrap_or_else(|| default_db.to_owned());
        let valid = db.len() <= 63
            && db
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !valid {
            return Err(ConfigError::new(
                "MONGODB_DB",
                format!("must be 1-63 letters, digits, '_' or '-', got {db:?}"),
            ));
        }
        Ok((Secret::new(url), db))
    }

    /// A `postgres://` URL (kept secret: it may carry a password).
    pub fn postgres_url(&self, var: &str) -> Result<Secret, ConfigError> {
        let url = self.required(var)?;
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(ConfigError::new(
                var,
                "must be a postgres:// or postgresql:// URL",
            ));
        }
        Ok(Secret::new(url))
    }
}

/// A non-empty variable of the process environment, or `None` when unset or blank.
pub fn optional(var: &str) -> Option<String> {
    env().optional(var)
}

pub fn required(var: &str) -> Result<String, ConfigError> {
    env().required(var)
}

/// Parses process env `var` if set, else returns `default`.
pub fn parse_or<T>(var: &str, default: T) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    env().parse_or(var, default)
}

/// A value that must never reach a log: `Debug` and `Display` print `[redacted]`, and the
/// memory is zeroed when dropped (`secrecy`). Reading it takes an explicit `expose()`.
#[derive(Clone)]
pub struct Secret(secrecy::SecretString);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(secrecy::SecretString::from(value.into()))
    }

    pub fn expose(&self) -> &str {
        secrecy::ExposeSecret::expose_secret(&self.0)
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
pub const INTERNAL_SECRET: &str = "INTERNAL_SECRET";

/// Placeholder secrets are published (in `.env.example` and docs): anyone could mint an ADMIN
/// token with them, so a value carrying this marker is refused. The local stack writes a random
/// secret to `.env.local`; compose and k8s take theirs from `.env` / a Secret.
pub const PLACEHOLDER_MARKER: &str = "change-me";
/// Carried by every secret the tests use (they are in the source); refused from the environment.
pub const TEST_ONLY_MARKER: &str = "tests-only";

/// The rules every key (`JWT_SECRET`, `INTERNAL_SECRET`) must pass, wherever it was read from.
pub fn check_secret(var: &str, secret: &str) -> Result<(), ConfigError> {
    if secret.len() < MIN_JWT_SECRET_BYTES {
        return Err(ConfigError::new(
            var,
            format!(
                "must be at least {MIN_JWT_SECRET_BYTES} bytes (got {})",
                secret.len()
            ),
        ));
    }
    if secret.to_ascii_lowercase().contains(PLACEHOLDER_MARKER) {
        return Err(ConfigError::new(
            var,
            "is the published placeholder; set a random secret (e.g. `openssl rand -hex 32`)",
        ));
    }
    Ok(())
}

/// `JWT_SECRET` from the process environment.
pub fn jwt_secret() -> Result<Secret, ConfigError> {
    env().jwt_secret()
}

/// `BIND_ADDR` (127.0.0.1): the interface a service listens on. Loopback by default, so a
/// native run is never reachable from the network; containers set `0.0.0.0`.
pub fn bind_ip() -> Result<std::net::IpAddr, ConfigError> {
    env().parse_or("BIND_ADDR", std::net::IpAddr::from([127, 0, 0, 1]))
}

/// `METRICS_BIND_ADDR` (127.0.0.1): where internal listeners (`/metrics`) listen.
pub fn metrics_bind_ip() -> Result<std::net::IpAddr, ConfigError> {
    env().parse_or("METRICS_BIND_ADDR", std::net::IpAddr::from([127, 0, 0, 1]))
}

/// `PORT`, defaulting to the service's contract port.
pub fn port(default: u16) -> Result<u16, ConfigError> {
    env().parse_or("PORT", default)
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

    fn vars(
        pairs: &'static [(&'static str, &'static str)],
    ) -> Vars<impl Fn(&str) -> Option<String>> {
        Vars::new(move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    fn problem<T: fmt::Debug>(result: Result<T, ConfigError>) -> String {
        result.err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn mongodb_url_and_database() {
        let ok = vars(&[("MONGODB_URL", "mongodb+srv://cluster.example")]).mongodb("tf_x");
        assert_eq!(
            ok.map(|(url, db)| (url.expose().to_owned(), db)).ok(),
            Some((
                "mongodb+srv://cluster.example".to_owned(),
                "tf_x".to_owned()
            ))
        );
        let text = problem(vars(&[("MONGODB_URL", "postgres://x:secret@h/db")]).mongodb("d"));
        assert!(
            text.contains("MONGODB_URL") && !text.contains("secret"),
            "{text}"
        );
        for bad in ["a b", "x.y"] {
            let pairs: &'static [(&str, &str)] = if bad == "a b" {
                &[("MONGODB_URL", "mongodb://h"), ("MONGODB_DB", "a b")]
            } else {
                &[("MONGODB_URL", "mongodb://h"), ("MONGODB_DB", "x.y")]
            };
            assert!(
                problem(vars(pairs).mongodb("d")).contains("MONGODB_DB"),
                "{bad}"
            );
        }
    }

    #[test]
    fn errors_name_the_variable() {
        let v = vars(&[
            ("N", "abc"),
            ("BLANK", "  "),
            ("MS", "0"),
            ("F", "maybe"),
            ("DB", "mysql://x"),
        ]);
        assert!(problem(v.parse_or::<u16>("N", 1)).contains("N is not valid"));
        assert_eq!(
            v.parse_or::<u16>("BLANK", 7).ok(),
            Some(7),
            "blank counts as unset"
        );
        assert!(problem(v.required("BLANK")).contains("BLANK is required"));
        assert!(problem(v.millis("MS", 5, 10)).contains("MS must be between 1 and 10"));
        assert!(problem(v.flag("F", false)).contains("F must be true or false"));
        assert!(problem(v.postgres_url("DB")).contains("DB must be a postgres://"));
    }

    #[test]
    fn jwt_secret_needs_32_bytes() {
        assert!(problem(vars(&[]).jwt_secret()).contains("JWT_SECRET is required"));
        let short = vars(&[("JWT_SECRET", "0123456789012345678901234567890")]);
        assert!(problem(short.jwt_secret()).contains("at least 32 bytes (got 31)"));
        let ok = vars(&[("JWT_SECRET", "01234567890123456789012345678901")]);
        assert_eq!(ok.jwt_secret().ok().map(|s| s.expose().len()), Some(32));
    }

    #[test]
    fn placeholder_jwt_secret_is_refused() {
        // The value shipped in .env.example, which every default install would otherwise share.
        let example = include_str!("../../../.env.example")
            .lines()
            .find_map(|line| line.strip_prefix("JWT_SECRET="))
            .unwrap_or_default();
        assert!(example.len() >= MIN_JWT_SECRET_BYTES, "{example:?}");
        let shipped = Vars::new(move |name| (name == "JWT_SECRET").then(|| example.to_owned()));
        assert!(problem(shipped.jwt_secret()).contains("placeholder"));
        let shouting = vars(&[("JWT_SECRET", "CHANGE-ME-0123456789012345678901234567")]);
        assert!(problem(shouting.jwt_secret()).contains("placeholder"));
    }

    #[test]
    fn placeholder_internal_secret_is_refused() {
        let example = include_str!("../../../.env.example")
            .lines()
            .find_map(|line| line.strip_prefix("INTERNAL_SECRET="))
            .unwrap_or_default();
        assert!(example.len() >= MIN_JWT_SECRET_BYTES, "{example:?}");
        let shipped = Vars::new(move |name| (name == INTERNAL_SECRET).then(|| example.to_owned()));
        assert!(problem(shipped.identity_key())
            .contains("INTERNAL_SECRET is the published placeholder"));
        assert!(problem(vars(&[]).identity_key()).contains("INTERNAL_SECRET is required"));
        let short = vars(&[("INTERNAL_SECRET", "too-short")]);
        assert!(problem(short.identity_key()).contains("at least 32 bytes"));
    }

    #[test]
    fn secrets_published_for_tests_are_refused_from_the_environment() {
        let key = crate::auth::TEST_INTERNAL_SECRET;
        let from_env = Vars::new(move |name| (name == INTERNAL_SECRET).then(|| key.to_owned()));
        assert!(problem(from_env.identity_key()).contains("test secret"));
    }

    #[test]
    fn values_parse() {
        let v = vars(&[("MS", "1500"), ("F", "YES"), ("DB", "postgresql://h/db")]);
        assert_eq!(
            v.millis("MS", 5, 10_000).ok(),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            v.millis("UNSET", 5, 10).ok(),
            Some(Duration::from_millis(5))
        );
        assert_eq!(v.flag("F", false).ok(), Some(true));
        assert_eq!(v.flag("UNSET", true).ok(), Some(true));
        assert!(v.postgres_url("DB").is_ok());
    }
}
