//! The `github` connector: dispatches a workflow with the job's parameters as inputs (plus
//! `runway_key`), follows the run, summarises its jobs and steps as the log, cancels it.
//!
//! Settings: `api_url` (`https://api.github.com`, or a GitHub Enterprise Server's `/api/v3`),
//! `repo` (`owner/name`), `token_env` (a token allowed to run workflows) and `ref`. Each job's
//! target is a workflow file name (`deploy.yml`) or id. The workflow declares a `runway_key`
//! input and names its runs after it (`run-name: ${{ inputs.runway_key }}`): servers that do not
//! return the run on dispatch (`return_run_details`) and a portal recovering from a crash find
//! the run by that name.

use super::http::send;
use super::{CiConnector, CiError, RunRef, RunState, RunStatus, StartJob};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::time::Duration;

const SERVER: &str = "GitHub";
/// GitHub refuses a dispatch with more inputs than this.
const MAX_INPUTS: usize = 25;
/// How long a dispatch without run details waits for its run to be listed.
const LISTING_WAIT: Duration = Duration::from_secs(10);

pub struct Github {
    api: String,
    repo: String,
    git_ref: String,
    token: String,
    client: reqwest::Client,
}

impl Github {
    pub fn new(settings: &BTreeMap<String, String>) -> Result<Self, CiError> {
        let api = super::setting_url(settings, "github", "api_url")?;
        let repo = settings
            .get("repo")
            .filter(|r| r.split('/').count() == 2 && !r.starts_with('/') && !r.ends_with('/'))
            .ok_or_else(|| CiError::Config("github: settings.repo must be owner/name".into()))?
            .clone();
        let git_ref = super::setting(settings, "github", "ref")?;
        let token = super::secret_setting(settings, "github", "token_env")?;
        Ok(Github {
            api,
            repo,
            git_ref,
            token,
            client: super::http_client(),
        })
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}/repos/{}{path}", self.api, self.repo))
            .bearer_auth(&self.token)
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28")
    }

    async fn get(&self, path: &str) -> Result<Value, CiError> {
        send(SERVER, self.request(reqwest::Method::GET, path))
            .await?
            .ok(SERVER)?
            .json(SERVER)
    }

    /// The newest run of `workflow` named after `key`.
    async fn listed(&self, workflow: &str, key: &str) -> Result<Option<RunRef>, CiError> {
        let runs = self
            .get(&format!(
                "/actions/workflows/{workflow}/runs?event=workflow_dispatch&per_page=50"
            ))
            .await?;
        Ok(runs["workflow_runs"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| {
                [&r["display_title"], &r["name"]]
                    .iter()
                    .any(|t| t.as_str().is_some_and(|t| t.contains(key)))
            })
            .and_then(|r| {
                Some(RunRef {
                    id: r["id"].as_i64()?.to_string(),
                    url: r["html_url"].as_str().map(str::to_owned),
                })
            }))
    }

    fn run_id(run: &str) -> Result<u64, CiError> {
        run.parse()
            .map_err(|_| CiError::Config(format!("not a GitHub Actions run id: {run}")))
    }

    /// The run's jobs and their steps, one line each, as its log (GitHub serves full logs only
    /// as zip archives).
    async fn summary(&self, id: u64) -> Result<String, CiError> {
        let jobs = self.get(&format!("/actions/runs/{id}/jobs")).await?;
        let mut lines = Vec::new();
        for job in jobs["jobs"].as_array().into_iter().flatten() {
            lines.push(format!(
                "{} — {}",
                job["name"].as_str().unwrap_or("job"),
                word(&job["status"], &job["conclusion"])
            ));
            for step in job["steps"].as_array().into_iter().flatten() {
                lines.push(format!(
                    "  {} — {}",
                    step["name"].as_str().unwrap_or("step"),
                    word(&step["status"], &step["conclusion"])
                ));
            }
        }
        Ok(lines.join("\n"))
    }
}

fn word(status: &Value, conclusion: &Value) -> String {
    conclusion
        .as_str()
        .or_else(|| status.as_str())
        .unwrap_or("unknown")
        .replace('_', " ")
}

/// A run's `status` and `conclusion` in the portal's words.
fn state_of(status: &str, conclusion: Option<&str>) -> RunState {
    match (status, conclusion) {
        ("completed", Some("success" | "neutral")) => RunState::Succeeded,
        ("completed", Some("cancelled" | "skipped")) => RunState::Cancelled,
        ("completed", _) => RunState::Failed,
        ("in_progress", _) => RunState::Running,
        // queued, waiting, requested, pending
        _ => RunState::Queued,
    }
}

#[async_trait::async_trait]
impl CiConnector for Github {
    async fn start(&self, job: &StartJob<'_>) -> Result<RunRef, CiError> {
        if job.params.len() + 1 > MAX_INPUTS {
            return Err(CiError::Config(format!(
                "GitHub accepts at most {MAX_INPUTS} workflow inputs; this job sends {} and runway_key",
                job.params.len()
            )));
        }
        let mut inputs: Map<String, Value> = job
            .params
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        inputs.insert("runway_key".into(), Value::String(job.key.to_owned()));
        let path = format!("/actions/workflows/{}/dispatches", job.target);
        let body = json!({ "ref": self.git_ref, "inputs": inputs, "return_run_details": true });
        let answer = send(
            SERVER,
            self.request(reqwest::Method::POST, &path).json(&body),
        )
        .await?;
        let answer = if answer.status == reqwest::StatusCode::BAD_REQUEST
            && answer.text.contains("return_run_details")
        {
            // A server from before run details: dispatch again without them, then look the run up.
            let body = json!({ "ref": self.git_ref, "inputs": inputs });
            send(
                SERVER,
                self.request(reqwest::Method::POST, &path).json(&body),
            )
            .await?
        } else {
            answer
        };
        let answer = answer.ok(SERVER)?;
        if answer.status == reqwest::StatusCode::OK {
            let details = answer.json(SERVER)?;
            if let Some(id) = details["workflow_run_id"].as_i64() {
                return Ok(RunRef {
                    id: id.to_string(),
                    url: details["html_url"].as_str().map(str::to_owned),
                });
            }
        }
        // 204: accepted, run not named yet; it is listed within seconds.
        let deadline = tokio::time::Instant::now() + LISTING_WAIT;
        loop {
            if let Some(run) = self.listed(job.target, job.key).await? {
                return Ok(run);
            }
            if tokio::time::Instant::now() >= deadline {
                // Accepted but not listed yet: trying again looks it up by key before dispatching.
                return Err(CiError::Transient(format!(
                    "GitHub accepted the dispatch but lists no run named {} yet",
                    job.key
                )));
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    async fn status(&self, run: &str) -> Result<RunStatus, CiError> {
        let id = Self::run_id(run)?;
        let details = self.get(&format!("/actions/runs/{id}")).await?;
        let conclusion = details["conclusion"].as_str();
        let state = state_of(details["status"].as_str().unwrap_or_default(), conclusion);
        Ok(RunStatus {
            state,
            url: details["html_url"].as_str().map(str::to_owned),
            log_tail: self.summary(id).await?,
            message: (state == RunState::Failed).then(|| {
                format!(
                    "GitHub Actions: run {id} ended with {}",
                    conclusion.unwrap_or("no conclusion").replace('_', " ")
                )
            }),
        })
    }

    async fn cancel(&self, run: &str) -> Result<(), CiError> {
        let id = Self::run_id(run)?;
        let answer = send(
            SERVER,
            self.request(reqwest::Method::POST, &format!("/actions/runs/{id}/cancel")),
        )
        .await?;
        // 409: the run already finished; there is nothing left to stop.
        if answer.status == reqwest::StatusCode::CONFLICT {
            return Ok(());
        }
        answer.ok(SERVER)?;
        Ok(())
    }

    async fn find(&self, key: &str, target: &str) -> Result<Option<RunRef>, CiError> {
        self.listed(target, key).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_conclusions_map_to_states() {
        assert_eq!(state_of("queued", None), RunState::Queued);
        assert_eq!(state_of("in_progress", None), RunState::Running);
        assert_eq!(state_of("completed", Some("success")), RunState::Succeeded);
        assert_eq!(state_of("completed", Some("failure")), RunState::Failed);
        assert_eq!(state_of("completed", Some("timed_out")), RunState::Failed);
        assert_eq!(
            state_of("completed", Some("cancelled")),
            RunState::Cancelled
        );
    }
}
