//! Deployment use cases of operations: run a failed CI step again, or cancel a deployment in
//! progress and stop its CI run.

use super::error::{Error, Result};
use super::lifecycle::{change, claim};
use super::requests::viewer;
use crate::ci::{self, CiConnector, RunState};
use crate::db::dispatch::{self as d, RunRow};
use crate::db::now_ms;
use crate::db::users::User;
use crate::dispatch::binding_of;
use crate::domain::lifecycle::{Event, Retry};
use crate::state::AppState;

const CHANGED_MEANWHILE: &str =
    "This request changed while you were looking at it; reload to see where it stands.";

fn step_name_of(step: &str) -> &str {
    if step == "provision" {
        "Provisioning"
    } else {
        "The deployment"
    }
}

/// The runs that failed and were not run again since: the latest of their target and step.
pub fn failed_runs(runs: &[RunRow]) -> Vec<&RunRow> {
    runs.iter()
        .filter(|r| r.state == "failed" || r.state == "cancelled")
        .filter(|r| {
            !runs
                .iter()
                .any(|o| o.target_id == r.target_id && o.step == r.step && o.attempt > r.attempt)
        })
        .collect()
}

/// Every failed target, in the retry form's words.
pub const EVERY_FAILED_TARGET: &str = "*";

/// Operations retry the step that failed: a new run of it (attempt n + 1), after the same
/// checks of schedule, windows and freezes as the first time. In a fan-out, `target` names the
/// failed target to run again alone (the others keep what they did), or is
/// [`EVERY_FAILED_TARGET`].
pub async fn retry(
    state: &AppState,
    user: &User,
    is_ops: bool,
    (request_id, revision): (i64, i64),
    target: Option<&str>,
) -> Result<String> {
    let now = now_ms();
    let by = viewer(user, is_ops);
    let mut tx = state.db.write().await?;
    let mut loaded = claim(&mut tx, request_id, revision, now, CHANGED_MEANWHILE).await?;
    let runs = d::runs(&mut **tx, request_id).await?;
    let failed = failed_runs(&runs);
    let chosen: Vec<&RunRow> = match target.map(str::trim).filter(|t| !t.is_empty()) {
        Some(EVERY_FAILED_TARGET) => failed,
        Some(t) => match failed.iter().find(|r| r.target_id == t) {
            Some(run) => vec![*run],
            None if failed.is_empty() => Vec::new(),
            None => {
                return Err(Error::invalid(
                    "target",
                    format!("\"{t}\" is not a target whose step failed"),
                ))
            }
        },
        None if failed.len() > 1 => {
            return Err(Error::invalid(
                "target",
                "several targets failed: choose the one to run again, or every one",
            ))
        }
        None => failed,
    };
    loaded.subject.retryable = !chosen.is_empty();
    let retries: Vec<Retry> = chosen
        .iter()
        .map(|f| Retry {
            target_id: f.target_id.clone(),
            step: f.step.clone(),
            attempt: f.attempt + 1,
        })
        .collect();
    let event = Event::Retried {
        by,
        retries: retries.clone(),
    };
    change(
        &mut tx,
        &state.catalog.current().catalog,
        &loaded,
        &event,
        now,
    )
    .await?;
    for (failed, retry) in chosen.iter().zip(&retries) {
        d::insert_retry(&mut tx, failed, retry.attempt, now).await?;
    }
    tx.commit().await?;
    let said: Vec<String> = retries
        .iter()
        .map(|r| {
            let what = step_name_of(&r.step);
            match r.target_id.as_str() {
                "" => format!("{what} will run again (attempt {}).", r.attempt),
                id => format!("{what} of {id} will run again (attempt {}).", r.attempt),
            }
        })
        .collect();
    Ok(said.join(" "))
}

/// Operations cancel a running deployment: the request ends `cancelled` and its CI run is
/// stopped on the CI server.
pub async fn cancel_run(
    state: &AppState,
    user: &User,
    is_ops: bool,
    request_id: i64,
    revision: i64,
    reason: &str,
) -> Result<String> {
    let now = now_ms();
    let by = viewer(user, is_ops);
    let mut tx = state.db.write().await?;
    let loaded = claim(&mut tx, request_id, revision, now, CHANGED_MEANWHILE).await?;
    // Who may, and when, before anything is touched.
    let probe = Event::CancelledByOps {
        by: by.clone(),
        reason: reason.to_owned(),
        step: None,
    };
    crate::domain::lifecycle::transition(&loaded.subject, &probe, &loaded.row.policy, now)?;
    // The job first: it waits for a worker writing what the CI answered, so the run read next
    // is the latest, reference included.
    d::cancel_job(&mut tx, request_id).await?;
    // Every run still going: one, or several targets of a parallel fan-out.
    let running: Vec<RunRow> = d::runs(&mut **tx, request_id)
        .await?
        .into_iter()
        .filter(|r| !matches!(r.state.as_str(), "succeeded" | "failed" | "cancelled"))
        .collect();
    let event = Event::CancelledByOps {
        by,
        reason: reason.to_owned(),
        step: running.first().map(|r| r.step.clone()),
    };
    change(
        &mut tx,
        &state.catalog.current().catalog,
        &loaded,
        &event,
        now,
    )
    .await?;
    let message = format!("cancelled from the portal by {}", user.display_name);
    for run in &running {
        d::end_run(&mut **tx, run, RunState::Cancelled, &message, now).await?;
    }
    tx.commit().await?;
    // The request is cancelled whatever the CI says; stopping the runs is the CI's part.
    let mut refused = Vec::new();
    if let (false, Some(binding)) = (running.is_empty(), binding_of(state, &loaded.row)) {
        match ci::connector(&binding, &state.settings.data_dir) {
            Ok(connector) => {
                for run in &running {
                    if let Err(e) = stop(connector.as_ref(), run).await {
                        refused.push(e);
                    }
                }
            }
            Err(e) => refused.push(e.to_string()),
        }
    }
    let runs = if running.len() > 1 {
        "runs were"
    } else {
        "run was"
    };
    Ok(if refused.is_empty() {
        format!("Request #{request_id} cancelled; its CI {runs} stopped.")
    } else {
        format!(
            "Request #{request_id} cancelled, but the CI could not stop it: {}",
            refused.join("; ")
        )
    })
}

/// Stops a cancelled run. One the CI was still starting has no reference yet: it is looked up
/// by its key, and if the CI has not created it yet, the worker stops it when the CI answers.
async fn stop(connector: &dyn CiConnector, run: &RunRow) -> std::result::Result<(), String> {
    let reference = match &run.run_ref {
        Some(reference) => Some(reference.clone()),
        None => connector
            .find(&run.run_key, &run.target)
            .await
            .map_err(|e| e.to_string())?
            .map(|r| r.id),
    };
    match reference {
        Some(reference) => connector
            .cancel(&reference)
            .await
            .map_err(|e| e.to_string()),
        None => Ok(()),
    }
}
