//! CI connectors: how the portal starts a job on a CI server, follows its run, cancels it, and
//! finds it again by its idempotency key after a crash. One file per connector.

pub mod buildbot;
mod buildbot_answers;
pub mod github;
pub mod gitlab;
mod http;
pub mod jenkins;
mod measured;
pub mod shell;

use crate::domain::{CiBinding, ConnectorKind};
use std::collections::BTreeMap;
use std::path::Path;

/// Where a run stands, in the portal's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl RunState {
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Queued => "queued",
            RunState::Running => "running",
            RunState::Succeeded => "succeeded",
            RunState::Failed => "failed",
            RunState::Cancelled => "cancelled",
        }
    }

    pub fn is_final(self) -> bool {
        matches!(
            self,
            RunState::Succeeded | RunState::Failed | RunState::Cancelled
        )
    }
}

/// A run the CI server accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRef {
    /// The connector's own reference (a build number, a pipeline id, a run folder …).
    pub id: String,
    /// Where a person can look at it.
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunStatus {
    pub state: RunState,
    pub url: Option<String>,
    /// The last lines of the run's log.
    pub log_tail: String,
    /// Why it failed, when the CI says.
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CiError {
    /// Worth trying again later: refused connection, timeout, a 5xx answer.
    #[error("{0}")]
    Transient(String),
    /// Retrying will not help: a 4xx answer, an unknown job, a missing secret.
    #[error("{0}")]
    Config(String),
}

/// One job to start.
#[derive(Debug, Clone)]
pub struct StartJob<'a> {
    /// Unique per request, step and attempt: the CI run carries it, so it can be found again.
    pub key: &'a str,
    /// The connector's name for the job (a command, a builder, a job path, a workflow).
    pub target: &'a str,
    pub params: &'a BTreeMap<String, String>,
}

#[async_trait::async_trait]
pub trait CiConnector: Send + Sync {
    async fn start(&self, job: &StartJob<'_>) -> Result<RunRef, CiError>;
    async fn status(&self, run: &str) -> Result<RunStatus, CiError>;
    async fn cancel(&self, run: &str) -> Result<(), CiError>;
    /// The run started with `key`, if the CI server has one.
    async fn find(&self, key: &str, target: &str) -> Result<Option<RunRef>, CiError>;
}

/// The connector a catalog binding names.
pub fn connector(binding: &CiBinding, data_dir: &Path) -> Result<Box<dyn CiConnector>, CiError> {
    let connector: Box<dyn CiConnector> = match binding.connector {
        ConnectorKind::Shell => Box::new(shell::Shell::new(data_dir)),
        ConnectorKind::Buildbot => Box::new(buildbot::Buildbot::new(&binding.settings)?),
        ConnectorKind::Jenkins => Box::new(jenkins::Jenkins::new(&binding.settings)?),
        ConnectorKind::Gitlab => Box::new(gitlab::Gitlab::new(&binding.settings)?),
        ConnectorKind::Github => Box::new(github::Github::new(&binding.settings)?),
    };
    Ok(Box::new(measured::Measured {
        inner: connector,
        kind: binding.connector.as_str(),
    }))
}

/// A required, non-empty setting.
pub fn setting(
    settings: &BTreeMap<String, String>,
    connector: &str,
    name: &str,
) -> Result<String, CiError> {
    settings
        .get(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| CiError::Config(format!("{connector}: settings.{name} is required")))
}

/// The secret held by the environment variable a required `*_env` setting names.
pub fn secret_setting(
    settings: &BTreeMap<String, String>,
    connector: &str,
    name: &str,
) -> Result<String, CiError> {
    secret(&setting(settings, connector, name)?)
}

/// An http(s) address from the settings, without its trailing slash.
pub fn setting_url(
    settings: &BTreeMap<String, String>,
    connector: &str,
    name: &str,
) -> Result<String, CiError> {
    let url = setting(settings, connector, name)?;
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(CiError::Config(format!(
            "{connector}: settings.{name} must be an http(s) address"
        )));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// The value of the environment variable a catalog setting names (`password_env`, `token_env`):
/// secrets live there, never in the catalog, and are never logged.
pub fn secret(var: &str) -> Result<String, CiError> {
    std::env::var(var)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            CiError::Config(format!(
                "the environment variable {var}, which the catalog names for a CI secret, is not set"
            ))
        })
}

/// The HTTP client connectors share: bounded waits, cookies kept (for session logins).
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(5))
        .timeout(std::time::Duration::from_secs(30))
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Runway/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_default()
}

/// A CI server that could not be reached or did not answer in time: worth trying again.
pub fn unreachable(server: &str, e: &reqwest::Error) -> CiError {
    let what = if e.is_timeout() {
        "did not answer in time"
    } else if e.is_connect() {
        "refused the connection or cannot be reached"
    } else {
        "broke off the exchange"
    };
    CiError::Transient(format!("{server} {what}: {e}"))
}

/// A CI server's error answer: 5xx (and 429) are worth retrying, other statuses are not.
pub fn answer_error(server: &str, status: reqwest::StatusCode, message: &str) -> CiError {
    let text = if message.trim().is_empty() {
        format!("{server} answered {status}")
    } else {
        format!("{server} answered {status}: {}", message.trim())
    };
    if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        CiError::Transient(text)
    } else {
        CiError::Config(text)
    }
}

/// Fills `{name}` placeholders from `values`; unknown names are left as they are.
pub fn fill(template: &str, values: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) if values.contains_key(&after[..close]) => {
                out.push_str(&values[&after[..close]]);
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The last `max` bytes of `log`, starting on a line boundary, as text.
pub fn tail(log: &[u8], max: usize) -> String {
    let start = log.len().saturating_sub(max);
    let slice = &log[start..];
    let slice = if start > 0 {
        slice
            .iter()
            .position(|b| *b == b'\n')
            .map_or(slice, |i| &slice[i + 1..])
    } else {
        slice
    };
    String::from_utf8_lossy(slice).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_replaces_known_placeholders_only() {
        let values: BTreeMap<String, String> = [
            ("application".to_owned(), "banking".to_owned()),
            ("version".to_owned(), "2.4.0".to_owned()),
        ]
        .into();
        assert_eq!(fill("{application}-{version}", &values), "banking-2.4.0");
        assert_eq!(fill("{nope} {", &values), "{nope} {");
    }

    #[test]
    fn tail_starts_on_a_line() {
        assert_eq!(tail(b"one\ntwo\nthree\n", 9), "three\n");
        assert_eq!(tail(b"one\n", 100), "one\n");
    }
}
