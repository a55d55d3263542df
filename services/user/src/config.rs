//! Typed configuration. `Config::from_env` reads the process environment; `Config::from_lookup`
//! takes any name → value function, so tests check the rules without touching process env;
//! `Config::for_test` builds one programmatically for in-process tests.

use ticketflow_common::auth::IdentityKey;
use ticketflow_common::config::{self as common, ConfigError, Secret, Vars};

use crate::password::PasswordCost;

/// The contract port of user-service.
pub const DEFAULT_PORT: u16 = 3001;
/// 7 days, the contract default of `JWT_EXPIRATION` (milliseconds).
pub const DEFAULT_JWT_EXPIRATION_MS: i64 = 604_800_000;
/// Upper bound for `JWT_EXPIRATION` (10 years), so expiry arithmetic can never overflow.
pub const MAX_JWT_EXPIRATION_MS: i64 = 10 * 365 * 24 * 3600 * 1000;
const DEFAULT_DB_MAX_CONNECTIONS: u32 = 10;
/// The JWT key of [`Config::for_test`]: tests that mint or check tokens use it, and so does a
/// test gateway in front of a test user-service.
pub const TEST_JWT_SECRET: &str = "user-tests-only-jwt-secret-0123456789-abcd";

#[derive(Debug, Clone)]
pub struct Config {
    /// `PORT` (3001). `run` serves on the listener it is given; `main` binds this port.
    pub port: u16,
    /// `USER_DB_URL`: PostgreSQL URL of `ticketflow_users` (may hold a password: redacted).
    pub database_url: Secret,
    /// `USER_DB_MAX_CONNECTIONS` (10).
    pub db_max_connections: u32,
    /// `KAFKA_BOOTSTRAP_SERVERS`.
    pub kafka_bootstrap: String,
    /// `JWT_SECRET`: HS256 key, at least 32 bytes.
    pub jwt_secret: Secret,
    /// `INTERNAL_SECRET`: verifies the identity the gateway forwards.
    pub identity_key: IdentityKey,
    /// `JWT_EXPIRATION`: token lifetime in milliseconds (604800000).
    pub jwt_expiration_ms: i64,
    /// argon2id cost of new hashes. Not read from the environment: always
    /// `PasswordCost::RECOMMENDED` except in tests that build a `Config` themselves.
    pub password_cost: PasswordCost,
}

impl Config {
    /// Reads the process environment (blank values count as unset).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(common::optional)
    }

    /// A configuration for in-process tests: the given database, Kafka and identity key,
    /// [`TEST_JWT_SECRET`], contract defaults, and `PasswordCost::TEST_ONLY_MINIMAL` so that
    /// hashing takes milliseconds. `run` serves on the listener it is given (`port` is 0).
    pub fn for_test(database_url: &str, kafka_bootstrap: &str, identity_key: IdentityKey) -> Self {
        Self {
            port: 0,
            database_url: Secret::new(database_url),
            db_max_connections: DEFAULT_DB_MAX_CONNECTIONS,
            kafka_bootstrap: kafka_bootstrap.to_owned(),
            jwt_secret: Secret::new(TEST_JWT_SECRET),
            identity_key,
            jwt_expiration_ms: DEFAULT_JWT_EXPIRATION_MS,
            password_cost: PasswordCost::TEST_ONLY_MINIMAL,
        }
    }

    /// Builds the config from `lookup(name)`; errors name the variable.
    pub fn from_lookup<F>(lookup: F) -> Result<Self, ConfigError>
    where
        F: Fn(&str) -> Option<String>,
    {
        let vars = Vars::new(lookup);
        let jwt_expiration_ms = vars.parse_or("JWT_EXPIRATION", DEFAULT_JWT_EXPIRATION_MS)?;
        if !(1..=MAX_JWT_EXPIRATION_MS).contains(&jwt_expiration_ms) {
            return Err(ConfigError::new(
                "JWT_EXPIRATION",
                format!("must be between 1 and {MAX_JWT_EXPIRATION_MS} milliseconds (got {jwt_expiration_ms})"),
            ));
        }
        let db_max_connections =
            vars.parse_or("USER_DB_MAX_CONNECTIONS", DEFAULT_DB_MAX_CONNECTIONS)?;
        if db_max_connections == 0 {
            return Err(ConfigError::new(
                "USER_DB_MAX_CONNECTIONS",
                "must be at least 1",
            ));
        }
        Ok(Self {
            port: vars.parse_or("PORT", DEFAULT_PORT)?,
            database_url: vars.postgres_url("USER_DB_URL")?,
            db_max_connections,
            kafka_bootstrap: vars.required("KAFKA_BOOTSTRAP_SERVERS")?,
            jwt_secret: vars.jwt_secret()?,
            identity_key: vars.identity_key()?,
            jwt_expiration_ms,
            password_cost: PasswordCost::RECOMMENDED,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const GOOD_SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    fn base() -> Vec<(&'static str, &'static str)> {
        vec![
            (
                "USER_DB_URL",
                "postgres://postgres@127.0.0.1:5432/ticketflow_users",
            ),
            ("KAFKA_BOOTSTRAP_SERVERS", "localhost:9093"),
            ("JWT_SECRET", GOOD_SECRET),
            ("INTERNAL_SECRET", GOOD_SECRET),
        ]
    }

    fn with(extra: &[(&'static str, &'static str)]) -> Result<Config, ConfigError> {
        let mut pairs = base();
        pairs.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
        pairs.extend_from_slice(extra);
        Config::from_lookup(lookup(&pairs))
    }

    fn err_var(result: Result<Config, ConfigError>) -> Option<String> {
        result.err().map(|e| e.var)
    }

    #[test]
    fn defaults_apply() -> anyhow::Result<()> {
        let config = with(&[])?;
        assert_eq!(config.port, 3001);
        assert_eq!(config.jwt_expiration_ms, 604_800_000);
        assert_eq!(config.db_max_connections, 10);
        assert_eq!(config.password_cost, PasswordCost::RECOMMENDED);
        assert_eq!(config.jwt_secret.expose(), GOOD_SECRET);
        Ok(())
    }

    #[test]
    fn short_jwt_secret_is_refused() {
        // 31 bytes: one short.
        let result = with(&[("JWT_SECRET", "0123456789abcdef0123456789abcde")]);
        let text = result
            .as_ref()
            .err()
            .map(ToString::to_string)
            .unwrap_or_default();
        assert_eq!(err_var(result), Some("JWT_SECRET".to_owned()));
        assert!(text.contains("at least 32 bytes"), "{text}");
        // Bytes, not characters: ten three-byte characters are 30 bytes, eleven are 33.
        let euros = |n: usize| Vars::new(move |_: &str| Some("€".repeat(n))).jwt_secret();
        assert!(euros(10).is_err());
        assert!(euros(11).is_ok());
    }

    #[test]
    fn missing_values_name_the_variable() {
        for var in ["USER_DB_URL", "KAFKA_BOOTSTRAP_SERVERS", "JWT_SECRET"] {
            let pairs: Vec<_> = base().into_iter().filter(|(k, _)| *k != var).collect();
            let result = Config::from_lookup(lookup(&pairs));
            assert_eq!(err_var(result), Some(var.to_owned()));
        }
        assert_eq!(
            err_var(with(&[("JWT_SECRET", "   ")])),
            Some("JWT_SECRET".to_owned())
        );
    }

    #[test]
    fn malformed_values_are_refused() {
        assert_eq!(err_var(with(&[("PORT", "http")])), Some("PORT".to_owned()));
        for bad in ["0", "-5", "abc", "315360000001"] {
            assert_eq!(
                err_var(with(&[("JWT_EXPIRATION", bad)])),
                Some("JWT_EXPIRATION".to_owned()),
                "{bad}"
            );
        }
        assert_eq!(
            err_var(with(&[("USER_DB_URL", "mysql://x/y")])),
            Some("USER_DB_URL".to_owned())
        );
        assert_eq!(
            err_var(with(&[("USER_DB_MAX_CONNECTIONS", "0")])),
            Some("USER_DB_MAX_CONNECTIONS".to_owned())
        );
    }

    #[test]
    fn explicit_values_win() -> anyhow::Result<()> {
        let config = with(&[("PORT", "4001"), ("JWT_EXPIRATION", " 60000 ")])?;
        assert_eq!((config.port, config.jwt_expiration_ms), (4001, 60_000));
        Ok(())
    }

    #[test]
    fn secrets_are_redacted_in_debug() -> anyhow::Result<()> {
        let text = format!("{:?}", with(&[])?);
        assert!(!text.contains(GOOD_SECRET), "{text}");
        assert!(!text.contains("postgres@"), "{text}");
        Ok(())
    }
}
