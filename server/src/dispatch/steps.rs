//! The step logic of the dispatch: start the next CI step of each of a request's targets, call
//! the CI, follow the runs (`runs`), and end the request succeeded or failed. Every change of the
//! request's state is a lifecycle event (see `service::lifecycle`).

use super::crash_point;
use super::endings::{end, fail};
use super::runs::{poll, trigger};
use crate::ci::{self, RunState};
use crate::db::dispatch::{self as d, Job, RunRow};
use crate::db::now_ms;
use crate::db::requests::{self as q, RequestRow};
use crate::domain::fan_out::{self, Outcome, Progress, RunFact};
use crate::domain::lifecycle::Event;
use crate::domain::{CiBinding, CiJob, CiTarget};
use crate::service::error::{Error, Result};
use crate::service::lifecycle::record;
use crate::state::AppState;

pub fn binding_of(state: &AppState, row: &RequestRow) -> Option<CiBinding> {
    state
        .catalog
        .current()
        .catalog
        .application(&row.application_id)
        .and_then(|a| a.environment(&row.environment_id))
        .and_then(|e| e.ci.clone())
}

/// What an action on one target leaves the job to.
pub(super) enum Next {
    /// Look again at `at`; `attempts` counts the CI's failures to answer, `note` says why.
    Again {
        at: i64,
        attempts: i64,
        note: String,
    },
    /// The job ended (the deployment failed) or was taken from the worker (cancelled).
    Stop,
}

impl Next {
    pub(super) fn at(at: i64) -> Next {
        Next::Again {
            at,
            attempts: 0,
            note: String::new(),
        }
    }
}

/// Retries wait 2, 4, 8 … seconds, at most five minutes.
pub fn backoff_ms(attempt: i64) -> i64 {
    let exp = u32::try_from(attempt.clamp(1, 20)).unwrap_or(20);
    2_i64.saturating_pow(exp).saturating_mul(1000).min(300_000)
}

/// Moves the request's CI steps on: for each target, starts its next step or looks at its
/// running one (in order, only the first target not done; in parallel, all of them), then hands
/// the job back until the next look.
pub(super) async fn advance(state: &AppState, job: &Job, row: &RequestRow) -> Result<()> {
    let now = now_ms();
    let Some(binding) = binding_of(state, row).filter(|b| !b.targets.is_empty()) else {
        let why = "the catalog gives this environment no CI binding";
        fail(state, job, row, None, None, ("", "deploy"), why).await?;
        return Ok(());
    };
    let connector = match ci::connector(&binding, &state.settings.data_dir) {
        Ok(c) => c,
        Err(e) => {
            // The whole binding is unusable: the deployment fails, whatever its targets.
            let why = e.to_string();
            fail(state, job, row, None, None, ("", "deploy"), &why).await?;
            return Ok(());
        }
    };
    let runs = d::runs(&state.db.pool, row.id).await?;
    let facts: Vec<_> = runs.iter().map(RunRow::fact).collect();
    let plan = fan_out::plan(&binding, &facts);
    let orphans = orphans(&binding, &runs, &facts);
    match fan_out::outcome(&plan) {
        _ if !orphans.is_empty() => {}
        Outcome::Running => {}
        Outcome::Succeeded => return end(state, job, row, &Event::Deployed, "done").await,
        Outcome::Failed(failed) => {
            // The last target of a parallel fan-out ended after another failed.
            let names = failed
                .iter()
                .filter_map(|id| binding.target(id).map(|t| t.name.clone()))
                .collect();
            let event = Event::TargetsFailed { failed: names };
            return end(state, job, row, &event, "failed").await;
        }
    }
    let requester = crate::db::users::by_id(&state.db, row.requester_id)
        .await?
        .map(|u| u.username)
        .unwrap_or_default();
    let on = On {
        state,
        job,
        row,
        binding: &binding,
        connector: connector.as_ref(),
        requester: &requester,
    };
    let (mut at, mut attempts, mut note) = (i64::MAX, 0, String::new());
    let mut started = false;
    let looks = plan
        .into_iter()
        .map(|(t, p)| Look::Target(t, p))
        .chain(orphans.into_iter().map(Look::Orphan));
    for (i, look) in looks.enumerate() {
        // A look at several targets may outlast the lease it was claimed with.
        if i > 0 && now_ms() - now > super::LEASE_MS / 4 {
            d::renew(&state.db, job.id, now_ms() + super::LEASE_MS).await?;
        }
        let next = match look {
            Look::Orphan(run) => orphan(&on, run).await?,
            Look::Target(target, Progress::Busy { step }) => {
                let Some(run) = fan_out::latest(&facts, &target.id, step)
                    .and_then(|f| runs.iter().find(|r| r.fact() == f))
                else {
                    continue;
                };
                if let Some(later) = run.next_try_at.filter(|t| *t > now) {
                    // The CI did not answer about this run: it waits its turn, the others go on.
                    Next::Again {
                        at: later,
                        attempts: job.attempts,
                        note: run.message.clone(),
                    }
                } else if run.state == "triggering" {
                    trigger(&on, run, job_of(target, step), true).await?
                } else {
                    poll(&on, run).await?
                }
            }
            // One start a look: each moves the request on, and the next look sees it.
            Look::Target(_, Progress::Ready { .. }) if started => Next::at(now),
            Look::Target(target, Progress::Ready { step, attempt }) => {
                started = true;
                start(&on, target, step, attempt, &runs).await?
            }
            _ => continue,
        };
        match next {
            Next::Stop => return Ok(()),
            Next::Again {
                at: a,
                attempts: n,
                note: why,
            } => {
                at = at.min(a);
                attempts = attempts.max(n);
                if note.is_empty() {
                    note = why;
                }
            }
        }
    }
    let at = if at == i64::MAX {
        now + super::POLL_MS
    } else {
        at
    };
    d::release_now(&state.db, job.id, at, attempts, &note).await?;
    Ok(())
}

/// What a look at a request's deployment takes in turn.
enum Look<'a> {
    Target(&'a CiTarget, Progress),
    /// A run still going whose target left the catalog meanwhile.
    Orphan(&'a RunRow),
}

/// The runs still going of targets the binding no longer has (the catalog changed during the
/// deployment): followed to their end, never left behind.
fn orphans<'r>(binding: &CiBinding, runs: &'r [RunRow], facts: &[RunFact<'_>]) -> Vec<&'r RunRow> {
    runs.iter()
        .filter(|r| binding.target(&r.target_id).is_none())
        .filter(|r| {
            !matches!(
                r.state.as_str(),
                "succeeded" | "failed" | "cancelled" | "retry"
            )
        })
        .filter(|r| fan_out::latest(facts, &r.target_id, &r.step) == Some(r.fact()))
        .collect()
}

/// Follows an orphan run; one the CI had not yet said where it runs cannot be found again
/// without its job, and ends cancelled.
async fn orphan(on: &On<'_>, run: &RunRow) -> Result<Next> {
    if run.run_ref.is_some() {
        return poll(on, run).await;
    }
    let now = now_ms();
    let mut tx = on.state.db.write().await?;
    if !d::hold(&mut tx, on.job.id).await? {
        return Ok(Next::Stop);
    }
    let why = "its target left the catalog before the CI said where it runs";
    d::end_run(&mut **tx, run, RunState::Cancelled, why, now).await?;
    tx.commit_unseen().await?;
    Ok(Next::at(now))
}

/// What every action on a request's targets works with.
pub(super) struct On<'a> {
    pub state: &'a AppState,
    pub job: &'a Job,
    pub row: &'a RequestRow,
    pub binding: &'a CiBinding,
    pub connector: &'a dyn ci::CiConnector,
    /// The requester's user name, for the `{requester}` placeholder.
    pub requester: &'a str,
}

fn job_of<'t>(target: &'t CiTarget, step: &str) -> &'t CiJob {
    match (&target.provision, step) {
        (Some(provision), "provision") => provision,
        _ => &target.deploy,
    }
}

/// Starts a target's step: its first run, or the retry operations asked for. The run is
/// recorded as `triggering` with the request's move before the CI is called.
async fn start(
    on: &On<'_>,
    target: &CiTarget,
    step: &'static str,
    attempt: i64,
    runs: &[RunRow],
) -> Result<Next> {
    let (state, row, binding) = (on.state, on.row, on.binding);
    let now = now_ms();
    let retry = runs
        .iter()
        .find(|r| r.target_id == target.id && r.step == step && r.state == "retry");
    let key = if target.id.is_empty() {
        format!("runway-{}-{step}-{attempt}", row.id)
    } else {
        format!("runway-{}-{}-{step}-{attempt}", row.id, target.id)
    };
    let ci_job = job_of(target, step);
    let mut tx = state.db.write().await?;
    if !q::bump_revision(&mut tx, row.id, row.revision, now).await? {
        // Edited, cancelled or withdrawn meanwhile: look again from the start.
        return Ok(Next::at(now));
    }
    let event = Event::StepStarted {
        step: step.to_owned(),
        connector: binding.connector.as_str().to_owned(),
        target: ci_job.target.clone(),
        target_id: target.id.clone(),
    };
    let catalog = &state.catalog.current().catalog;
    match record(&mut tx, catalog, row.id, &event, now).await {
        Ok(_) => {}
        Err(Error::Conflict(why)) => {
            // The approvals lapsed meanwhile: the next look sends it back.
            tracing::info!(request = row.id, why, "the step cannot start");
            return Ok(Next::at(now));
        }
        Err(e) if e.is_unique_violation() => {
            // Another deployment of this target started meanwhile (another worker or
            // replica): the next look waits for it. Any other refusal is an error.
            drop(tx);
            let (app, env) = (&row.application_id, &row.environment_id);
            if q::in_flight(&state.db.pool, app, env, row.id)
                .await?
                .is_none()
            {
                return Err(e);
            }
            tracing::info!(request = row.id, "another deployment of the target started");
            return Ok(Next::at(now + super::POLL_MS));
        }
        Err(e) => return Err(e),
    }
    if let Some(retry) = retry {
        d::delete_run(&mut **tx, retry.id).await?;
    }
    let new = d::NewRun {
        request_id: row.id,
        target_id: &target.id,
        step,
        attempt,
        connector: binding.connector.as_str(),
        target: &ci_job.target,
        run_key: &key,
        now,
    };
    let run_id = d::insert_triggering(&mut tx, &new).await?;
    tx.commit().await?;
    crash_point("after_triggering");
    let run = RunRow {
        id: run_id,
        request_id: row.id,
        target_id: target.id.clone(),
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
        next_try_at: None,
    };
    trigger(on, &run, ci_job, false).await
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
