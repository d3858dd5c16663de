//! One CI run of a step: calling the CI to start it (or finding it again after a crash), and
//! looking at it until it ends.

use super::endings::{fail, fail_in};
use super::steps::{backoff_ms, Next, On};
use super::{crash_point, POLL_MS};
use crate::ci::{self, CiError, RunState, StartJob};
use crate::db::dispatch::{self as d, RunRow, RunUpdate};
use crate::db::now_ms;
use crate::db::requests::RequestRow;
use crate::domain::format_ms;
use crate::domain::lifecycle::Event;
use crate::domain::CiJob;
use crate::service::error::Result;
use crate::service::lifecycle::record;
use std::collections::BTreeMap;

/// Calls the CI for a run recorded as `triggering`; after a crash (`recovering`), first looks
/// for a run with its key.
pub(super) async fn trigger(
    on: &On<'_>,
    run: &RunRow,
    ci_job: &CiJob,
    recovering: bool,
) -> Result<Next> {
    let (state, job, row, connector) = (on.state, on.job, on.row, on.connector);
    let values = values(row, &run.step, &run.target_id, on.requester);
    let params: BTreeMap<String, String> = ci_job
        .params
        .iter()
        .map(|(k, t)| (k.clone(), ci::fill(t, &values)))
        .collect();
    let found = if recovering {
        connector.find(&run.run_key, &ci_job.target).await
    } else {
        Ok(None)
    };
    // Requests stored before versions were checked as they are now never start a CI job (a run
    // started before a crash is still followed, above).
    let refused = crate::domain::text::version_problem(&row.version);
    let started = match found {
        Ok(Some(existing)) => {
            tracing::info!(request = row.id, key = %run.run_key, "found the run started before a restart");
            Ok(existing)
        }
        Ok(None) if let Some(problem) = refused => Err(CiError::Config(format!(
            "The version {:?} cannot be deployed: {problem}",
            row.version
        ))),
        Ok(None) => {
            connector
                .start(&StartJob {
                    key: &run.run_key,
                    target: &ci_job.target,
                    params: &params,
                })
                .await
        }
        Err(e) => Err(e),
    };
    let now = now_ms();
    match started {
        Ok(r) => {
            crash_point("after_trigger");
            let mut tx = state.db.write().await?;
            if !d::hold(&mut tx, job.id).await? {
                // Cancelled while the CI was starting it: keep where it lives, and stop it.
                d::set_run_ref(&mut tx, run.id, &r.id, r.url.as_deref(), now).await?;
                tx.commit_unseen().await?;
                tracing::info!(request = row.id, key = %run.run_key, "stopping a run cancelled while it started");
                if let Err(e) = connector.cancel(&r.id).await {
                    tracing::warn!(request = row.id, key = %run.run_key, error = %e, "cannot stop the cancelled run");
                }
                return Ok(Next::Stop);
            }
            d::update_run(
                &mut **tx,
                run.id,
                &RunUpdate {
                    state: RunState::Queued.as_str(),
                    run_ref: Some(&r.id),
                    url: r.url.as_deref(),
                    log_tail: "",
                    message: "",
                    finished_at: None,
                    now,
                },
            )
            .await?;
            tx.commit_unseen().await?;
            crash_point("after_recorded");
            Ok(Next::at(now + POLL_MS))
        }
        Err(CiError::Transient(error)) => {
            let attempts = job.attempts + 1;
            let next = now + backoff_ms(attempts);
            let note = format!(
                "waiting on CI — attempt {attempts}, next at {}",
                format_ms(next)
            );
            let mut tx = state.db.write().await?;
            if !d::hold(&mut tx, job.id).await? {
                return Ok(Next::Stop);
            }
            let event = Event::CiUnreachable {
                step: run.step.clone(),
                attempt: attempts,
                next_at: format_ms(next),
                error,
            };
            record(
                &mut tx,
                &state.catalog.current().catalog,
                row.id,
                &event,
                now,
            )
            .await?;
            d::delay_run(&mut **tx, run.id, next, &note).await?;
            tx.commit_unseen().await?;
            Ok(Next::Again {
                at: next,
                attempts,
                note,
            })
        }
        Err(CiError::Config(message)) => failed(on, run, &message).await,
    }
}

/// The run's step failed with `message`.
async fn failed(on: &On<'_>, run: &RunRow, message: &str) -> Result<Next> {
    let at = (run.target_id.as_str(), run.step.as_str());
    let (state, job, row) = (on.state, on.job, on.row);
    fail(state, job, row, Some(on.binding), Some(run), at, message).await
}

/// Looks at a started run, and records how it ended when it did.
pub(super) async fn poll(on: &On<'_>, run: &RunRow) -> Result<Next> {
    let (state, job, row, connector) = (on.state, on.job, on.row, on.connector);
    let Some(reference) = run.run_ref.as_deref() else {
        return Ok(Next::at(now_ms() + POLL_MS));
    };
    let now = now_ms();
    let status = match connector.status(reference).await {
        Ok(s) => s,
        Err(CiError::Transient(error)) => {
            let attempts = job.attempts + 1;
            let next = now + backoff_ms(attempts);
            let note = format!(
                "waiting on CI — attempt {attempts}, next at {} ({error})",
                format_ms(next)
            );
            // This run waits its turn; the request's other targets go on being looked at.
            let mut tx = state.db.write().await?;
            d::delay_run(&mut **tx, run.id, next, &note).await?;
            tx.commit_unseen().await?;
            return Ok(Next::Again {
                at: next,
                attempts,
                note,
            });
        }
        Err(CiError::Config(message)) => return failed(on, run, &message).await,
    };
    let finished = status.state.is_final().then_some(now);
    let mut tx = state.db.write().await?;
    if !d::hold(&mut tx, job.id).await? {
        // Cancelled while the CI answered: the cancel has the last word.
        return Ok(Next::Stop);
    }
    d::update_run(
        &mut **tx,
        run.id,
        &RunUpdate {
            state: status.state.as_str(),
            run_ref: None,
            url: status.url.as_deref(),
            log_tail: &status.log_tail,
            message: status.message.as_deref().unwrap_or_default(),
            finished_at: finished,
            now,
        },
    )
    .await?;
    match status.state {
        RunState::Succeeded => {
            let event = Event::StepSucceeded {
                step: run.step.clone(),
                target_id: run.target_id.clone(),
            };
            record(
                &mut tx,
                &state.catalog.current().catalog,
                row.id,
                &event,
                now,
            )
            .await?;
            tx.commit().await?;
            crash_point("after_poll");
            // The target's next step, or the deployment's end, at the next look.
            Ok(Next::at(now))
        }
        RunState::Failed | RunState::Cancelled => {
            let message = status
                .message
                .unwrap_or_else(|| format!("the run ended {}", status.state.as_str()));
            let at = (run.target_id.as_str(), run.step.as_str());
            let next = fail_in(&mut tx, state, job, row, Some(on.binding), at, &message).await?;
            tx.commit().await?;
            Ok(next)
        }
        RunState::Queued | RunState::Running => {
            tx.commit_unseen().await?;
            crash_point("after_poll");
            Ok(Next::at(now + POLL_MS))
        }
    }
}

/// The values a job's parameter templates are filled from.
fn values(
    row: &RequestRow,
    step: &str,
    target_id: &str,
    requester: &str,
) -> BTreeMap<String, String> {
    let mut v: BTreeMap<String, String> = [
        ("application", row.application_id.clone()),
        ("environment", row.environment_id.clone()),
        ("version", row.version.clone()),
        ("artifact", row.artifact.clone()),
        ("request_id", row.id.to_string()),
        ("requester", requester.to_owned()),
        ("title", row.title.clone()),
        ("step", step.to_owned()),
        ("target", target_id.to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (k, value) in &row.fields {
        let text = match value {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        v.insert(format!("fields.{k}"), text);
    }
    v
}
