//! Typed configuration from the environment.

use std::time::Duration;

use ticketflow_common::auth::IdentityKey;
use ticketflow_common::config::{self, ConfigError, Secret, Vars};

/// The contract port of event-service.
pub const DEFAULT_PORT: u16 = 3002;
/// The contract database of event-service (`MONGODB_DB` overrides it).
pub const DEFAULT_DB: &str = "ticketflow_events";
/// An hour: a slower outbox relay would leave messages stranded for too long.
const MAX_INTERVAL_MS: u64 = 3_600_000;

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
    /// `KAFKA_TOPIC_PREFIX` (empty): put before every topic this service produces to or
    /// consumes from, and before its consumer group, so tests (or fleets) sharing a broker
    /// stay apart. Empty in every real deployment.
    pub kafka_topic_prefix: String,
    /// `INTERNAL_SECRET` (required): verifies the identity the gateway forwards.
    pub identity_key: IdentityKey,
    /// How often the outbox relay looks for messages left pending (`OUTBOX_POLL_MS`, 1000).
    pub relay_interval: Duration,
    /// How long a pending message is left to the request that created it (or to the relay
    /// that claimed it) before the relay takes it over (`OUTBOX_GRACE_MS`, 5000).
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
        Ok(Self {
            port: vars.parse_or("PORT", DEFAULT_PORT)?,
            mongodb_url,
            mongodb_db,
            kafka_bootstrap: vars.required("KAFKA_BOOTSTRAP_SERVERS")?,
            kafka_topic_prefix: vars.kafka_topic_prefix()?,
            identity_key: vars.identity_key()?,
            relay_interval: vars.millis("OUTBOX_POLL_MS", 1000, MAX_INTERVAL_MS)?,
            outbox_grace: Duration::from_millis(vars.parse_or("OUTBOX_GRACE_MS", 5000)?),
        })
    }

    /// A configuration for in-process tests: the given MongoDB server and database, Kafka and
    /// identity key, contract defaults for the rest (no topic prefix: a test that needs
    /// private topics sets `kafka_topic_prefix`). `run` serves on the listener it is given
    /// (`port` is 0).
    pub fn for_test(
        mongodb_url: &str,
        mongodb_db: &str,
        kafka_bootstrap: &str,
        identity_key: IdentityKey,
    ) -> Self {
        Self {
            port: 0,
            mongodb_url: Secret::new(mongodb_url),
            mongodb_db: mongodb_db.to_owned(),
            kafka_bootstrap: kafka_bootstrap.to_owned(),
            kafka_topic_prefix: String::new(),
            identity_key,
            relay_interval: Duration::from_secs(1),
            outbox_grace: Duration::from_secs(5),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_url() {
        let config = Config::for_test(
            "mongodb://user:hunter2@h",
            "db",
            "k:9092",
            IdentityKey::new(Secret::new("k".repeat(32))),
        );
        assert!(!format!("{config:?}").contains("hunter2"));
    }
}

#[cfg(test)]
mod lookup_tests {
    use super::*;

    fn from(pairs: &'static [(&'static str, &'static str)]) -> Result<Config, ConfigError> {
        Config::from_lookup(|name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn reads_the_environment_with_contract_defaults() -> Result<(), ConfigError> {
        let config = from(&[
            ("MONGODB_URL", "mongodb://127.0.0.1:27017"),
            ("KAFKA_BOOTSTRAP_SERVERS", "localhost:9093"),
            ("INTERNAL_SECRET", "0123456789abcdef0123456789abcdef"),
            ("OUTBOX_POLL_MS", "250"),
        ])?;
        assert_eq!(
            (config.port, config.mongodb_db.as_str()),
            (3002, DEFAULT_DB)
        );
        assert_eq!(config.relay_interval, Duration::from_millis(250));
        assert_eq!(config.outbox_grace, Duration::from_millis(5000));
        assert_eq!(config.kafka_topic_prefix, "");
        Ok(())
    }

    #[test]
    fn reads_and_checks_the_topic_prefix() {
        let config = from(&[
            ("MONGODB_URL", "mongodb://127.0.0.1:27017"),
            ("KAFKA_BOOTSTRAP_SERVERS", "localhost:9093"),
            ("INTERNAL_SECRET", "0123456789abcdef0123456789abcdef"),
            ("KAFKA_TOPIC_PREFIX", "fleet-b."),
        ]);
        assert_eq!(
            config.ok().map(|c| c.kafka_topic_prefix).as_deref(),
            Some("fleet-b.")
        );
        let bad = from(&[
            ("MONGODB_URL", "mongodb://127.0.0.1:27017"),
            ("KAFKA_BOOTSTRAP_SERVERS", "localhost:9093"),
            ("INTERNAL_SECRET", "0123456789abcdef0123456789abcdef"),
            ("KAFKA_TOPIC_PREFIX", "a/b"),
        ]);
        assert_eq!(
            bad.err().map(|e| e.var).as_deref(),
            Some("KAFKA_TOPIC_PREFIX")
        );
    }

    #[test]
    fn bad_values_name_the_variable() {
        let var = |r: Result<Config, ConfigError>| r.err().map(|e| e.var);
        assert_eq!(
            var(from(&[("KAFKA_BOOTSTRAP_SERVERS", "k:1")])).as_deref(),
            Some("MONGODB_URL")
        );
        let bad_url = &[
            ("MONGODB_URL", "postgres://x"),
            ("KAFKA_BOOTSTRAP_SERVERS", "k:1"),
        ];
        assert_eq!(var(from(bad_url)).as_deref(), Some("MONGODB_URL"));
        let zero_poll = &[
            ("MONGODB_URL", "mongodb://h"),
            ("KAFKA_BOOTSTRAP_SERVERS", "k:1"),
            ("INTERNAL_SECRET", "0123456789abcdef0123456789abcdef"),
            ("OUTBOX_POLL_MS", "0"),
        ];
        assert_eq!(var(from(zero_poll)).as_deref(), Some("OUTBOX_POLL_MS"));
    }
}
