//! The `gitlab` connector: creates a pipeline on a ref with the job's parameters as CI/CD
//! variables (plus `RUNWAY_KEY`, by which a pipeline is found again), follows it, shows the
//! trace of its latest job, cancels it.
//!
//! Settings: `url` (the GitLab address), `project` (its numeric id or `group/name` path),
//! `token_env` (a project or personal access token with the `api` scope, sent as
//! `PRIVATE-TOKEN`) and optionally `trigger_token_env` (a pipeline trigger token: pipelines are
//! then created through `/trigger/pipeline`, the access token still reads and cancels them).
//! Each job's target is the ref (branch or tag) to run the pipeline on.

use super::http::{send, Answer};
use super::{tail, CiConnector, CiError, RunRef, RunState, RunStatus, StartJob};
use serde_json::{json, Value};
use std::collections::BTreeMap;

const SERVER: &str = "GitLab";
const LOG_TAIL_BYTES: usize = 4096;
/// How many of the ref's newest pipelines `find` looks through.
const FIND_DEPTH: u32 = 30;

pub struct Gitlab {
    api: String,
    token: String,
    trigger_token: Option<String>,
    client: reqwest::Client,
}

/// `group/name` as one path segment.
fn encode(project: &str) -> String {
    project.replace('%', "%25").replace('/', "%2F")
}

impl Gitlab {
    pub fn new(settings: &BTreeMap<String, String>) -> Result<Self, CiError> {
        let url = super::setting_url(settings, "gitlab", "url")?;
        let project = super::setting(settings, "gitlab", "project")?;
        let token = super::secret_setting(settings, "gitlab", "token_env")?;
        let trigger_token = settings
            .get("trigger_token_env")
            .map(|v| super::secret(v))
            .transpose()?;
        Ok(Gitlab {
            api: format!("{url}/api/v4/projects/{}", encode(&project)),
            token,
            trigger_token,
            client: super::http_client(),
        })
    }

    async fn call(&self, method: reqwest::Method, path: &str) -> Result<Answer, CiError> {
        send(
            SERVER,
            self.client
                .request(method, format!("{}{path}", self.api))
                .header("PRIVATE-TOKEN", &self.token),
        )
        .await?
        .ok(SERVER)
    }

    async fn get(&self, path: &str) -> Result<Value, CiError> {
        self.call(reqwest::Method::GET, path).await?.json(SERVER)
    }

    fn pipeline_id(run: &str) -> Result<u64, CiError> {
        run.parse()
            .map_err(|_| CiError::Config(format!("not a GitLab pipeline id: {run}")))
    }

    /// The trace of the pipeline's most recently started job.
    async fn log_tail(&self, pipeline: u64) -> Result<String, CiError> {
        let jobs = self
            .get(&format!("/pipelines/{pipeline}/jobs?per_page=100"))
            .await?;
        let Some(job) = jobs.as_array().and_then(|jobs| {
            jobs.iter()
                .filter(|j| j["started_at"].is_string())
                .max_by_key(|j| j["id"].as_i64())
        }) else {
            return Ok(String::new());
        };
        let id = job["id"].as_i64().unwrap_or_default();
        let trace = self
            .call(reqwest::Method::GET, &format!("/jobs/{id}/trace"))
            .await?;
        Ok(format!(
            "[{}]\n{}",
            job["name"].as_str().unwrap_or("job"),
            tail(trace.text.as_bytes(), LOG_TAIL_BYTES)
        ))
    }
}

/// GitLab's pipeline statuses in the portal's words.
fn state_of(status: &str) -> RunState {
    match status {
        "running" => RunState::Running,
        "success" => RunState::Succeeded,
        "failed" => RunState::Failed,
        "canceled" | "canceling" | "skipped" => RunState::Cancelled,
        // created, waiting_for_resource, preparing, pending, scheduled, manual
        _ => RunState::Queued,
    }
}

fn run_ref(pipeline: &Value) -> Option<RunRef> {
    Some(RunRef {
        id: pipeline["id"].as_i64()?.to_string(),
        url: pipeline["web_url"].as_str().map(str::to_owned),
    })
}

#[async_trait::async_trait]
impl CiConnector for Gitlab {
    async fn start(&self, job: &StartJob<'_>) -> Result<RunRef, CiError> {
        let mut variables: Vec<(String, String)> = job
            .params
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        variables.push(("RUNWAY_KEY".into(), job.key.to_owned()));
        let request = match &self.trigger_token {
            Some(trigger) => {
                let mut form = vec![
                    ("token".to_owned(), trigger.clone()),
                    ("ref".to_owned(), job.target.to_owned()),
                ];
                form.extend(
                    variables
                        .into_iter()
                        .map(|(k, v)| (format!("variables[{k}]"), v)),
                );
                self.client
                    .post(format!("{}/trigger/pipeline", self.api))
                    .form(&form)
            }
            None => {
                let variables: Vec<Value> = variables
                    .into_iter()
                    .map(|(key, value)| json!({ "key": key, "value": value }))
                    .collect();
                self.client
                    .post(format!("{}/pipeline", self.api))
                    .header("PRIVATE-TOKEN", &self.token)
                    .json(&json!({ "ref": job.target, "variables": variables }))
            }
        };
        let pipeline = send(SERVER, request).await?.ok(SERVER)?.json(SERVER)?;
        run_ref(&pipeline).ok_or_else(|| {
            CiError::Transient(format!("GitLab's answer names no pipeline: {pipeline}"))
        })
    }

    async fn status(&self, run: &str) -> Result<RunStatus, CiError> {
        let id = Self::pipeline_id(run)?;
        let pipeline = self.get(&format!("/pipelines/{id}")).await?;
        let status = pipeline["status"].as_str().unwrap_or_default();
        let state = state_of(status);
        Ok(RunStatus {
            state,
            url: pipeline["web_url"].as_str().map(str::to_owned),
            log_tail: self.log_tail(id).await?,
            message: (state == RunState::Failed).then(|| format!("GitLab: pipeline {id} {status}")),
        })
    }

    async fn cancel(&self, run: &str) -> Result<(), CiError> {
        let id = Self::pipeline_id(run)?;
        self.call(reqwest::Method::POST, &format!("/pipelines/{id}/cancel"))
            .await?;
        Ok(())
    }

    async fn find(&self, key: &str, target: &str) -> Result<Option<RunRef>, CiError> {
        let pipelines = self
            .get(&format!(
                "/pipelines?ref={}&order_by=id&sort=desc&per_page={FIND_DEPTH}",
                encode(target)
            ))
            .await?;
        for pipeline in pipelines.as_array().into_iter().flatten() {
            let id = pipeline["id"].as_i64().unwrap_or_default();
            let variables = self.get(&format!("/pipelines/{id}/variables")).await?;
            let carries = variables.as_array().into_iter().flatten().any(|v| {
                v["key"].as_str() == Some("RUNWAY_KEY") && v["value"].as_str() == Some(key)
            });
            if carries {
                return Ok(run_ref(pipeline));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_states() {
        assert_eq!(state_of("pending"), RunState::Queued);
        assert_eq!(state_of("waiting_for_resource"), RunState::Queued);
        assert_eq!(state_of("running"), RunState::Running);
        assert_eq!(state_of("success"), RunState::Succeeded);
        assert_eq!(state_of("failed"), RunState::Failed);
        assert_eq!(state_of("canceled"), RunState::Cancelled);
    }

    #[test]
    fn a_project_path_is_one_segment() {
        assert_eq!(encode("group/sub/app"), "group%2Fsub%2Fapp");
        assert_eq!(encode("42"), "42");
    }
}
