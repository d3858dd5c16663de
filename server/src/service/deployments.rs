//! Deployment use cases of operations: run a failed CI step again, or cancel a deployment in
//! progress and stop its CI run.

use super::error::Result;
use super::lifecycle::{change, claim};
use super::requests::viewer;
use crate::ci::{self, CiConnector, RunState};
use crate::db::dispatch::{self as d, RunRow};
use crate::db::now_ms;
use crate::db::users::User;
use crate::dispatch::binding_of;
use crate::domain::lifecycle::Event;
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

/// Operations retry the step that failed: a new run of it (attempt n + 1), after the same
/// checks of schedule, windows and freezes as the first time.
pub async fn retry(
    state: &AppState,
    user: &User,
    is_ops: bool,
    request_id: i64,
    revision: i64,
) -> Result<String> {
    let now = now_ms();
    let by = viewer(user, is_ops);
    let mut tx = state.db.write().await?;
    let mut loaded = claim(&mut tx, request_id, revision, now, CHANGED_MEANWHILE).await?;
    let failed = d::runs(&mut **tx, request_id)
        .await?
        .into_iter()
        .rev()
        .find(|r| r.state == "failed" || r.state == "cancelled");
    loaded.subject.retryable = failed.is_some();
    let (step, attempt) = failed
        .as_ref()
        .map_or((String::new(), 1), |f| (f.step.clone(), f.attempt + 1));
    let event = Event::Retried {
        by,
        step: step.clone(),
        attempt,
    };
    change(
        &mut tx,
        &state.catalog.current().catalog,
        &loaded,
        &event,
        now,
    )
    .await?;
    if let Some(failed) = &failed {
        d::insert_retry(&mut tx, failed, attempt, now).await?;
    }
    tx.commit().await?;
    Ok(format!(
        "{} will run again (attempt {attempt}).",
        step_name_of(&step)
    ))
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
    let running = d::runs(&mut **tx, request_id)
        .await?
        .into_iter()
        .rev()
        .find(|r| !matches!(r.state.as_str(), "succeeded" | "failed" | "cancelled"));
    let event = Event::CancelledByOps {
        by,
        reason: reason.to_owned(),
        step: running.as_ref().map(|r| r.step.clone()),
    };
    change(
        &mut tx,
        &state.catalog.current().catalog,
        &loaded,
        &event,
        now,
    )
    .await?;
    if let Some(run) = &running {
        let message = format!("cancelled from the portal by {}", user.display_name);
        d::end_run(&mut **tx, run, RunState::Cancelled, &message, now).await?;
    }
    tx.commit().await?;
    // The request is cancelled whatever the CI says; stopping the run is the CI's part.
    let stopped = match (running, binding_of(state, &loaded.row)) {
        (Some(run), Some(binding)) => match ci::connector(&binding, &state.settings.data_dir) {
            Ok(connector) => stop(connector.as_ref(), &run).await,
            Err(e) => Err(e.to_string()),
        },
        _ => Ok(()),
    };
    Ok(match stopped {
        Ok(()) => format!("Request #{request_id} cancelled; its CI run was stopped."),
        Err(e) => {
            format!("Request #{request_id} cancelled, but the CI run could not be stopped: {e}")
        }
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
