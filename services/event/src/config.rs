//! Typed configuration from the environment.

use std::time::Duration;

use ticketflow_common::config::{self, ConfigError, Secret};

/// The contract port of event-service.
pub const DEFAULT_PORT: u16 = 3002;
/// The contract database of event-service (`MONGODB_DB` overrides it).
pub const DEFAULT_DB: &str = "ticketflow_events";

#[derive(Debug, Clone)]
pub struct Config {
    /// `PORT` (default 3002). Only `main` uses it; tests hand `run` their own listener.
    pub port: u16,
    /// `MONGODB_URL` (required). A secret: it may carry credentials.
    pub mongodb_url: Secret,
    /// `MONGODB_DB` (default `ticketflow_events`).
    pub mongodb_db: String,
    /// `KAFKA_BOOTSTRAP_SERVERS` (required).
    pub kafka_bootstrap: String,
    /// How often the outbox relay looks for messages left pending (`OUTBOX_POLL_MS`, 1000).
    pub relay_interval: Duration,
    /// How long a pending message is left to the request that created it (or to the relay
    /// that claimed it) before the relay takes it over (`OUTBOX_GRACE_MS`, 5000).
    pub outbox_grace: Duration,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        let mongodb_url = config::required("MONGODB_URL")?;
        validate_mongodb_url(&mongodb_url)?;
        let mongodb_db = config::optional("MONGODB_DB").unwrap_or_else(|| DEFAULT_DB.to_owned());
        validate_db_name(&mongodb_db)?;
        let relay_ms: u64 = config::parse_or("OUTBOX_POLL_MS", 1000)?;
        let grace_ms: u64 = config::parse_or("OUTBOX_GRACE_MS", 5000)?;
        if relay_ms == 0 {
            return Err(ConfigError::new("OUTBOX_POLL_MS", "must be at least 1"));
        }
        Ok(Self {
            port: config::port(DEFAULT_PORT)?,
            mongodb_url: Secret::new(mongodb_url),
            mongodb_db,
            kafka_bootstrap: config::required("KAFKA_BOOTSTRAP_SERVERS")?,
            relay_interval: Duration::from_millis(relay_ms),
            outbox_grace: Duration::from_millis(grace_ms),
        })
    }

    /// A configuration for tests and tools: defaults for everything but the addresses.
    pub fn new(mongodb_url: &str, mongodb_db: &str, kafka_bootstrap: &str) -> Self {
        Self {
            port: DEFAULT_PORT,
            mongodb_url: Secret::new(mongodb_url),
            mongodb_db: mongodb_db.to_owned(),
            kafka_bootstrap: kafka_bootstrap.to_owned(),
            relay_interval: Duration::from_secs(1),
            outbox_grace: Duration::from_secs(5),
        }
    }
}

fn validate_mongodb_url(url: &str) -> Result<(), ConfigError> {
    if url.starts_with("mongodb://") || url.starts_with("mongodb+srv://") {
        Ok(())
    } else {
        // Never echo the value: it may contain a password.
        Err(ConfigError::new(
            "MONGODB_URL",
            "must start with mongodb:// or mongodb+srv://",
        ))
    }
}

fn validate_db_name(name: &str) -> Result<(), ConfigError> {
    let ok = name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(ConfigError::new(
            "MONGODB_DB",
            format!("must be 1-63 letters, digits, '_' or '-', got {name:?}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_odd_urls_and_names() {
        assert!(validate_mongodb_url("mongodb://127.0.0.1:27017").is_ok());
        assert!(validate_mongodb_url("mongodb+srv://cluster.example").is_ok());
        let err = validate_mongodb_url("postgres://x:secret@h/db").err();
        let text = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(
            text.contains("MONGODB_URL") && !text.contains("secret"),
            "{text}"
        );
        assert!(validate_db_name("ticketflow_events").is_ok());
        assert!(validate_db_name("a b").is_err());
        assert!(validate_db_name("x.y").is_err());
    }

    #[test]
    fn debug_hides_the_url() {
        let config = Config::new("mongodb://user:hunter2@h", "db", "k:9092");
        assert!(!format!("{config:?}").contains("hunter2"));
    }
}
