//! The `buildbot` connector: starts a builder through a force scheduler (Buildbot's JSON-RPC
//! control API), follows the build request and its build, reads the log of the step running,
//! stops a build or cancels a request still waiting, and finds a run again by the key it carries
//! in its reason.
//!
//! Settings: `url` (the master's web address), `scheduler` (the force scheduler, default
//! `runway`), and, when the master requires a login, `user` with `password_env` (the name of the
//! environment variable holding the password). Each job's target is a builder name; its
//! parameters must be declared by the force scheduler (checked before starting, since Buildbot
//! silently drops unknown ones).

use super::buildbot_answers::*;
use super::{tail, CiConnector, CiError, RunRef, RunState, RunStatus, StartJob};
use reqwest::{Method, StatusCode};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::{LazyLock, Mutex};

const LOG_TAIL_BYTES: usize = 4096;
/// How many of the newest build sets `find` looks through for a key.
const FIND_DEPTH: u32 = 500;

pub struct Buildbot {
    base: String,
    scheduler: String,
    login: Option<(String, String)>,
    client: reqwest::Client,
}

/// One cookie-keeping client per master and user: a session stays signed in across calls.
static CLIENTS: LazyLock<Mutex<HashMap<String, reqwest::Client>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

impl Buildbot {
    pub fn new(settings: &BTreeMap<String, String>) -> Result<Self, CiError> {
        let base = super::setting_url(settings, "buildbot", "url")?;
        let login = match (settings.get("user"), settings.get("password_env")) {
            (Some(user), Some(var)) => Some((user.clone(), super::secret(var)?)),
            (None, None) => None,
            _ => {
                return Err(CiError::Config(
                    "buildbot: settings.user and settings.password_env go together".into(),
                ))
            }
        };
        let scheduler = settings
            .get("scheduler")
            .cloned()
            .unwrap_or_else(|| "runway".into());
        let who = login.as_ref().map(|(u, _)| u.as_str()).unwrap_or_default();
        let client = {
            let mut clients = CLIENTS.lock().unwrap_or_else(|p| p.into_inner());
            clients
                .entry(format!("{who}@{base}"))
                .or_insert_with(super::http_client)
                .clone()
        };
        Ok(Buildbot {
            base,
            scheduler,
            login,
            client,
        })
    }

    /// Signs in (Basic credentials on `/auth/login` give a session cookie).
    async fn sign_in(&self) -> Result<(), CiError> {
        let Some((user, password)) = &self.login else {
            return Ok(());
        };
        let answer = self
            .client
            .get(format!("{}/auth/login", self.base))
            .basic_auth(user, Some(password))
            .send()
            .await
            .map_err(|e| super::unreachable("Buildbot", &e))?;
        match answer.status() {
            s if s.is_success() || s.is_redirection() => Ok(()),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(CiError::Config(format!(
                "Buildbot refused the login of {user} (wrong password?)"
            ))),
            s => Err(super::answer_error("Buildbot", s, "")),
        }
    }

    /// A call to the REST API, signing in again once when the session is gone.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, CiError> {
        let mut signed_in = false;
        loop {
            let mut request = self
                .client
                .request(method.clone(), format!("{}/api/v2/{path}", self.base));
            if let Some(body) = body {
                request = request.json(body);
            }
            let answer = request
                .send()
                .await
                .map_err(|e| super::unreachable("Buildbot", &e))?;
            let status = answer.status();
            let text = answer
                .text()
                .await
                .map_err(|e| super::unreachable("Buildbot", &e))?;
            if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
                && self.login.is_some()
                && !signed_in
            {
                self.sign_in().await?;
                signed_in = true;
                continue;
            }
            if !status.is_success() {
                return Err(super::answer_error("Buildbot", status, &rpc_message(&text)));
            }
            let value: Value = serde_json::from_str(&text).map_err(|e| {
                CiError::Transient(format!(
                    "Buildbot answered {path} with something else than JSON: {e}"
                ))
            })?;
            if value.get("error").is_some() {
                return Err(CiError::Config(format!("Buildbot: {}", rpc_message(&text))));
            }
            return Ok(value);
        }
    }

    async fn get(&self, path: &str) -> Result<Value, CiError> {
        self.call(Method::GET, path, None).await
    }

    async fn rpc(&self, path: &str, method: &str, params: Value) -> Result<Value, CiError> {
        let body = json!({ "jsonrpc": "2.0", "method": method, "id": 1, "params": params });
        self.call(Method::POST, path, Some(&body)).await
    }

    /// The build request `id`, or a configuration error when the master has none.
    async fn build_request(&self, id: &str) -> Result<Value, CiError> {
        let number: u64 = id
            .parse()
            .map_err(|_| CiError::Config(format!("not a Buildbot build request: {id}")))?;
        let answer = self.get(&format!("buildrequests/{number}")).await?;
        first(&answer, "buildrequests")
            .ok_or_else(|| CiError::Config(format!("Buildbot has no build request {number}")))
    }

    /// The newest build of a build request (a retried request has several), once claimed.
    async fn build_of(&self, request: &str) -> Result<Option<Value>, CiError> {
        let answer = self
            .get(&format!(
                "builds?buildrequestid={request}&order=-number&limit=1"
            ))
            .await?;
        Ok(first(&answer, "builds"))
    }

    /// The force scheduler's declared fields (name → type), checking it may start `builder`.
    async fn fields(&self, builder: &str) -> Result<HashMap<String, String>, CiError> {
        let answer = self
            .get(&format!("forceschedulers/{}", self.scheduler))
            .await
            .map_err(|e| match e {
                CiError::Config(m) if m.contains("404") => CiError::Config(format!(
                    "Buildbot has no force scheduler named {}",
                    self.scheduler
                )),
                other => other,
            })?;
        let scheduler = first(&answer, "forceschedulers").ok_or_else(|| {
            CiError::Config(format!(
                "Buildbot has no force scheduler named {}",
                self.scheduler
            ))
        })?;
        let builders: Vec<&str> = scheduler["builder_names"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if !builders.contains(&builder) {
            return Err(CiError::Config(format!(
                "Buildbot's force scheduler {} cannot start the builder {builder} (it starts: {})",
                self.scheduler,
                builders.join(", ")
            )));
        }
        let mut fields = HashMap::new();
        collect_fields(&scheduler["all_fields"], &mut fields);
        Ok(fields)
    }

    fn build_url(&self, build: &Value) -> Option<String> {
        Some(format!(
            "{}/#/builders/{}/builds/{}",
            self.base,
            build["builderid"].as_i64()?,
            build["number"].as_i64()?
        ))
    }

    /// The tail of the log of the newest step that started.
    async fn log_tail(&self, build: &Value) -> Result<String, CiError> {
        let Some(build_id) = build["buildid"].as_i64() else {
            return Ok(String::new());
        };
        let steps = self.get(&format!("builds/{build_id}/steps")).await?;
        let Some(step) = steps["steps"].as_array().and_then(|steps| {
            steps
                .iter()
                .filter(|s| !s["started_at"].is_null())
                .max_by_key(|s| s["number"].as_i64())
        }) else {
            return Ok(String::new());
        };
        let Some(step_id) = step["stepid"].as_i64() else {
            return Ok(String::new());
        };
        let answer = self
            .client
            .get(format!(
                "{}/api/v2/steps/{step_id}/logs/stdio/raw",
                self.base
            ))
            .send()
            .await
            .map_err(|e| super::unreachable("Buildbot", &e))?;
        if !answer.status().is_success() {
            // No output yet (the worker sends it in batches).
            return Ok(String::new());
        }
        let bytes = answer
            .bytes()
            .await
            .map_err(|e| super::unreachable("Buildbot", &e))?;
        Ok(tail(&bytes, LOG_TAIL_BYTES))
    }
}

#[async_trait::async_trait]
impl CiConnector for Buildbot {
    async fn start(&self, job: &StartJob<'_>) -> Result<RunRef, CiError> {
        let fields = self.fields(job.target).await?;
        let mut params = Map::new();
        for (name, value) in job.params {
            let Some(kind) = fields.get(name) else {
                let mut known: Vec<&str> = fields.keys().map(String::as_str).collect();
                known.sort_unstable();
                return Err(CiError::Config(format!(
                    "Buildbot's force scheduler {} has no parameter {name} (it has: {})",
                    self.scheduler,
                    known.join(", ")
                )));
            };
            // Booleans must be JSON booleans: the string "true" would silently read as false.
            let value = if kind == "bool" {
                Value::Bool(matches!(value.as_str(), "true" | "yes" | "1" | "on"))
            } else {
                Value::String(value.clone())
            };
            params.insert(name.clone(), value);
        }
        params.insert("builderNames".into(), json!([job.target]));
        params.insert(
            "reason".into(),
            json!(format!("Runway deployment {}", marker(job.key))),
        );
        let answer = self
            .rpc(
                &format!("forceschedulers/{}", self.scheduler),
                "force",
                Value::Object(params),
            )
            .await?;
        let request = answer["result"][1]
            .as_object()
            .and_then(|m| m.values().next())
            .and_then(Value::as_i64)
            .ok_or_else(|| {
                CiError::Transient(format!(
                    "Buildbot's answer to force names no build request: {answer}"
                ))
            })?;
        Ok(RunRef {
            id: request.to_string(),
            url: Some(format!("{}/#/buildrequests/{request}", self.base)),
        })
    }

    async fn status(&self, run: &str) -> Result<RunStatus, CiError> {
        let request = self.build_request(run).await?;
        let build = self.build_of(run).await?;
        let complete = request["complete"].as_bool().unwrap_or(false);
        let state = match (&build, complete) {
            (_, true) => finished(request["results"].as_i64().unwrap_or(-1)),
            // A build whose request is not complete yet is running (or being retried).
            (Some(_), false) => RunState::Running,
            (None, false) => RunState::Queued,
        };
        let (url, log_tail, message) = match &build {
            Some(b) => {
                let message = (state == RunState::Failed).then(|| {
                    let words = b["state_string"].as_str().unwrap_or_default();
                    let results = results_word(b["results"].as_i64().unwrap_or(-1));
                    format!("Buildbot: {words} ({results})")
                });
                (self.build_url(b), self.log_tail(b).await?, message)
            }
            None => (
                Some(format!("{}/#/buildrequests/{run}", self.base)),
                String::new(),
                (state == RunState::Failed).then(|| {
                    format!(
                        "Buildbot ended the build request without a build ({})",
                        results_word(request["results"].as_i64().unwrap_or(-1))
                    )
                }),
            ),
        };
        Ok(RunStatus {
            state,
            url,
            log_tail,
            message,
        })
    }

    async fn cancel(&self, run: &str) -> Result<(), CiError> {
        let request = self.build_request(run).await?;
        if request["complete"].as_bool().unwrap_or(false) {
            return Ok(());
        }
        let reason = json!({ "reason": "cancelled from Runway" });
        match self.build_of(run).await? {
            Some(build) => {
                let id = build["buildid"].as_i64().unwrap_or_default();
                self.rpc(&format!("builds/{id}"), "stop", reason).await?;
            }
            None => {
                self.rpc(&format!("buildrequests/{run}"), "cancel", reason)
                    .await?;
            }
        }
        Ok(())
    }

    async fn find(&self, key: &str, _target: &str) -> Result<Option<RunRef>, CiError> {
        let wanted = marker(key);
        let sets = self
            .get(&format!("buildsets?order=-bsid&limit={FIND_DEPTH}"))
            .await?;
        let Some(set) = sets["buildsets"].as_array().and_then(|sets| {
            sets.iter()
                .find(|s| s["reason"].as_str().is_some_and(|r| r.contains(&wanted)))
        }) else {
            return Ok(None);
        };
        let bsid = set["bsid"].as_i64().unwrap_or_default();
        let requests = self
            .get(&format!("buildrequests?buildsetid={bsid}"))
            .await?;
        Ok(first(&requests, "buildrequests")
            .and_then(|r| r["buildrequestid"].as_i64())
            .map(|id| RunRef {
                id: id.to_string(),
                url: Some(format!("{}/#/buildrequests/{id}", self.base)),
            }))
    }
}

#[cfg(test)]
#[path = "buildbot_tests.rs"]
mod tests;
