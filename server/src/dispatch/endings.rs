//! How a request's deployment ends: every target done, or a step failed (which, while other
//! targets of a parallel fan-out still run, waits for them). Each end is a lifecycle event.

use super::steps::Next;
use crate::ci::RunState;
use crate::db::dispatch::{self as d, Job, RunRow};
use crate::db::now_ms;
use crate::db::requests::RequestRow;
use crate::db::Write;
use crate::domain::fan_out::{self, Outcome};
use crate::domain::lifecycle::Event;
use crate::domain::CiBinding;
use crate::service::error::Result;
use crate::service::lifecycle::record;
use crate::state::AppState;

/// Ends the request's deployment with `event` (every target done, or some failed) and its job.
pub(super) async fn end(
    state: &AppState,
    job: &Job,
    row: &RequestRow,
    event: &Event,
    job_state: &str,
) -> Result<()> {
    let now = now_ms();
    let mut tx = state.db.write().await?;
    if !d::hold(&mut tx, job.id).await? {
        return Ok(());
    }
    record(
        &mut tx,
        &state.catalog.current().catalog,
        row.id,
        event,
        now,
    )
    .await?;
    d::finish(&mut **tx, job.id, job_state, "").await?;
    tx.commit().await?;
    tracing::info!(request = row.id, job_state, "deployment ended");
    Ok(())
}

/// Fails a target's step with the CI's own message (`run` ends failed): the request fails, or,
/// while other targets of a parallel fan-out still run, waits for them.
pub(super) async fn fail(
    state: &AppState,
    job: &Job,
    row: &RequestRow,
    binding: Option<&CiBinding>,
    run: Option<&RunRow>,
    (target_id, step): (&str, &str),
    message: &str,
) -> Result<Next> {
    let now = now_ms();
    let mut tx = state.db.write().await?;
    if !d::hold(&mut tx, job.id).await? {
        return Ok(Next::Stop);
    }
    if let Some(run) = run {
        d::end_run(&mut **tx, run, RunState::Failed, message, now).await?;
    }
    let next = fail_in(
        &mut tx,
        state,
        job,
        row,
        binding,
        (target_id, step),
        message,
    )
    .await?;
    tx.commit().await?;
    Ok(next)
}

/// [`fail`] in the caller's transaction, the failed run already written.
pub(super) async fn fail_in(
    tx: &mut Write,
    state: &AppState,
    job: &Job,
    row: &RequestRow,
    binding: Option<&CiBinding>,
    (target_id, step): (&str, &str),
    message: &str,
) -> Result<Next> {
    let now = now_ms();
    // Whether anything is left to run, read with the failed run written.
    let ends = match binding {
        Some(binding) => {
            let runs = d::runs(&mut ***tx, row.id).await?;
            let facts: Vec<_> = runs.iter().map(RunRow::fact).collect();
            fan_out::outcome(&fan_out::plan(binding, &facts)) != Outcome::Running
        }
        None => true,
    };
    let event = Event::StepFailed {
        step: step.to_owned(),
        message: message.to_owned(),
        target_id: target_id.to_owned(),
        ends,
    };
    record(tx, &state.catalog.current().catalog, row.id, &event, now).await?;
    tracing::warn!(
        request = row.id,
        target_id,
        step,
        message,
        "a CI step failed"
    );
    if !ends {
        return Ok(Next::at(now + super::POLL_MS));
    }
    d::finish(&mut ***tx, job.id, "failed", message).await?;
    Ok(Next::Stop)
}
