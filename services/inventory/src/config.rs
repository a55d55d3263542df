//! Typed configuration. `Config::from_env` reads the process environment; `Config::from_lookup`
//! takes any name → value function, so tests check the rules without touching process env;
//! `Config::for_test` builds one programmatically for in-process tests.

use std::time::Duration;

use ticketflow_common::auth::IdentityKey;
use ticketflow_common::config::{self as common, ConfigError, Secret, Vars};

/// The contract port of inventory-service.
pub const DEFAULT_PORT: u16 = 3004;
/// 5 minutes, the contract default of `SEAT_LOCK_TTL_MS`.
pub const DEFAULT_SEAT_LOCK_TTL_MS: u64 = 300_000;
/// A day: no booking waits that long for its payment.
const MAX_SEAT_LOCK_TTL_MS: u64 = 86_400_000;
const DEFAULT_DB_MAX_CONNECTIONS: u32 = 10;
/// The contract's consumer group of inventory-service.
pub const CONSUMER_GROUP: &str = "inventory-service";
/// Live seat streams one client IP may hold open at once.
const DEFAULT_STREAMS_PER_CLIENT: usize = 8;

#[derive(Debug, Clone)]
pub struct Config {
    /// `PORT` (3004). `run` serves on the listener it is given; `main` binds this port.
    pub port: u16,
    /// `INVENTORY_DB_URL`: PostgreSQL URL of `ticketflow_inventory` (redacted).
    pub database_url: Secret,
    /// `INVENTORY_DB_MAX_CONNECTIONS` (10).
    pub db_max_connections: u32,
    /// `REDIS_URL`: the seat-lock gate (redacted: it may carry a password).
    pub redis_url: Secret,
    /// `KAFKA_BOOTSTRAP_SERVERS`.
    pub kafka_bootstrap: String,
    /// `KAFKA_TOPIC_PREFIX` (empty): see `ticketflow_common::kafka::topics::prefixed`.
    pub kafka_topic_prefix: String,
    /// `INTERNAL_SECRET`: verifies the identity the gateway forwards.
    pub identity_key: IdentityKey,
    /// `SEAT_LOCK_TTL_MS` (300000): how long a lock holds seats for a booking.
    pub seat_lock_ttl: Duration,
    /// `SEAT_SWEEP_INTERVAL_MS` (1000): how often lapsed locks are looked for.
    pub sweep_interval: Duration,
    /// `SEAT_STREAMS_PER_CLIENT` (8): live seat streams per client IP; more → `429`.
    pub streams_per_client: usize,
    /// `SEAT_STREAM_HEARTBEAT_MS` (15000): comment line sent on an idle seat stream.
    pub stream_heartbeat: Duration,
}

impl Config {
    /// Reads the process environment (blank values count as unset).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(common::optional)
    }

    /// A configuration for in-process tests: the given PostgreSQL, Redis and Kafka (under
    /// `kafka_topic_prefix`, see `ticketflow_testkit::private_topics`), the shared test
    /// identity key, contract defaults for the rest. `port` is 0: `run` serves on the
    /// listener it is given.
    pub fn for_test(
        database_url: &str,
        redis_url: &str,
        kafka_bootstrap: &str,
        kafka_topic_prefix: &str,
        identity_key: IdentityKey,
    ) -> Self {
        Self {
            port: 0,
            database_url: Secret::new(database_url),
            db_max_connections: DEFAULT_DB_MAX_CONNECTIONS,
            redis_url: Secret::new(redis_url),
            kafka_bootstrap: kafka_bootstrap.to_owned(),
            kafka_topic_prefix: kafka_topic_prefix.to_owned(),
            identity_key,
            seat_lock_ttl: Duration::from_millis(DEFAULT_SEAT_LOCK_TTL_MS),
            sweep_interval: Duration::from_millis(200),
            streams_per_client: DEFAULT_STREAMS_PER_CLIENT,
            stream_heartbeat: Duration::from_secs(15),
        }
    }

    /// Builds the config from `lookup(name)`; errors name the variable.
    pub fn from_lookup<F>(lookup: F) -> Result<Self, ConfigError>
    where
        F: Fn(&str) -> Option<String>,
    {
        let vars = Vars::new(lookup);
        let db_max_connections =
            vars.parse_or("INVENTORY_DB_MAX_CONNECTIONS", DEFAULT_DB_MAX_CONNECTIONS)?;
        if db_max_connections == 0 {
            return Err(ConfigError::new(
                "INVENTORY_DB_MAX_CONNECTIONS",
                "must be at least 1",
            ));
        }
        let redis_url = vars.required("REDIS_URL")?;
        if !(redis_url.starts_with("redis://") || redis_url.starts_with("rediss://")) {
            return Err(ConfigError::new(
                "REDIS_URL",
                "must be a redis:// or rediss:// URL",
            ));
        }
        let streams_per_client =
            vars.parse_or("SEAT_STREAMS_PER_CLIENT", DEFAULT_STREAMS_PER_CLIENT)?;
        if streams_per_client == 0 {
            return Err(ConfigError::new(
                "SEAT_STREAMS_PER_CLIENT",
                "must be at least 1",
            ));
        }
        Ok(Self {
            port: vars.parse_or("PORT", DEFAULT_PORT)?,
            database_url: vars.postgres_url("INVENTORY_DB_URL")?,
            db_max_connections,
            redis_url: Secret::new(redis_url),
            kafka_bootstrap: vars.required("KAFKA_BOOTSTRAP_SERVERS")?,
            kafka_topic_prefix: vars.kafka_topic_prefix()?,
            identity_key: vars.identity_key()?,
            seat_lock_ttl: vars.millis(
                "SEAT_LOCK_TTL_MS",
                DEFAULT_SEAT_LOCK_TTL_MS,
                MAX_SEAT_LOCK_TTL_MS,
            )?,
            sweep_interval: vars.millis("SEAT_SWEEP_INTERVAL_MS", 1000, 60_000)?,
            streams_per_client,
            stream_heartbeat: vars.millis("SEAT_STREAM_HEARTBEAT_MS", 15_000, 300_000)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const GOOD_SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn with(extra: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut map: HashMap<String, String> = [
            (
                "INVENTORY_DB_URL",
                "postgres://postgres@127.0.0.1:5432/ticketflow_inventory",
            ),
            ("REDIS_URL", "redis://127.0.0.1:6379"),
            ("KAFKA_BOOTSTRAP_SERVERS", "localhost:9093"),
            ("INTERNAL_SECRET", GOOD_SECRET),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        for (k, v) in extra {
            map.insert((*k).to_owned(), (*v).to_owned());
        }
        Config::from_lookup(move |name| map.get(name).filter(|v| !v.is_empty()).cloned())
    }

    fn err_var(result: Result<Config, ConfigError>) -> Option<String> {
        result.err().map(|e| e.var)
    }

    #[test]
    fn defaults_apply() -> anyhow::Result<()> {
        let config = with(&[])?;
        assert_eq!(config.port, 3004);
        assert_eq!(config.seat_lock_ttl, Duration::from_secs(300));
        assert_eq!(config.sweep_interval, Duration::from_secs(1));
        assert_eq!(config.streams_per_client, 8);
        assert_eq!(config.stream_heartbeat, Duration::from_secs(15));
        assert_eq!(config.kafka_topic_prefix, "");
        Ok(())
    }

    #[test]
    fn missing_and_malformed_values_name_the_variable() {
        for var in [
            "INVENTORY_DB_URL",
            "REDIS_URL",
            "KAFKA_BOOTSTRAP_SERVERS",
            "INTERNAL_SECRET",
        ] {
            assert_eq!(err_var(with(&[(var, "")])), Some(var.to_owned()), "{var}");
        }
        for (var, bad) in [
            ("REDIS_URL", "http://x"),
            ("INVENTORY_DB_URL", "mysql://x/y"),
            ("SEAT_LOCK_TTL_MS", "0"),
            ("SEAT_LOCK_TTL_MS", "soon"),
            ("SEAT_LOCK_TTL_MS", "86400001"),
            ("SEAT_STREAMS_PER_CLIENT", "0"),
            ("INVENTORY_DB_MAX_CONNECTIONS", "0"),
            ("KAFKA_TOPIC_PREFIX", "a b"),
        ] {
            assert_eq!(
                err_var(with(&[(var, bad)])),
                Some(var.to_owned()),
                "{var}={bad}"
            );
        }
    }

    #[test]
    fn secrets_are_redacted_in_debug() -> anyhow::Result<()> {
        let text = format!(
            "{:?}",
            with(&[("REDIS_URL", "redis://:hunter2-password@127.0.0.1:6379")])?
        );
        assert!(!text.contains("hunter2"), "{text}");
        assert!(!text.contains(GOOD_SECRET), "{text}");
        Ok(())
    }
}
