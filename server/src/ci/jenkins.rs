//! The `jenkins` connector: `buildWithParameters` with the job's parameters (plus
//! `RUNWAY_KEY`), follows the queue item to its build, reads the progressive log, stops the
//! build or cancels the queue item.
//!
//! Settings: `url` (the Jenkins address), `user` and `token_env` (the user's API token: HTTP Basic,
//! no CSRF crumb needed). Each job's target is the job's path, folders included (`team/deploy`).
//! The job declares every parameter the portal sends and a string parameter `RUNWAY_KEY`, by
//! which its builds are found again after a crash (checked before starting, since Jenkins drops
//! undeclared parameters).
//!
//! A run's reference is `<job path>#<queue item>#<key>`: the queue item leads to the build while
//! Jenkins keeps it (five minutes after it left the queue); after that the build is found by key.

use super::http::{send, Answer};
use super::{CiConnector, CiError, RunRef, RunState, RunStatus, StartJob};
use serde_json::Value;
use std::collections::BTreeMap;

const SERVER: &str = "Jenkins";
const LOG_TAIL_BYTES: u64 = 4096;
/// How many of a job's newest builds `find` looks through.
const FIND_DEPTH: u32 = 50;
const PARAMETERS: &str = "actions[parameters[name,value]]";

pub struct Jenkins {
    base: String,
    user: String,
    token: String,
    client: reqwest::Client,
}

/// `team/deploy` → `/job/team/job/deploy`.
fn job_path(job: &str) -> String {
    job.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| format!("/job/{s}"))
        .collect()
}

struct Reference<'a> {
    job: &'a str,
    queue: u64,
    key: &'a str,
}

fn parse(run: &str) -> Result<Reference<'_>, CiError> {
    let mut parts = run.splitn(3, '#');
    match (
        parts.next(),
        parts.next().and_then(|q| q.parse().ok()),
        parts.next(),
    ) {
        (Some(job), Some(queue), Some(key)) if !job.is_empty() => Ok(Reference { job, queue, key }),
        _ => Err(CiError::Config(format!(
            "not a Jenkins run reference: {run}"
        ))),
    }
}

/// Whether an item with `actions[parameters]` carries `RUNWAY_KEY = key`.
fn carries(item: &Value, key: &str) -> bool {
    item["actions"].as_array().into_iter().flatten().any(|a| {
        a["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| p["name"].as_str() == Some("RUNWAY_KEY") && p["value"].as_str() == Some(key))
    })
}

/// A finished build's `result` in the portal's words.
fn state_of(building: bool, result: Option<&str>) -> RunState {
    match (building, result) {
        (true, _) | (false, None) => RunState::Running,
        (false, Some("SUCCESS" | "UNSTABLE")) => RunState::Succeeded,
        (false, Some("ABORTED" | "NOT_BUILT")) => RunState::Cancelled,
        (false, Some(_)) => RunState::Failed,
    }
}

impl Jenkins {
    pub fn new(settings: &BTreeMap<String, String>) -> Result<Self, CiError> {
        let base = super::setting_url(settings, "jenkins", "url")?;
        let user = super::setting(settings, "jenkins", "user")?;
        let token = super::secret_setting(settings, "jenkins", "token_env")?;
        Ok(Jenkins {
            base,
            user,
            token,
            client: super::http_client(),
        })
    }

    async fn call(&self, method: reqwest::Method, url: &str) -> Result<Answer, CiError> {
        let url = if url.starts_with("http") {
            url.to_owned()
        } else {
            format!("{}{url}", self.base)
        };
        send(
            SERVER,
            self.client
                .request(method, url)
                .basic_auth(&self.user, Some(&self.token)),
        )
        .await
    }

    async fn get(&self, url: &str) -> Result<Value, CiError> {
        self.call(reqwest::Method::GET, url)
            .await?
            .ok(SERVER)?
            .json(SERVER)
    }

    /// The job's declared parameter names.
    async fn declared(&self, job: &str) -> Result<Vec<String>, CiError> {
        let answer = self
            .call(
                reqwest::Method::GET,
                &format!(
                    "{}/api/json?tree=property[parameterDefinitions[name]]",
                    job_path(job)
                ),
            )
            .await?;
        if answer.status == reqwest::StatusCode::NOT_FOUND {
            return Err(CiError::Config(format!("Jenkins has no job {job}")));
        }
        let info = answer.ok(SERVER)?.json(SERVER)?;
        Ok(info["property"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|p| p["parameterDefinitions"].as_array().into_iter().flatten())
            .filter_map(|d| d["name"].as_str().map(str::to_owned))
            .collect())
    }

    /// The build (number, url) the run became, if it started.
    async fn build_of(&self, r: &Reference<'_>) -> Result<Option<(i64, String)>, CiError> {
        let item = self
            .call(
                reqwest::Method::GET,
                &format!("/queue/item/{}/api/json", r.queue),
            )
            .await?;
        if item.status != reqwest::StatusCode::NOT_FOUND {
            let item = item.ok(SERVER)?.json(SERVER)?;
            let executable = &item["executable"];
            return Ok(executable["number"]
                .as_i64()
                .zip(executable["url"].as_str().map(str::to_owned)));
        }
        // The queue forgot it: look for the build carrying the key.
        let builds = self
            .get(&format!(
                "{}/api/json?tree=builds[number,url,{PARAMETERS}]{{0,{FIND_DEPTH}}}",
                job_path(r.job)
            ))
            .await?;
        Ok(builds["builds"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|b| carries(b, r.key))
            .and_then(|b| {
                b["number"]
                    .as_i64()
                    .zip(b["url"].as_str().map(str::to_owned))
            }))
    }

    /// The last bytes of a build's console log (two small reads: its size, then its end).
    async fn log_tail(&self, build_url: &str) -> Result<String, CiError> {
        let probe = self
            .call(
                reqwest::Method::GET,
                &format!("{build_url}logText/progressiveText?start=999999999999"),
            )
            .await?
            .ok(SERVER)?;
        let size: u64 = probe
            .header("X-Text-Size")
            .and_then(|s| s.parse().ok())
            .unwrap_or_default();
        let start = size.saturating_sub(LOG_TAIL_BYTES);
        let text = self
            .call(
                reqwest::Method::GET,
                &format!("{build_url}logText/progressiveText?start={start}"),
            )
            .await?
            .ok(SERVER)?;
        // From the middle of the log: start at the next whole line.
        Ok(if start == 0 {
            text.text
        } else {
            text.text
                .split_once('\n')
                .map(|(_, rest)| rest.to_owned())
                .unwrap_or_default()
        })
    }
}

#[async_trait::async_trait]
impl CiConnector for Jenkins {
    async fn start(&self, job: &StartJob<'_>) -> Result<RunRef, CiError> {
        let declared = self.declared(job.target).await?;
        let missing: Vec<&str> = job
            .params
            .keys()
            .map(String::as_str)
            .chain(std::iter::once("RUNWAY_KEY"))
            .filter(|p| !declared.iter().any(|d| d == p))
            .collect();
        if !missing.is_empty() {
            return Err(CiError::Config(format!(
                "the Jenkins job {} does not declare the parameter(s) {} (it declares: {})",
                job.target,
                missing.join(", "),
                declared.join(", ")
            )));
        }
        let mut form: Vec<(&str, &str)> = job
            .params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        form.push(("RUNWAY_KEY", job.key));
        let answer = send(
            SERVER,
            self.client
                .post(format!(
                    "{}{}/buildWithParameters",
                    self.base,
                    job_path(job.target)
                ))
                .basic_auth(&self.user, Some(&self.token))
                .form(&form),
        )
        .await?
        .ok(SERVER)?;
        let queue = answer
            .header("Location")
            .and_then(|l| {
                l.trim_end_matches('/')
                    .rsplit('/')
                    .next()
                    .and_then(|n| n.parse::<u64>().ok())
            })
            .ok_or_else(|| {
                CiError::Transient("Jenkins accepted the build but named no queue item".into())
            })?;
        Ok(RunRef {
            id: format!("{}#{queue}#{}", job.target, job.key),
            url: None,
        })
    }

    async fn status(&self, run: &str) -> Result<RunStatus, CiError> {
        let r = parse(run)?;
        let Some((number, url)) = self.build_of(&r).await? else {
            // Still waiting in the queue, or taken out of it.
            let item = self
                .call(
                    reqwest::Method::GET,
                    &format!("/queue/item/{}/api/json", r.queue),
                )
                .await?;
            let cancelled =
                item.status.is_success() && item.json(SERVER)?["cancelled"].as_bool() == Some(true);
            return Ok(RunStatus {
                state: if cancelled {
                    RunState::Cancelled
                } else {
                    RunState::Queued
                },
                url: None,
                log_tail: String::new(),
                message: None,
            });
        };
        let build = self
            .get(&format!("{url}api/json?tree=building,result"))
            .await?;
        let result = build["result"].as_str();
        let state = state_of(build["building"].as_bool().unwrap_or(false), result);
        Ok(RunStatus {
            state,
            log_tail: self.log_tail(&url).await?,
            message: (state == RunState::Failed).then(|| {
                format!(
                    "Jenkins: build #{number} ended {}",
                    result.unwrap_or("without a result")
                )
            }),
            url: Some(url),
        })
    }

    async fn cancel(&self, run: &str) -> Result<(), CiError> {
        let r = parse(run)?;
        let answer = match self.build_of(&r).await? {
            Some((_, url)) => {
                self.call(reqwest::Method::POST, &format!("{url}stop"))
                    .await?
            }
            None => {
                self.call(
                    reqwest::Method::POST,
                    &format!("/queue/cancelItem?id={}", r.queue),
                )
                .await?
            }
        };
        // Jenkins answers with a redirect, or 404 once the item is gone: nothing left to stop.
        if answer.status.is_redirection() || answer.status == reqwest::StatusCode::NOT_FOUND {
            return Ok(());
        }
        answer.ok(SERVER).map(|_| ())
    }

    async fn find(&self, key: &str, target: &str) -> Result<Option<RunRef>, CiError> {
        let queue = self
            .get(&format!("/queue/api/json?tree=items[id,{PARAMETERS}]"))
            .await?;
        let queued = queue["items"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|i| carries(i, key))
            .and_then(|i| i["id"].as_u64());
        if let Some(id) = queued {
            return Ok(Some(RunRef {
                id: format!("{target}#{id}#{key}"),
                url: None,
            }));
        }
        let builds = self
            .get(&format!(
                "{}/api/json?tree=builds[number,url,queueId,{PARAMETERS}]{{0,{FIND_DEPTH}}}",
                job_path(target)
            ))
            .await?;
        Ok(builds["builds"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|b| carries(b, key))
            .map(|b| RunRef {
                id: format!(
                    "{target}#{}#{key}",
                    b["queueId"].as_u64().unwrap_or_default()
                ),
                url: b["url"].as_str().map(str::to_owned),
            }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_repeat_the_job_segment() {
        assert_eq!(job_path("team/deploy"), "/job/team/job/deploy");
        assert_eq!(job_path("deploy"), "/job/deploy");
    }

    #[test]
    fn a_reference_names_job_queue_and_key() {
        let r = parse("team/deploy#17#runway-4-deploy-1").expect("reference");
        assert_eq!(
            (r.job, r.queue, r.key),
            ("team/deploy", 17, "runway-4-deploy-1")
        );
        assert!(parse("17").is_err());
    }

    #[test]
    fn results_map_to_states() {
        assert_eq!(state_of(true, None), RunState::Running);
        assert_eq!(state_of(false, Some("SUCCESS")), RunState::Succeeded);
        assert_eq!(state_of(false, Some("FAILURE")), RunState::Failed);
        assert_eq!(state_of(false, Some("ABORTED")), RunState::Cancelled);
    }
}
