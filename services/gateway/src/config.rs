//! Typed configuration. `Config::from_env` reads the process environment; `Config::from_lookup`
//! takes any name → value function so the rules are unit-tested without touching process env;
//! `Config::for_test` builds one programmatically for in-process tests.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use axum::http::{uri::Scheme, Uri};
use ticketflow_common::auth::IdentityKey;
use ticketflow_common::config::{self as common, ConfigError, Secret, Vars};

/// The contract port of the gateway.
pub const DEFAULT_PORT: u16 = 3000;
/// Internal Prometheus listener (not the public port).
pub const DEFAULT_METRICS_PORT: u16 = 9100;
pub const DEFAULT_RATE_LIMIT_MAX: u32 = 100;
pub const DEFAULT_RATE_LIMIT_WINDOW_MS: u64 = 60_000;
pub const DEFAULT_UPSTREAM_TIMEOUT_MS: u64 = 10_000;
pub const DEFAULT_CORS_ORIGINS: &str = "http://localhost:5173";
/// The built web app, relative to the working directory (the repo root for `make up`).
pub const DEFAULT_WEB_DIR: &str = "frontend/dist";
/// Upper bound for the millisecond settings (one day): a typo must not become "forever".
const MAX_MS: u64 = 24 * 3600 * 1000;

/// The upstream services, in the order `/health/all` reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    User,
    Event,
    Booking,
    Inventory,
    Payment,
    Notification,
}

impl Service {
    pub const ALL: [Service; 6] = [
        Service::User,
        Service::Event,
        Service::Booking,
        Service::Inventory,
        Service::Payment,
        Service::Notification,
    ];

    /// The name `/health/all` and the metrics use.
    pub fn name(self) -> &'static str {
        match self {
            Service::User => "user",
            Service::Event => "event",
            Service::Booking => "booking",
            Service::Inventory => "inventory",
            Service::Payment => "payment",
            Service::Notification => "notification",
        }
    }

    /// The variable holding the service's base URL.
    pub fn env_var(self) -> &'static str {
        match self {
            Service::User => "USER_SERVICE_URL",
            Service::Event => "EVENT_SERVICE_URL",
            Service::Booking => "BOOKING_SERVICE_URL",
            Service::Inventory => "INVENTORY_SERVICE_URL",
            Service::Payment => "PAYMENT_SERVICE_URL",
            Service::Notification => "NOTIFICATION_SERVICE_URL",
        }
    }

    fn default_url(self) -> &'static str {
        match self {
            Service::User => "http://127.0.0.1:3001",
            Service::Event => "http://127.0.0.1:3002",
            Service::Booking => "http://127.0.0.1:3003",
            Service::Inventory => "http://127.0.0.1:3004",
            Service::Payment => "http://127.0.0.1:3005",
            Service::Notification => "http://127.0.0.1:3006",
        }
    }
}

/// Base URL of one upstream: `http://host[:port]`, nothing else (no path, query or userinfo).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    authority: axum::http::uri::Authority,
}

impl Upstream {
    /// `host:port` as sent in `Host` and used to connect.
    pub fn authority(&self) -> &axum::http::uri::Authority {
        &self.authority
    }

    /// `http://<authority><path_and_query>`.
    pub fn uri(&self, path_and_query: &str) -> Result<Uri, axum::http::Error> {
        Uri::builder()
            .scheme(Scheme::HTTP)
            .authority(self.authority.clone())
            .path_and_query(path_and_query)
            .build()
    }
}

/// Why a string is not a usable upstream base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidUpstream(pub String);

impl fmt::Display for InvalidUpstream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidUpstream {}

impl FromStr for Upstream {
    type Err = InvalidUpstream;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text).map_err(InvalidUpstream)
    }
}

impl Upstream {
    fn parse(text: &str) -> Result<Self, String> {
        let uri: Uri = text
            .trim()
            .parse()
            .map_err(|e| format!("is not a URL ({e}): {text:?}"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => {
                return Err(format!(
                    "must be an http:// URL (the gateway talks plain HTTP to services on the internal network): {text:?}"
                ))
            }
            _ => return Err(format!("must be an http://host:port URL: {text:?}")),
        }
        let authority = uri
            .authority()
            .cloned()
            .ok_or_else(|| format!("has no host: {text:?}"))?;
        if authority.host().is_empty() || authority.as_str().contains('@') {
            return Err(format!(
                "must be http://host:port without credentials: {text:?}"
            ));
        }
        if uri.query().is_some() || !matches!(uri.path(), "" | "/") {
            return Err(format!(
                "must be http://host:port without a path or query (paths are forwarded unchanged): {text:?}"
            ));
        }
        Ok(Self { authority })
    }
}

impl fmt::Display for Upstream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "http://{}", self.authority)
    }
}

/// Base URL of every upstream service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstreams {
    pub user: Upstream,
    pub event: Upstream,
    pub booking: Upstream,
    pub inventory: Upstream,
    pub payment: Upstream,
    pub notification: Upstream,
}

impl Upstreams {
    /// Every service at the same base URL (handy in tests with one echo server).
    pub fn all(url: &str) -> Result<Self, InvalidUpstream> {
        let one: Upstream = url.parse()?;
        Ok(Self {
            user: one.clone(),
            event: one.clone(),
            booking: one.clone(),
            inventory: one.clone(),
            payment: one.clone(),
            notification: one,
        })
    }

    /// Replaces one service's base URL.
    pub fn with(mut self, service: Service, url: &str) -> Result<Self, InvalidUpstream> {
        *self.get_mut(service) = url.parse()?;
        Ok(self)
    }

    pub fn get(&self, service: Service) -> &Upstream {
        match service {
            Service::User => &self.user,
            Service::Event => &self.event,
            Service::Booking => &self.booking,
            Service::Inventory => &self.inventory,
            Service::Payment => &self.payment,
            Service::Notification => &self.notification,
        }
    }

    fn get_mut(&mut self, service: Service) -> &mut Upstream {
        match service {
            Service::User => &mut self.user,
            Service::Event => &mut self.event,
            Service::Booking => &mut self.booking,
            Service::Inventory => &mut self.inventory,
            Service::Payment => &mut self.payment,
            Service::Notification => &mut self.notification,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    /// `PORT` (3000). `run` serves on the listener it is given; `main` binds this port.
    pub port: u16,
    /// `METRICS_PORT` (9100): internal listener serving only `GET /metrics`, on `METRICS_BIND_ADDR` (127.0.0.1).
    /// `METRICS_PORT=0` (and `None` here) turns it off.
    pub metrics_port: Option<u16>,
    /// `JWT_SECRET`: HS256 key, at least 32 bytes.
    pub jwt_secret: Secret,
    /// `INTERNAL_SECRET`: signs the identity forwarded to services.
    pub identity_key: IdentityKey,
    /// `USER_SERVICE_URL` … `NOTIFICATION_SERVICE_URL`.
    pub upstreams: Upstreams,
    /// `RATE_LIMIT_MAX` (100) requests per window per client; 0 disables rate limiting.
    pub rate_limit_max: u32,
    /// `RATE_LIMIT_WINDOW_MS` (60000).
    pub rate_limit_window: Duration,
    /// `TRUST_PROXY` (false): take the client IP from the first `X-Forwarded-For` entry.
    pub trust_proxy: bool,
    /// `CORS_ORIGINS` (http://localhost:5173): exact origins allowed to call with credentials.
    pub cors_origins: Vec<String>,
    /// `UPSTREAM_TIMEOUT_MS` (10000): time allowed until an upstream's response headers.
    pub upstream_timeout: Duration,
    /// `WEB_DIR` (`frontend/dist`): the built web app, served for every non-API `GET` (see
    /// `routes::web`); `None` (tests) serves none. A directory without `index.html` is
    /// allowed: the app answers 404 until it is built.
    pub web_dir: Option<PathBuf>,
}

impl Config {
    /// Reads the process environment (blank values count as unset).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(common::optional)
    }

    /// Builds the config from `lookup(name)`; errors name the variable.
    pub fn from_lookup<F>(lookup: F) -> Result<Self, ConfigError>
    where
        F: Fn(&str) -> Option<String>,
    {
        let vars = Vars::new(lookup);
        let get = |name: &str| vars.optional(name);

        let port = vars.parse_or("PORT", DEFAULT_PORT)?;
        let metrics_port = match vars.parse_or("METRICS_PORT", DEFAULT_METRICS_PORT)? {
            0 => None,
            p if p == port && port != 0 => {
                return Err(ConfigError::new(
                    "METRICS_PORT",
                    format!("must differ from PORT ({port}): /metrics stays off the public port"),
                ))
            }
            p => Some(p),
        };

        let jwt_secret = vars.jwt_secret()?;
        let identity_key = vars.identity_key()?;

        let upstream = |service: Service| -> Result<Upstream, ConfigError> {
            let var = service.env_var();
            get(var)
                .as_deref()
                .unwrap_or(service.default_url())
                .parse()
                .map_err(|InvalidUpstream(problem)| ConfigError::new(var, problem))
        };
        let upstreams = Upstreams {
            user: upstream(Service::User)?,
            event: upstream(Service::Event)?,
            booking: upstream(Service::Booking)?,
            inventory: upstream(Service::Inventory)?,
            payment: upstream(Service::Payment)?,
            notification: upstream(Service::Notification)?,
        };

        let rate_limit_max = vars.parse_or("RATE_LIMIT_MAX", DEFAULT_RATE_LIMIT_MAX)?;
        let rate_limit_window =
            vars.millis("RATE_LIMIT_WINDOW_MS", DEFAULT_RATE_LIMIT_WINDOW_MS, MAX_MS)?;
        let upstream_timeout =
            vars.millis("UPSTREAM_TIMEOUT_MS", DEFAULT_UPSTREAM_TIMEOUT_MS, MAX_MS)?;
        let trust_proxy = vars.flag("TRUST_PROXY", false)?;
        let cors_origins = parse_origins(
            get("CORS_ORIGINS")
                .as_deref()
                .unwrap_or(DEFAULT_CORS_ORIGINS),
        )
        .map_err(|problem| ConfigError::new("CORS_ORIGINS", problem))?;
        let web_dir = Some(PathBuf::from(
            get("WEB_DIR").as_deref().unwrap_or(DEFAULT_WEB_DIR).trim(),
        ));

        Ok(Self {
            port,
            metrics_port,
            jwt_secret,
            identity_key,
            upstreams,
            rate_limit_max,
            rate_limit_window,
            trust_proxy,
            cors_origins,
            upstream_timeout,
            web_dir,
        })
    }

    /// A config for in-process tests: the given upstreams and secrets (≥ 32 bytes), rate
    /// limiting OFF, no metrics listener, no proxy trust, default CORS origin and timeout, no
    /// web app.
    /// Every field is public; adjust what the test needs.
    pub fn for_test(jwt_secret: &str, identity_key: IdentityKey, upstreams: Upstreams) -> Self {
        Self {
            port: 0,
            metrics_port: None,
            jwt_secret: Secret::new(jwt_secret),
            identity_key,
            upstreams,
            rate_limit_max: 0,
            rate_limit_window: Duration::from_millis(DEFAULT_RATE_LIMIT_WINDOW_MS),
            trust_proxy: false,
            cors_origins: vec![DEFAULT_CORS_ORIGINS.to_owned()],
            upstream_timeout: Duration::from_millis(DEFAULT_UPSTREAM_TIMEOUT_MS),
            web_dir: None,
        }
    }

    /// Checks what `for_test`/hand-built configs could get wrong (`run` calls it).
    pub fn validate(&self) -> Result<(), ConfigError> {
        common::check_secret("JWT_SECRET", self.jwt_secret.expose())?;
        if self.rate_limit_window.is_zero() {
            return Err(ConfigError::new(
                "RATE_LIMIT_WINDOW_MS",
                "must be at least 1",
            ));
        }
        if self.upstream_timeout.is_zero() {
            return Err(ConfigError::new(
                "UPSTREAM_TIMEOUT_MS",
                "must be at least 1",
            ));
        }
        for origin in &self.cors_origins {
            check_origin(origin).map_err(|problem| ConfigError::new("CORS_ORIGINS", problem))?;
        }
        Ok(())
    }
}

/// `http://localhost:5173, https://app.example.com` → exact origins.
fn parse_origins(raw: &str) -> Result<Vec<String>, String> {
    let mut origins = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        check_origin(part)?;
        let origin = part.to_owned();
        if !origins.contains(&origin) {
            origins.push(origin);
        }
    }
    Ok(origins)
}

fn check_origin(origin: &str) -> Result<(), String> {
    if origin == "*" {
        return Err("cannot be '*': credentials are allowed, so list the exact origins".to_owned());
    }
    let rest = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .ok_or_else(|| format!("{origin:?} is not an origin (scheme://host[:port])"))?;
    let valid = !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
    if !valid {
        return Err(format!(
            "{origin:?} is not an origin (scheme://host[:port], no path or trailing slash)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut map: HashMap<String, String> = HashMap::new();
        map.insert("JWT_SECRET".into(), SECRET.into());
        map.insert("INTERNAL_SECRET".into(), SECRET.repeat(2));
        for (k, v) in vars {
            map.insert((*k).into(), (*v).into());
        }
        Config::from_lookup(|name| map.get(name).cloned())
    }

    fn error_var(vars: &[(&str, &str)]) -> String {
        config(vars).err().map(|e| e.var).unwrap_or_default()
    }

    #[test]
    fn defaults_match_the_contract() -> Result<(), ConfigError> {
        let c = config(&[])?;
        assert_eq!(c.port, 3000);
        assert_eq!(c.metrics_port, Some(9100));
        assert_eq!(c.rate_limit_max, 100);
        assert_eq!(c.rate_limit_window, Duration::from_secs(60));
        assert_eq!(c.upstream_timeout, Duration::from_secs(10));
        assert!(!c.trust_proxy);
        assert_eq!(c.cors_origins, vec!["http://localhost:5173".to_owned()]);
        assert_eq!(c.web_dir, Some(PathBuf::from("frontend/dist")));
        assert_eq!(c.upstreams.user.to_string(), "http://127.0.0.1:3001");
        assert_eq!(
            c.upstreams.notification.to_string(),
            "http://127.0.0.1:3006"
        );
        Ok(())
    }

    #[test]
    fn reads_every_variable() -> Result<(), ConfigError> {
        let c = config(&[
            ("PORT", "8080"),
            ("METRICS_PORT", "0"),
            ("USER_SERVICE_URL", "http://user-service:3001/"),
            ("RATE_LIMIT_MAX", "0"),
            ("RATE_LIMIT_WINDOW_MS", "1000"),
            ("TRUST_PROXY", "true"),
            (
                "CORS_ORIGINS",
                "http://localhost:5173, https://tickets.example.com",
            ),
            ("UPSTREAM_TIMEOUT_MS", "500"),
            ("WEB_DIR", "/srv/web"),
        ])?;
        assert_eq!(c.port, 8080);
        assert_eq!(c.metrics_port, None);
        assert_eq!(c.upstreams.user.authority().as_str(), "user-service:3001");
        assert_eq!(c.rate_limit_max, 0);
        assert_eq!(c.rate_limit_window, Duration::from_millis(1000));
        assert!(c.trust_proxy);
        assert_eq!(c.cors_origins.len(), 2);
        assert_eq!(c.upstream_timeout, Duration::from_millis(500));
        assert_eq!(c.web_dir, Some(PathBuf::from("/srv/web")));
        Ok(())
    }

    #[test]
    fn malformed_values_name_the_variable() {
        let no_secret = Config::from_lookup(|_| None).err().map(|e| e.var);
        assert_eq!(no_secret.as_deref(), Some("JWT_SECRET"));
        assert_eq!(error_var(&[("JWT_SECRET", "short")]), "JWT_SECRET");
        assert_eq!(error_var(&[("PORT", "http")]), "PORT");
        assert_eq!(error_var(&[("METRICS_PORT", "70000")]), "METRICS_PORT");
        assert_eq!(error_var(&[("METRICS_PORT", "3000")]), "METRICS_PORT");
        assert_eq!(error_var(&[("RATE_LIMIT_MAX", "-1")]), "RATE_LIMIT_MAX");
        assert_eq!(
            error_var(&[("RATE_LIMIT_WINDOW_MS", "0")]),
            "RATE_LIMIT_WINDOW_MS"
        );
        assert_eq!(
            error_var(&[("UPSTREAM_TIMEOUT_MS", "10s")]),
            "UPSTREAM_TIMEOUT_MS"
        );
        assert_eq!(error_var(&[("TRUST_PROXY", "maybe")]), "TRUST_PROXY");
        assert_eq!(error_var(&[("CORS_ORIGINS", "*")]), "CORS_ORIGINS");
        assert_eq!(
            error_var(&[("CORS_ORIGINS", "http://a.com/")]),
            "CORS_ORIGINS"
        );
        assert_eq!(
            error_var(&[("CORS_ORIGINS", "localhost:5173")]),
            "CORS_ORIGINS"
        );
        assert_eq!(
            error_var(&[("EVENT_SERVICE_URL", "event:3002")]),
            "EVENT_SERVICE_URL"
        );
        assert_eq!(
            error_var(&[("BOOKING_SERVICE_URL", "https://booking:3003")]),
            "BOOKING_SERVICE_URL"
        );
        assert_eq!(
            error_var(&[("PAYMENT_SERVICE_URL", "http://payment:3005/api")]),
            "PAYMENT_SERVICE_URL"
        );
        assert_eq!(
            error_var(&[("NOTIFICATION_SERVICE_URL", "http://u:p@notify:3006")]),
            "NOTIFICATION_SERVICE_URL"
        );
    }

    fn test_key() -> IdentityKey {
        IdentityKey::new(Secret::new(SECRET))
    }

    #[test]
    fn for_test_is_valid() -> Result<(), InvalidUpstream> {
        let c = Config::for_test(SECRET, test_key(), Upstreams::all("http://127.0.0.1:1")?);
        assert!(c.validate().is_ok());
        let short = Config::for_test("short", test_key(), Upstreams::all("http://127.0.0.1:1")?);
        assert!(short.validate().is_err());
        Ok(())
    }
}
