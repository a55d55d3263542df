//! Typed configuration from the environment.

use std::time::Duration;

use chrono_tz::Tz;
use ticketflow_common::auth::IdentityKey;
use ticketflow_common::config::{self, ConfigError, Secret, Vars};

/// The contract port of notification-service.
pub const DEFAULT_PORT: u16 = 3006;
/// The contract database of notification-service (`MONGODB_DB` overrides it).
pub const DEFAULT_DB: &str = "ticketflow_notifications";
/// The consumer group (after `KAFKA_TOPIC_PREFIX`, so a prefixed test or fleet has its own).
pub const CONSUMER_GROUP: &str = "notification-service";
/// Where a mail's dates are written for people when `MAIL_TIMEZONE` is unset: the platform's
/// default currency is the rupee, so its default audience is in India.
pub const DEFAULT_TIMEZONE: Tz = chrono_tz::Asia::Kolkata;
/// Sending attempts share the consumer's partition with every later mail: cap the wait.
const MAX_RETRY_MS: u64 = 600_000;

/// How the SMTP connection is secured (`SMTP_TLS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain SMTP (a local relay or Mailpit).
    None,
    /// STARTTLS after connecting (port 587 relays).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
}

#[derive(Debug, Clone)]
pub struct Smtp {
    /// `SMTP_HOST` (required).
    pub host: String,
    /// `SMTP_PORT` (1025, Mailpit's).
    pub port: u16,
    /// `SMTP_FROM` (`TicketFlow <no-reply@ticketflow.dev>`): a mailbox, checked at start.
    pub from: String,
    /// `SMTP_USERNAME` / `SMTP_PASSWORD` (both or neither).
    pub credentials: Option<(String, Secret)>,
    /// `SMTP_TLS`: `none` (default), `starttls` or `tls`.
    pub tls: SmtpTls,
    /// `SMTP_TIMEOUT_MS` (10000): one SMTP conversation never takes longer.
    pub timeout: Duration,
    /// `SMTP_MAX_ATTEMPTS` (10): sending attempts of one mail before it is stored `FAILED`
    /// and its message dead-lettered.
    pub max_attempts: u32,
    /// `SMTP_RETRY_MS` (1000): the wait after the first failed attempt, doubling each time up
    /// to `SMTP_RETRY_MAX_MS` (60000). The defaults ride out about four minutes of outage.
    pub retry_initial: Duration,
    pub retry_max: Duration,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// `PORT` (default 3006). Only `main` uses it; tests hand `run` their own listener.
    pub port: u16,
    /// `MONGODB_URL` (required). A secret: it may carry credentials.
    pub mongodb_url: Secret,
    /// `MONGODB_DB` (default `ticketflow_notifications`).
    pub mongodb_db: String,
    /// `KAFKA_BOOTSTRAP_SERVERS` (required).
    pub kafka_bootstrap: String,
    /// `KAFKA_TOPIC_PREFIX` (empty): before every topic and the consumer group.
    pub kafka_topic_prefix: String,
    /// `INTERNAL_SECRET` (required): verifies the identity the gateway forwards.
    pub identity_key: IdentityKey,
    pub smtp: Smtp,
    /// `MAIL_TIMEZONE` (an IANA name, default `Asia/Kolkata`): event dates in mails are
    /// written in it, with the zone named.
    pub timezone: Tz,
    /// `PUBLIC_URL` (`http://localhost:3000`): where the links in mails point.
    pub public_url: String,
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
            smtp: smtp(&vars)?,
            timezone: match vars.optional("MAIL_TIMEZONE") {
                None => DEFAULT_TIMEZONE,
                Some(name) => name.parse().map_err(|_| {
                    ConfigError::new("MAIL_TIMEZONE", "must be an IANA zone, e.g. Asia/Kolkata")
                })?,
            },
            public_url: public_url(vars.optional("PUBLIC_URL"))?,
        })
    }

    /// A configuration for in-process tests: the given MongoDB server and database, Kafka,
    /// topic prefix (a test's own, from `testkit::private_topics`), identity key and SMTP
    /// server (plain); retries are quick (tests set `smtp` for other cases).
    pub fn for_test(
        mongodb_url: &str,
        mongodb_db: &str,
        kafka_bootstrap: &str,
        kafka_topic_prefix: &str,
        identity_key: IdentityKey,
        smtp_host: &str,
        smtp_port: u16,
    ) -> Self {
        Self {
            port: 0,
            mongodb_url: Secret::new(mongodb_url),
            mongodb_db: mongodb_db.to_owned(),
            kafka_bootstrap: kafka_bootstrap.to_owned(),
            kafka_topic_prefix: kafka_topic_prefix.to_owned(),
            identity_key,
            smtp: Smtp {
                host: smtp_host.to_owned(),
                port: smtp_port,
                from: DEFAULT_FROM.to_owned(),
                credentials: None,
                tls: SmtpTls::None,
                timeout: Duration::from_secs(5),
                max_attempts: 10,
                retry_initial: Duration::from_millis(200),
                retry_max: Duration::from_secs(1),
            },
            timezone: DEFAULT_TIMEZONE,
            public_url: "http://localhost:3000".to_owned(),
        }
    }
}

const DEFAULT_FROM: &str = "TicketFlow <no-reply@ticketflow.dev>";

fn smtp<F: Fn(&str) -> Option<String>>(vars: &Vars<F>) -> Result<Smtp, ConfigError> {
    let from = vars
        .optional("SMTP_FROM")
        .unwrap_or_else(|| DEFAULT_FROM.to_owned());
    if from.parse::<lettre::message::Mailbox>().is_err() {
        return Err(ConfigError::new(
            "SMTP_FROM",
            "must be a mailbox, e.g. TicketFlow <no-reply@example.com>",
        ));
    }
    let credentials = match (
        vars.optional("SMTP_USERNAME"),
        vars.optional("SMTP_PASSWORD"),
    ) {
        (None, None) => None,
        (Some(user), Some(password)) => Some((user, Secret::new(password))),
        (Some(_), None) => {
            return Err(ConfigError::new(
                "SMTP_PASSWORD",
                "is required with SMTP_USERNAME",
            ))
        }
        (None, Some(_)) => {
            return Err(ConfigError::new(
                "SMTP_USERNAME",
                "is required with SMTP_PASSWORD",
            ))
        }
    };
    let tls = match vars.optional("SMTP_TLS").as_deref() {
        None | Some("none") => SmtpTls::None,
        Some("starttls") => SmtpTls::StartTls,
        Some("tls") => SmtpTls::Tls,
        Some(_) => {
            return Err(ConfigError::new(
                "SMTP_TLS",
                "must be none, starttls or tls",
            ))
        }
    };
    let max_attempts: u32 = vars.parse_or("SMTP_MAX_ATTEMPTS", 10)?;
    if !(1..=100).contains(&max_attempts) {
        return Err(ConfigError::new("SMTP_MAX_ATTEMPTS", "must be 1 to 100"));
    }
    Ok(Smtp {
        host: vars.required("SMTP_HOST")?,
        port: vars.parse_or("SMTP_PORT", 1025)?,
        from,
        credentials,
        tls,
        timeout: vars.millis("SMTP_TIMEOUT_MS", 10_000, 120_000)?,
        max_attempts,
        retry_initial: vars.millis("SMTP_RETRY_MS", 1000, MAX_RETRY_MS)?,
        retry_max: vars.millis("SMTP_RETRY_MAX_MS", 60_000, MAX_RETRY_MS)?,
    })
}

fn public_url(value: Option<String>) -> Result<String, ConfigError> {
    let url = value.unwrap_or_else(|| "http://localhost:3000".to_owned());
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(ConfigError::new(
            "PUBLIC_URL",
            "must be an http:// or https:// URL",
        ));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: [(&str, &str); 4] = [
        ("MONGODB_URL", "mongodb://127.0.0.1:27017"),
        ("KAFKA_BOOTSTRAP_SERVERS", "localhost:9093"),
        ("INTERNAL_SECRET", "0123456789abcdef0123456789abcdef"),
        ("SMTP_HOST", "127.0.0.1"),
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
        assert_eq!(config.port, 3006);
        assert_eq!(config.mongodb_db, "ticketflow_notifications");
        assert_eq!(config.smtp.port, 1025);
        assert_eq!(config.smtp.from, DEFAULT_FROM);
        assert_eq!(config.smtp.tls, SmtpTls::None);
        assert!(config.smtp.credentials.is_none());
        assert_eq!(config.smtp.max_attempts, 10);
        assert_eq!(config.timezone, chrono_tz::Asia::Kolkata);
        assert_eq!(config.public_url, "http://localhost:3000");
        let set = from(&[
            ("SMTP_PORT", "587"),
            ("SMTP_TLS", "starttls"),
            ("SMTP_USERNAME", "mailer"),
            ("SMTP_PASSWORD", "hunter2"),
            ("MAIL_TIMEZONE", "Europe/Berlin"),
            ("PUBLIC_URL", "https://tickets.example/"),
        ])?;
        assert_eq!(set.smtp.port, 587);
        assert_eq!(set.smtp.tls, SmtpTls::StartTls);
        assert_eq!(
            set.smtp.credentials.as_ref().map(|(u, _)| u.as_str()),
            Some("mailer")
        );
        assert_eq!(set.timezone, chrono_tz::Europe::Berlin);
        assert_eq!(set.public_url, "https://tickets.example");
        assert!(!format!("{set:?}").contains("hunter2"));
        Ok(())
    }

    #[test]
    fn bad_values_name_the_variable() {
        let cases: [(&str, &str); 8] = [
            ("SMTP_FROM", "not a mailbox"),
            ("SMTP_TLS", "maybe"),
            ("SMTP_PORT", "70000"),
            ("SMTP_MAX_ATTEMPTS", "0"),
            ("SMTP_RETRY_MS", "0"),
            ("MAIL_TIMEZONE", "Mars/Olympus"),
            ("PUBLIC_URL", "localhost:3000"),
            ("SMTP_USERNAME", "alone"),
        ];
        for (name, value) in cases {
            let problem = var(from(&[(name, value)]));
            let want = if name == "SMTP_USERNAME" {
                "SMTP_PASSWORD"
            } else {
                name
            };
            assert_eq!(problem.as_deref(), Some(want), "{name}={value}");
        }
        let missing = Config::from_lookup(|name| {
            BASE.iter()
                .filter(|(k, _)| *k != "SMTP_HOST")
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        });
        assert_eq!(var(missing).as_deref(), Some("SMTP_HOST"));
    }
}
