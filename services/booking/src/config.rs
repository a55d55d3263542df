//! Typed configuration. `Config::from_env` reads the process environment; `Config::from_lookup`
//! takes any name → value function; `Config::for_test` builds one for in-process tests.

use std::time::Duration;

use ticketflow_common::auth::IdentityKey;
use ticketflow_common::config::{self as common, ConfigError, Secret, Vars};

/// The contract port of booking-service.
pub const DEFAULT_PORT: u16 = 3003;
/// The contract's consumer group of booking-service.
pub const CONSUMER_GROUP: &str = "booking-service";
const DEFAULT_DB_MAX_CONNECTIONS: u32 = 10;
const DEFAULT_BOOKING_TIMEOUT_MS: u64 = 120_000;
const DEFAULT_SEAT_LOCK_TTL_MS: u64 = 300_000;
const DEFAULT_MAX_SEATS: usize = 10;
const DEFAULT_CANCELLATION_WINDOW_HOURS: i64 = 24;
/// How long a create waits for event-service before answering 503.
const DEFAULT_EVENT_LOOKUP_TIMEOUT_MS: u64 = 2_000;

#[derive(Debug, Clone)]
pub struct Config {
    /// `PORT` (3003).
    pub port: u16,
    /// `BOOKING_DB_URL`: PostgreSQL URL of `ticketflow_bookings` (redacted).
    pub database_url: Secret,
    /// `BOOKING_DB_MAX_CONNECTIONS` (10).
    pub db_max_connections: u32,
    /// `KAFKA_BOOTSTRAP_SERVERS`.
    pub kafka_bootstrap: String,
    /// `KAFKA_TOPIC_PREFIX` (empty).
    pub kafka_topic_prefix: String,
    /// `INTERNAL_SECRET`: verifies the identity the gateway forwards.
    pub identity_key: IdentityKey,
    /// `EVENT_SERVICE_URL`: where event names, dates and prices come from.
    pub event_service_url: String,
    /// `EVENT_LOOKUP_TIMEOUT_MS` (2000).
    pub event_lookup_timeout: Duration,
    /// `BOOKING_TIMEOUT_MS` (120000): a booking still pending this long fails with TIMEOUT.
    pub booking_timeout: Duration,
    /// `SEAT_LOCK_TTL_MS` (300000): read only to check that the booking times out first.
    pub seat_lock_ttl: Duration,
    /// `MAX_SEATS_PER_BOOKING` (10).
    pub max_seats: usize,
    /// `CANCELLATION_WINDOW_HOURS` (24): a confirmed booking cannot be cancelled this close
    /// to its event.
    pub cancellation_window_hours: i64,
    /// How often timed-out bookings are looked for (`BOOKING_SWEEP_INTERVAL_MS`, 1000).
    pub sweep_interval: Duration,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(common::optional)
    }

    /// In-process tests: the given database, Kafka (under `kafka_topic_prefix`) and
    /// event-service, the shared test identity key, contract defaults for the rest.
    pub fn for_test(
        database_url: &str,
        kafka_bootstrap: &str,
        kafka_topic_prefix: &str,
        event_service_url: &str,
        identity_key: IdentityKey,
    ) -> Self {
        Self {
            port: 0,
            database_url: Secret::new(database_url),
            db_max_connections: DEFAULT_DB_MAX_CONNECTIONS,
            kafka_bootstrap: kafka_bootstrap.to_owned(),
            kafka_topic_prefix: kafka_topic_prefix.to_owned(),
            identity_key,
            event_service_url: event_service_url.trim_end_matches('/').to_owned(),
            event_lookup_timeout: Duration::from_millis(DEFAULT_EVENT_LOOKUP_TIMEOUT_MS),
            booking_timeout: Duration::from_millis(DEFAULT_BOOKING_TIMEOUT_MS),
            seat_lock_ttl: Duration::from_millis(DEFAULT_SEAT_LOCK_TTL_MS),
            max_seats: DEFAULT_MAX_SEATS,
            cancellation_window_hours: DEFAULT_CANCELLATION_WINDOW_HOURS,
            sweep_interval: Duration::from_millis(200),
        }
    }

    pub fn from_lookup<F: Fn(&str) -> Option<String>>(lookup: F) -> Result<Self, ConfigError> {
        let vars = Vars::new(lookup);
        let db_max_connections =
            vars.parse_or("BOOKING_DB_MAX_CONNECTIONS", DEFAULT_DB_MAX_CONNECTIONS)?;
        if db_max_connections == 0 {
            return Err(ConfigError::new(
                "BOOKING_DB_MAX_CONNECTIONS",
                "must be at least 1",
            ));
        }
        let event_service_url = vars.required("EVENT_SERVICE_URL")?;
        if !(event_service_url.starts_with("http://") || event_service_url.starts_with("https://"))
        {
            return Err(ConfigError::new(
                "EVENT_SERVICE_URL",
                "must be an http:// or https:// URL",
            ));
        }
        let max_seats = vars.parse_or("MAX_SEATS_PER_BOOKING", DEFAULT_MAX_SEATS)?;
        if !(1..=100).contains(&max_seats) {
            return Err(ConfigError::new(
                "MAX_SEATS_PER_BOOKING",
                "must be between 1 and 100",
            ));
        }
        let cancellation_window_hours = vars.parse_or(
            "CANCELLATION_WINDOW_HOURS",
            DEFAULT_CANCELLATION_WINDOW_HOURS,
        )?;
        if !(0..=24 * 365).contains(&cancellation_window_hours) {
            return Err(ConfigError::new(
                "CANCELLATION_WINDOW_HOURS",
                "must be between 0 and 8760",
            ));
        }
        let config = Self {
            port: vars.parse_or("PORT", DEFAULT_PORT)?,
            database_url: vars.postgres_url("BOOKING_DB_URL")?,
            db_max_connections,
            kafka_bootstrap: vars.required("KAFKA_BOOTSTRAP_SERVERS")?,
            kafka_topic_prefix: vars.kafka_topic_prefix()?,
            identity_key: vars.identity_key()?,
            event_service_url: event_service_url.trim_end_matches('/').to_owned(),
            event_lookup_timeout: vars.millis(
                "EVENT_LOOKUP_TIMEOUT_MS",
                DEFAULT_EVENT_LOOKUP_TIMEOUT_MS,
                60_000,
            )?,
            booking_timeout: vars.millis(
                "BOOKING_TIMEOUT_MS",
                DEFAULT_BOOKING_TIMEOUT_MS,
                86_400_000,
            )?,
            seat_lock_ttl: vars.millis("SEAT_LOCK_TTL_MS", DEFAULT_SEAT_LOCK_TTL_MS, 86_400_000)?,
            max_seats,
            cancellation_window_hours,
            sweep_interval: vars.millis("BOOKING_SWEEP_INTERVAL_MS", 1000, 60_000)?,
        };
        config.check_time_limits()?;
        Ok(config)
    }

    /// Time limits nest: a booking must be resolved before its seat lock can lapse.
    pub fn check_time_limits(&self) -> Result<(), ConfigError> {
        if self.booking_timeout >= self.seat_lock_ttl {
            return Err(ConfigError::new(
                "BOOKING_TIMEOUT_MS",
                format!(
                    "must be below SEAT_LOCK_TTL_MS ({} ms), so a booking ends before its seats' lock lapses",
                    self.seat_lock_ttl.as_millis()
                ),
            ));
        }
        Ok(())
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
                "BOOKING_DB_URL",
                "postgres://postgres@127.0.0.1:5432/ticketflow_bookings",
            ),
            ("KAFKA_BOOTSTRAP_SERVERS", "localhost:9093"),
            ("INTERNAL_SECRET", GOOD_SECRET),
            ("EVENT_SERVICE_URL", "http://127.0.0.1:3002/"),
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
        assert_eq!(config.port, 3003);
        assert_eq!(config.booking_timeout, Duration::from_secs(120));
        assert_eq!(config.max_seats, 10);
        assert_eq!(config.cancellation_window_hours, 24);
        assert_eq!(config.event_service_url, "http://127.0.0.1:3002");
        Ok(())
    }

    #[test]
    fn the_booking_timeout_must_be_below_the_seat_lock_ttl() {
        assert_eq!(
            err_var(with(&[("BOOKING_TIMEOUT_MS", "300000")])),
            Some("BOOKING_TIMEOUT_MS".to_owned())
        );
        assert_eq!(
            err_var(with(&[
                ("BOOKING_TIMEOUT_MS", "5000"),
                ("SEAT_LOCK_TTL_MS", "4000")
            ])),
            Some("BOOKING_TIMEOUT_MS".to_owned())
        );
        assert!(with(&[("BOOKING_TIMEOUT_MS", "299999")]).is_ok());
    }

    #[test]
    fn missing_and_malformed_values_name_the_variable() {
        for var in [
            "BOOKING_DB_URL",
            "KAFKA_BOOTSTRAP_SERVERS",
            "INTERNAL_SECRET",
            "EVENT_SERVICE_URL",
        ] {
            assert_eq!(err_var(with(&[(var, "")])), Some(var.to_owned()), "{var}");
        }
        for (var, bad) in [
            ("EVENT_SERVICE_URL", "127.0.0.1:3002"),
            ("MAX_SEATS_PER_BOOKING", "0"),
            ("CANCELLATION_WINDOW_HOURS", "-1"),
            ("BOOKING_DB_MAX_CONNECTIONS", "0"),
        ] {
            assert_eq!(
                err_var(with(&[(var, bad)])),
                Some(var.to_owned()),
                "{var}={bad}"
            );
        }
    }
}
