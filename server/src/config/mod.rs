//! Typed settings, read from `RUNWAY_*` environment variables.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `RUNWAY_LISTEN` | `127.0.0.1:3000` | address and port to serve on (port 0 picks a free one) |
//! | `RUNWAY_DATA_DIR` | `./data` | folder for the SQLite database and deployment files |
//! | `RUNWAY_DATABASE_URL` | `sqlite://<data dir>/runway.db` | `sqlite://…` or `postgres://…` |
//! | `RUNWAY_CATALOG` | none | catalog file applied at start and on reload |
//! | `RUNWAY_DEMO` | `false` | creates the demo users and says so on the login page |
//! | `RUNWAY_DEMO_HISTORY` | `false` | with `RUNWAY_DEMO`, writes 90 days of made-up releases at the first start, for the Insights page (`make run` turns it on) |
//! | `RUNWAY_PUBLIC_URL` | `http://<listen>` | the address users reach; `https://` makes cookies Secure |
//! | `RUNWAY_SESSION_IDLE_MINUTES` | `480` | a session ends after this long without a request |
//! | `RUNWAY_LOGIN_MAX_FAILURES` | `5` | failed logins per user name or client before a pause |
//! | `RUNWAY_LOGIN_LOCKOUT_SECS` | `60` | length of that pause |
//! | `RUNWAY_TRUSTED_PROXIES` | none | addresses or networks (`10.0.0.0/8, ::1`) of reverse proxies whose `X-Forwarded-For` names the client |
//! | `RUNWAY_DB_MAX_CONNECTIONS` | `10` | database pool size |
//! | `RUNWAY_SITE_DIR` | `target/site` | the built browser assets (`pkg/`, CSS, icons) |
//! | `RUNWAY_LOG` | `info` | log filter, e.g. `runway=debug,info` |
//! | `RUNWAY_LOG_FORMAT` | `pretty` | `pretty` or `json` |
//! | `RUNWAY_METRICS_LISTEN` | none | address and port of the Prometheus `/metrics` endpoint, served apart from the portal (off when unset) |
//! | `RUNWAY_DISPATCH` | `true` | run the dispatch worker here (`false`: a replica that only serves pages) |
//! | `RUNWAY_CRASH_AT` | none | crash tests only: kills the process (SIGKILL) at a dispatch point (`after_trigger`: the CI accepted a run, not yet recorded; `mail_sent`: a message went, not yet recorded; `point:n` for its n-th passage) |
//!
//! Sign-in settings (`RUNWAY_OIDC_*`, `RUNWAY_LOCAL_PASSWORDS`, `RUNWAY_BREAK_GLASS`) are listed in
//! the `sign_in` module.

mod sign_in;

pub use sign_in::{OidcSettings, SignInSettings};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub catalog: Option<PathBuf>,
    pub demo: bool,
    /// Writes the demo's made-up history at the first start (demo mode only).
    pub demo_history: bool,
    pub public_url: String,
    pub session_idle_minutes: i64,
    pub login_max_failures: u32,
    pub login_lockout_secs: u64,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub db_max_connections: u32,
    pub site_dir: PathBuf,
    pub log: String,
    pub log_format: LogFormat,
    /// Whether this process runs the dispatch worker.
    pub dispatch: bool,
    /// Where mail goes: `smtp://host:port` (plain, or STARTTLS with `?tls=required`) or
    /// `smtps://host:port` (TLS), a user name allowed; without it, each message is written as a
    /// file under `<data dir>/mail/`.
    pub smtp_url: Option<String>,
    /// The SMTP password, from its own variable only (never in the URL, which is logged).
    pub smtp_password: Option<String>,
    /// The sender of every message.
    pub mail_from: String,
    /// Passwords, the OpenID provider, or both (see [`sign_in`]).
    pub sign_in: SignInSettings,
    /// Where the Prometheus `/metrics` endpoint listens, apart from the portal; none: not served.
    pub metrics_listen: Option<SocketAddr>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{name}={value:?} is not valid: {expected}")]
    Invalid {
        name: String,
        value: String,
        expected: String,
    },
    #[error("{name} is not a Runway setting (known: {known})")]
    Unknown { name: String, known: String },
}

pub const KNOWN: [&str; 21] = [
    "RUNWAY_LISTEN",
    "RUNWAY_DATA_DIR",
    "RUNWAY_DATABASE_URL",
    "RUNWAY_CATALOG",
    "RUNWAY_DEMO",
    "RUNWAY_DEMO_HISTORY",
    "RUNWAY_PUBLIC_URL",
    "RUNWAY_SESSION_IDLE_MINUTES",
    "RUNWAY_LOGIN_MAX_FAILURES",
    "RUNWAY_LOGIN_LOCKOUT_SECS",
    "RUNWAY_TRUSTED_PROXIES",
    "RUNWAY_DB_MAX_CONNECTIONS",
    "RUNWAY_SITE_DIR",
    "RUNWAY_LOG",
    "RUNWAY_LOG_FORMAT",
    "RUNWAY_DISPATCH",
    "RUNWAY_CRASH_AT",
    "RUNWAY_SMTP_URL",
    "RUNWAY_SMTP_PASSWORD",
    "RUNWAY_MAIL_FROM",
    "RUNWAY_METRICS_LISTEN",
];

struct Vars(BTreeMap<String, String>);

impl Vars {
    fn text(&self, name: &str) -> Option<String> {
        self.0
            .get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn parse<T: FromStr>(&self, name: &str, default: T, expected: &str) -> Result<T, ConfigError> {
        match self.text(name) {
            None => Ok(default),
            Some(value) => value.parse().map_err(|_| ConfigError::Invalid {
                name: name.to_owned(),
                value,
                expected: expected.to_owned(),
            }),
        }
    }

    fn bounded<T: FromStr + PartialOrd + std::fmt::Display>(
        &self,
        name: &str,
        default: T,
        (min, max): (T, T),
    ) -> Result<T, ConfigError> {
        let expected = format!("a whole number from {min} to {max}");
        let value = self.parse(name, default, &expected)?;
        if value < min || value > max {
            return Err(ConfigError::Invalid {
                name: name.to_owned(),
                value: value.to_string(),
                expected,
            });
        }
        Ok(value)
    }

    fn flag(&self, name: &str) -> Result<bool, ConfigError> {
        self.flag_or(name, false)
    }

    fn flag_or(&self, name: &str, default: bool) -> Result<bool, ConfigError> {
        match self.text(name).map(|v| v.to_ascii_lowercase()).as_deref() {
            None => Ok(default),
            Some("0" | "false" | "no" | "off") => Ok(false),
            Some("1" | "true" | "yes" | "on") => Ok(true),
            Some(other) => Err(ConfigError::Invalid {
                name: name.to_owned(),
                value: other.to_owned(),
                expected: "true or false".to_owned(),
            }),
        }
    }
}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(std::env::vars())
    }

    /// Reads settings from the given variables; other programs' variables are ignored, and an
    /// unknown `RUNWAY_*` name is an error (a typo must not silently fall back to a default).
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let vars = Vars(
            vars.into_iter()
                .filter(|(k, _)| k.starts_with("RUNWAY_"))
                .collect(),
        );
        let known = |k: &str| KNOWN.contains(&k) || sign_in::KNOWN.contains(&k);
        if let Some(name) = vars.0.keys().find(|k| !known(k)) {
            return Err(ConfigError::Unknown {
                name: name.clone(),
                known: [KNOWN.join(", "), sign_in::KNOWN.join(", ")].join(", "),
            });
        }
        let listen: SocketAddr = vars.parse(
            "RUNWAY_LISTEN",
            SocketAddr::from(([127, 0, 0, 1], 3000)),
            "an address and port such as 127.0.0.1:3000",
        )?;
        let data_dir = PathBuf::from(
            vars.text("RUNWAY_DATA_DIR")
                .unwrap_or_else(|| "./data".into()),
        );
        let database_url = match vars.text("RUNWAY_DATABASE_URL") {
            None => format!("sqlite://{}?mode=rwc", data_dir.join("runway.db").display()),
            Some(url)
                if url.starts_with("sqlite:")
                    || url.starts_with("postgres://")
                    || url.starts_with("postgresql://") =>
            {
                url
            }
            Some(url) => {
                return Err(ConfigError::Invalid {
                    name: "RUNWAY_DATABASE_URL".into(),
                    value: url,
                    expected: "a sqlite://… or postgres://… URL".into(),
                })
            }
        };
        let public_url = vars
            .text("RUNWAY_PUBLIC_URL")
            .unwrap_or_else(|| format!("http://{listen}"));
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(ConfigError::Invalid {
                name: "RUNWAY_PUBLIC_URL".into(),
                value: public_url,
                expected: "an http:// or https:// URL".into(),
            });
        }
        let log_format = match vars.text("RUNWAY_LOG_FORMAT").as_deref() {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "RUNWAY_LOG_FORMAT".into(),
                    value: other.into(),
                    expected: "pretty or json".into(),
                })
            }
        };
        let smtp_url = vars.text("RUNWAY_SMTP_URL");
        if let Some(url) = &smtp_url {
            smtp_url_problem(url).map_or(Ok(()), |expected| {
                Err(ConfigError::Invalid {
                    name: "RUNWAY_SMTP_URL".into(),
                    value: url.clone(),
                    expected: expected.into(),
                })
            })?;
        }
        let host = public_url
            .split("://")
            .nth(1)
            .and_then(|h| h.split([':', '/']).next())
            .filter(|h| h.contains('.'))
            .unwrap_or("localhost");
        let mail_from = vars
            .text("RUNWAY_MAIL_FROM")
            .unwrap_or_else(|| format!("Runway <runway@{host}>"));
        if !mail_from.contains('@') || mail_from.contains(['\r', '\n']) {
            return Err(ConfigError::Invalid {
                name: "RUNWAY_MAIL_FROM".into(),
                value: mail_from,
                expected: "an address such as Runway <runway@example.com>".into(),
            });
        }
        Ok(Settings {
            listen,
            data_dir,
            database_url,
            catalog: vars.text("RUNWAY_CATALOG").map(PathBuf::from),
            demo: vars.flag("RUNWAY_DEMO")?,
            demo_history: vars.flag("RUNWAY_DEMO_HISTORY")?,
            public_url: public_url.trim_end_matches('/').to_owned(),
            session_idle_minutes: vars.bounded("RUNWAY_SESSION_IDLE_MINUTES", 480, (1, 525_600))?,
            login_max_failures: vars.bounded("RUNWAY_LOGIN_MAX_FAILURES", 5, (1, 1000))?,
            login_lockout_secs: vars.bounded("RUNWAY_LOGIN_LOCKOUT_SECS", 60, (1, 86_400))?,
            trusted_proxies: trusted_proxies(vars.text("RUNWAY_TRUSTED_PROXIES"))?,
            db_max_connections: vars.bounded("RUNWAY_DB_MAX_CONNECTIONS", 10, (1, 1000))?,
            site_dir: PathBuf::from(
                vars.text("RUNWAY_SITE_DIR")
                    .unwrap_or_else(|| "target/site".into()),
            ),
            log: vars.text("RUNWAY_LOG").unwrap_or_else(|| "info".into()),
            log_format,
            dispatch: vars.flag_or("RUNWAY_DISPATCH", true)?,
            smtp_url,
            smtp_password: vars.0.get("RUNWAY_SMTP_PASSWORD").cloned(),
            mail_from,
            sign_in: sign_in::read(&vars)?,
            metrics_listen: vars
                .text("RUNWAY_METRICS_LISTEN")
                .map(|_| {
                    vars.parse(
                        "RUNWAY_METRICS_LISTEN",
                        listen,
                        "an address and port such as 127.0.0.1:9464",
                    )
                })
                .transpose()?,
        })
    }

    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    pub fn is_postgres(&self) -> bool {
        self.database_url.starts_with("postgres")
    }
}

/// `10.0.0.0/8, 192.168.1.7 ::1`: networks, or single addresses.
fn trusted_proxies(text: Option<String>) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    let text = text.unwrap_or_default();
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|entry| {
            entry
                .parse::<ipnet::IpNet>()
                .or_else(|_| entry.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| ConfigError::Invalid {
                    name: "RUNWAY_TRUSTED_PROXIES".into(),
                    value: entry.to_owned(),
                    expected: "addresses or networks such as 10.0.0.0/8, 192.168.1.7, ::1".into(),
                })
        })
        .collect()
}

/// What is wrong with an SMTP URL, if anything.
fn smtp_url_problem(url: &str) -> Option<&'static str> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Some("an smtp://host:port or smtps://host:port URL");
    };
    if scheme != "smtp" && scheme != "smtps" {
        return Some("an smtp://host:port or smtps://host:port URL");
    }
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    if authority
        .rsplit_once('@')
        .is_some_and(|(user, _)| user.contains(':'))
    {
        return Some("a URL without a password: put it in RUNWAY_SMTP_PASSWORD");
    }
    if authority.rsplit('@').next().unwrap_or_default().is_empty() {
        return Some("an smtp://host:port or smtps://host:port URL, with a host");
    }
    None
}

#[cfg(test)]
mod tests;
