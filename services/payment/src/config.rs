//! Typed configuration from the environment.

use std::time::Duration;

use ticketflow_common::auth::IdentityKey;
use ticketflow_common::config::{self, ConfigError, Secret, Vars};

/// The contract port of payment-service.
pub const DEFAULT_PORT: u16 = 3005;
/// The contract database of payment-service (`MONGODB_DB` overrides it).
pub const DEFAULT_DB: &str = "ticketflow_payments";
/// The consumer group (after `KAFKA_TOPIC_PREFIX`, so a prefixed test or fleet has its own).
pub const CONSUMER_GROUP: &str = "payment-service";
/// The mock provider's default chance that a charge succeeds.
pub const DEFAULT_SUCCESS_RATE: f64 = 0.95;
/// An hour: a slower outbox relay would leave messages stranded for too long.
const MAX_INTERVAL_MS: u64 = 3_600_000;
/// A mock charge never takes longer than a minute (it holds the consumer's partition).
const MAX_DELAY_MS: u64 = 60_000;

#[derive(Debug, Clone)]
pub struct Config {
    /// `PORT` (default 3005). Only `main` uses it; tests hand `run` their own listener.
    pub port: u16,
    /// `MONGODB_URL` (required). A secret: it may carry credentials.
    pub mongodb_url: Secret,
    /// `MONGODB_DB` (default `ticketflow_payments`).
    pub mongodb_db: String,
    /// `KAFKA_BOOTSTRAP_SERVERS` (required).
    pub kafka_bootstrap: String,
    /// `KAFKA_TOPIC_PREFIX` (empty): before every topic and the consumer group.
    pub kafka_topic_prefix: String,
    /// `INTERNAL_SECRET` (required): verifies the identity the gateway forwards.
    pub identity_key: IdentityKey,
    /// `PAYMENT_SUCCESS_RATE` (0.95): the chance a mock charge succeeds, 0 to 1.
    pub success_rate: f64,
    /// `PAYMENT_DELAY_MS` (0): how long a mock charge takes.
    pub delay: Duration,
    /// How often the outbox relay looks for messages left pending (`OUTBOX_POLL_MS`, 1000).
    pub relay_interval: Duration,
    /// How long a pending message is left to the handler that wrote it (or to the relay that
    /// claimed it) before the relay takes it over (`OUTBOX_GRACE_MS`, 5000).
    pub outbox_grace: Duration,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(config::optional)
    }

    /// Builds the config from `lookup(name)`; errors name the variable.
    pub fn from_lookup<F: Fn(&str) -> Option<String>>(lookup: F) -> Result<Self, ConfigError> {
        let vars = Vars::new(lookup);
        let (mongodb_url, mongodb_db) = vars.mongodb(DEFAULT_DB)?;
        let success_rate = vars.parse_or("PAYMENT_SUCCESS_RATE", DEFAULT_SUCCESS_RATE)?;
        if !(0.0..=1.0).contains(&success_rate) {
            return Err(ConfigError::new(
                "PAYMENT_SUCCESS_RATE",
                format!("must be between 0 and 1, got {success_rate}"),
            ));
        }
        let delay_ms: u64 = vars.parse_or("PAYMENT_DELAY_MS", 0)?;
        if delay_ms > MAX_DELAY_MS {
            return Err(ConfigError::new(
                "PAYMENT_DELAY_MS",
                format!("must be at most {MAX_DELAY_MS}, got {delay_ms}"),
            ));
        }
        Ok(Self {
            port: vars.parse_or("PORT", DEFAULT_PORT)?,
            mongodb_url,
            mongodb_db,
            kafka_bootstrap: vars.required("KAFKA_BOOTSTRAP_SERVERS")?,
            kafka_topic_prefix: vars.kafka_topic_prefix()?,
            identity_key: vars.identity_key()?,
            success_rate,
            delay: Duration::from_millis(delay_ms),
            relay_interval: vars.millis("OUTBOX_POLL_MS", 1000, MAX_INTERVAL_MS)?,
            outbox_grace: Duration::from_millis(vars.parse_or("OUTBOX_GRACE_MS", 5000)?),
        })
    }

    /// A configuration for in-process tests: the given MongoDB server and database, Kafka,
    /// topic prefix (a test's own, from `testkit::private_topics`) and identity key; every
    /// charge succeeds at once (tests set `success_rate`/`delay` for other cases).
    pub fn for_test(
        mongodb_url: &str,
        mongodb_db: &str,
        kafka_bootstrap: &str,
        kafka_topic_prefix: &str,
        identity_key: IdentityKey,
    ) -> Self {
        Self {
            port: 0,
            mongodb_url: Secret::new(mongodb_url),
            mongodb_db: mongodb_db.to_owned(),
            kafka_bootstrap: kafka_bootstrap.to_owned(),
            kafka_topic_prefix: kafka_topic_prefix.to_owned(),
            identity_key,
            success_rate: 1.0,
            delay: Duration::ZERO,
            relay_interval: Duration::from_millis(200),
            outbox_grace: Duration::from_secs(5),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: [(&str, &str); 3] = [
        ("MONGODB_URL", "mongodb://127.0.0.1:27017"),
        ("KAFKA_BOOTSTRAP_SERVERS", "localhost:9093"),
        ("INTERNAL_SECRET", "0123456789abcdef0123456789abcdef"),
    ];

    fn from(extra: &[(&'static str, &'static str)]) -> Result<Config, ConfigError> {
        let pairs: Vec<(&str, &str)> = BASE.iter().chain(extra.iter()).copied().collect();
        Config::from_lookup(|name| {
            pairs
                .iter()
                .rev()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    fn var(result: Result<Config, ConfigError>) -> Option<String> {
        result.err().map(|e| e.var)
    }

    #[test]
    fn reads_the_environment_with_contract_defaults() -> Result<(), ConfigError> {
        let config = from(&[])?;
        assert_eq!(config.port, 3005);
        assert_eq!(config.mongodb_db, "ticketflow_payments");
        assert_eq!(config.success_rate, 0.95);
        assert_eq!(config.delay, Duration::ZERO);
        assert_eq!(config.kafka_topic_prefix, "");
        assert_eq!(config.relay_interval, Duration::from_millis(1000));
        assert_eq!(config.outbox_grace, Duration::from_millis(5000));
        let set = from(&[
            ("PAYMENT_SUCCESS_RATE", "1"),
            ("PAYMENT_DELAY_MS", "250"),
            ("MONGODB_DB", "pay-b"),
            ("KAFKA_TOPIC_PREFIX", "fleet-b."),
        ])?;
        assert_eq!(set.success_rate, 1.0);
        assert_eq!(set.delay, Duration::from_millis(250));
        assert_eq!(set.mongodb_db, "pay-b");
        assert_eq!(set.kafka_topic_prefix, "fleet-b.");
        assert_eq!(from(&[("PAYMENT_SUCCESS_RATE", "0")])?.success_rate, 0.0);
        Ok(())
    }

    #[test]
    fn bad_values_name_the_variable() {
        for rate in ["1.01", "-0.1", "NaN", "often"] {
            let bad = Config::from_lookup(|name| match name {
                "PAYMENT_SUCCESS_RATE" => Some(rate.to_owned()),
                _ => BASE
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned()),
            });
            assert_eq!(var(bad).as_deref(), Some("PAYMENT_SUCCESS_RATE"), "{rate}");
        }
        assert_eq!(
            var(from(&[("PAYMENT_DELAY_MS", "-1")])).as_deref(),
            Some("PAYMENT_DELAY_MS")
        );
        assert_eq!(
            var(from(&[("PAYMENT_DELAY_MS", "600000")])).as_deref(),
            Some("PAYMENT_DELAY_MS")
        );
        assert_eq!(
            var(from(&[("MONGODB_URL", "postgres://x:secret@h/db")])).as_deref(),
            Some("MONGODB_URL")
        );
        assert_eq!(
            var(from(&[("MONGODB_DB", "a.b")])).as_deref(),
            Some("MONGODB_DB")
        );
        assert_eq!(
            var(from(&[("KAFKA_TOPIC_PREFIX", "a/b")])).as_deref(),
            Some("KAFKA_TOPIC_PREFIX")
        );
        assert_eq!(
            var(from(&[("OUTBOX_POLL_MS", "0")])).as_deref(),
            Some("OUTBOX_POLL_MS")
        );
        let missing = Config::from_lookup(|name| {
            (name == "KAFKA_BOOTSTRAP_SERVERS").then(|| "k:1".to_owned())
        });
        assert_eq!(var(missing).as_deref(), Some("MONGODB_URL"));
    }

    #[test]
    fn debug_hides_the_url() {
        let config = Config::for_test(
            "mongodb://user:hunter2@h",
            "db",
            "k:9092",
            "",
            IdentityKey::new(Secret::new("k".repeat(32))),
        );
        assert!(!format!("{config:?}").contains("hunter2"));
    }
}
