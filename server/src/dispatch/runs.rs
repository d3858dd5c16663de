//! One CI run of a step: calling the CI to start it (or finding it again after a crash), and
//! looking at it until it ends.

use super::steps::{backoff_ms, fail, fail_in, values};
use super::{crash_point, POLL_MS};
use crate::ci::{self, CiConnector, CiError, RunState, StartJob};
use crate::db::dispatch::{self as d, Job, RunRow, RunUpdate};
use crate::db::now_ms;
use crate::db::requests::RequestRow;
use crate::domain::format_ms;
use crate::domain::lifecycle::Event;
use crate::domain::CiJob;
use crate::service::error::Result;
use crate::service::lifecycle::record;
use crate::state::AppState;
use std::collections::BTreeMap;

/// Calls the CI for a run recorded as `triggering`; after a crash (`recovering`), first looks
/// for a run with its key.
pub(super) async fn trigger(
    state: &AppState,
    job: &Job,
    row: &RequestRow,
    connector: &dyn CiConnector,
    run: &RunRow,
    ci_job: &CiJob,
    recovering: bool,
) -> Result<()> {
    let values = values(row, &run.step);
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
                return Ok(());
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
            d::release(&mut **tx, job.id, now + POLL_MS, 0, "").await?;
            tx.commit_unseen().await?;
            crash_point("after_recorded");
            Ok(())
        }
        Err(CiError::Transient(error)) => {
            let attempts = job.attempts + 1;
            let next = now + backoff_ms(attempts);
            let note = format!(
                "waiting on CI — attempt {attempts}, next at {}",
                format_ms(next)
            );
            let mut tx = state.db.write().await?;
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
            d::release(&mut **tx, job.id, next, attempts, &note).await?;
            tx.commit_unseen().await?;
            Ok(())
        }
        Err(CiError::Config(message)) => {
            fail(state, job, row, Some(run), &run.step, &message).await
        }
    }
}

/// Looks at a started run; true when it succeeded and the next step may start.
pub(super) async fn poll(
    state: &AppState,
    job: &Job,
    row: &RequestRow,
    connector: &dyn CiConnector,
    run: &RunRow,
) -> Result<bool> {
    let Some(reference) = run.run_ref.as_deref() else {
        return Ok(false);
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
            d::release_now(&state.db, job.id, next, attempts, &note).await?;
            return Ok(false);
        }
        Err(CiError::Config(message)) => {
            fail(state, job, row, Some(run), &run.step, &message).await?;
            return Ok(false);
        }
    };
    let finished = status.state.is_final().then_some(now);
    let mut tx = state.db.write().await?;
    if !d::hold(&mut tx, job.id).await? {
        // Cancelled while the CI answered: the cancel has the last word.
        return Ok(false);
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
            Ok(true)
        }
        RunState::Failed | RunState::Cancelled => {
            let message = status
                .message
                .unwrap_or_else(|| format!("the run ended {}", status.state.as_str()));
            fail_in(&mut tx, state, job, row, &run.step, &message, now).await?;
            tx.commit().await?;
            Ok(false)
        }
        RunState::Queued | RunState::Running => {
            d::release(&mut **tx, job.id, now + POLL_MS, 0, "").await?;
            tx.commit_unseen().await?;
            crash_point("after_poll");
            Ok(false)
        }
    }
}
