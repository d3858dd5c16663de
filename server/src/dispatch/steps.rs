//! The step logic of the dispatch: start the next CI step of a request, call the CI, follow the
//! run (`runs`), and end the request succeeded or failed. Every change of the request's state is a
//! lifecycle event (see `service::lifecycle`).

use super::crash_point;
use super::runs::{poll, trigger};
use crate::ci::{self, RunState};
use crate::db::dispatch::{self as d, Job, RunRow};
use crate::db::now_ms;
use crate::db::requests::{self as q, RequestRow};
use crate::db::Write;
use crate::domain::lifecycle::Event;
use crate::domain::{CiBinding, CiJob};
use crate::service::error::{Error, Result};
use crate::service::lifecycle::record;
use crate::state::AppState;
use std::collections::BTreeMap;

pub fn binding_of(state: &AppState, row: &RequestRow) -> Option<CiBinding> {
    state
        .catalog
        .current()
        .catalog
        .application(&row.application_id)
        .and_then(|a| a.environment(&row.environment_id))
        .and_then(|e| e.ci.clone())
}

/// The steps of a binding, in order.
fn steps(binding: &CiBinding) -> Vec<(&'static str, &CiJob)> {
    binding
        .provision
        .iter()
        .map(|j| ("provision", j))
        .chain(std::iter::once(("deploy", &binding.deploy)))
        .collect()
}

/// The values a job's parameter templates are filled from.
pub(super) fn values(row: &RequestRow, step: &str) -> BTreeMap<String, String> {
    let mut v: BTreeMap<String, String> = [
        ("application", row.application_id.clone()),
        ("environment", row.environment_id.clone()),
        ("version", row.version.clone()),
        ("artifact", row.artifact.clone()),
        ("request_id", row.id.to_string()),
        ("title", row.title.clone()),
        ("step", step.to_owned()),
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

/// Retries wait 2, 4, 8 … seconds, at most five minutes.
pub fn backoff_ms(attempt: i64) -> i64 {
    let exp = u32::try_from(attempt.clamp(1, 20)).unwrap_or(20);
    2_i64.saturating_pow(exp).saturating_mul(1000).min(300_000)
}

/// Moves the request's CI steps on: starts the next one, or looks at the running one.
pub(super) async fn advance(state: &AppState, job: &Job, row: &RequestRow) -> Result<()> {
    let now = now_ms();
    let Some(binding) = binding_of(state, row) else {
        return fail(
            state,
            job,
            row,
            None,
            "deploy",
            "the catalog gives this environment no CI binding",
        )
        .await;
    };
    let connector = match ci::connector(&binding, &state.settings.data_dir) {
        Ok(c) => c,
        Err(e) => return fail(state, job, row, None, "deploy", &e.to_string()).await,
    };
    let runs = d::runs(&state.db.pool, row.id).await?;
    for (step, ci_job) in steps(&binding) {
        let latest = runs
            .iter()
            .filter(|r| r.step == step)
            .max_by_key(|r| r.attempt);
        match latest {
            Some(run) if run.state == "succeeded" => {}
            Some(run) if run.state == "failed" || run.state == "cancelled" => {
                d::finish_now(&state.db, job.id, "failed", "").await?;
                return Ok(());
            }
            Some(run) if run.state == "triggering" => {
                return trigger(state, job, row, connector.as_ref(), run, ci_job, true).await;
            }
            Some(run) if run.state != "retry" => {
                if !poll(state, job, row, connector.as_ref(), run).await? {
                    return Ok(());
                }
            }
            next => {
                // The first run of the step, or the retry operations asked for.
                let attempt = next.map_or(1, |r| r.attempt);
                let key = format!("runway-{}-{step}-{attempt}", row.id);
                let mut tx = state.db.write().await?;
                if !q::bump_revision(&mut tx, row.id, row.revision, now).await? {
                    // Edited, cancelled or withdrawn meanwhile: look again from the start.
                    drop(tx);
                    d::release_now(&state.db, job.id, now, job.attempts, &job.note).await?;
                    return Ok(());
                }
                let event = Event::StepStarted {
                    step: step.to_owned(),
                    connector: binding.connector.as_str().to_owned(),
                    target: ci_job.target.clone(),
                };
                let catalog = &state.catalog.current().catalog;
                match record(&mut tx, catalog, row.id, &event, now).await {
                    Ok(_) => {}
                    Err(Error::Conflict(why)) => {
                        // The approvals lapsed meanwhile: the next look sends it back.
                        drop(tx);
                        tracing::info!(request = row.id, why, "the step cannot start");
                        d::release_now(&state.db, job.id, now, job.attempts, &job.note).await?;
                        return Ok(());
                    }
                    Err(e) if e.is_unique_violation() => {
                        // Another deployment of this target started meanwhile (another worker
                        // or replica): the next look waits for it. Any other refusal is an error.
                        drop(tx);
                        let (app, env) = (&row.application_id, &row.environment_id);
                        if q::in_flight(&state.db.pool, app, env, row.id)
                            .await?
                            .is_none()
                        {
                            return Err(e);
                        }
                        tracing::info!(
                            request = row.id,
                            "another deployment of the target started"
                        );
                        let at = now + super::POLL_MS;
                        d::release_now(&state.db, job.id, at, job.attempts, &job.note).await?;
                        return Ok(());
                    }
                    Err(e) => return Err(e),
                }
                if let Some(retry) = next {
                    d::delete_run(&mut **tx, retry.id).await?;
                }
                let run_id = d::insert_triggering(
                    &mut tx,
                    &d::NewRun {
                        request_id: row.id,
                        step,
                        attempt,
                        connector: binding.connector.as_str(),
                        target: &ci_job.target,
                        run_key: &key,
                        now,
                    },
                )
                .await?;
                tx.commit().await?;
                crash_point("after_triggering");
                let run = RunRow {
                    id: run_id,
                    request_id: row.id,
                    step: step.to_owned(),
                    attempt,
                    connector: binding.connector.as_str().to_owned(),
                    target: ci_job.target.clone(),
                    run_key: key,
                    state: "triggering".into(),
                    run_ref: None,
                    url: None,
                    log_tail: String::new(),
                    message: String::new(),
                    started_at: now,
                    finished_at: None,
                };
                return trigger(state, job, row, connector.as_ref(), &run, ci_job, false).await;
            }
        }
    }
    // Every step succeeded.
    let mut tx = state.db.write().await?;
    record(
        &mut tx,
        &state.catalog.current().catalog,
        row.id,
        &Event::Deployed,
        now,
    )
    .await?;
    d::finish(&mut **tx, job.id, "done", "").await?;
    tx.commit().await?;
    tracing::info!(request = row.id, "deployed");
    Ok(())
}

/// Fails the request at `step` with the CI's own message.
pub(super) async fn fail(
    state: &AppState,
    job: &Job,
    row: &RequestRow,
    run: Option<&RunRow>,
    step: &str,
    message: &str,
) -> Result<()> {
    let now = now_ms();
    let mut tx = state.db.write().await?;
    if !d::hold(&mut tx, job.id).await? {
        return Ok(());
    }
    if let Some(run) = run {
        d::end_run(&mut **tx, run, RunState::Failed, message, now).await?;
    }
    fail_in(&mut tx, state, job, row, step, message, now).await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn fail_in(
    tx: &mut Write,
    state: &AppState,
    job: &Job,
    row: &RequestRow,
    step: &str,
    message: &str,
    now: i64,
) -> Result<()> {
    let event = Event::StepFailed {
        step: step.to_owned(),
        message: message.to_owned(),
    };
    record(tx, &state.catalog.current().catalog, row.id, &event, now).await?;
    d::finish(&mut ***tx, job.id, "failed", message).await?;
    tracing::warn!(request = row.id, step, message, "deployment failed");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_five_minutes() {
        assert_eq!(
            (1..=10).map(backoff_ms).collect::<Vec<_>>(),
            [2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000]
        );
    }
}
