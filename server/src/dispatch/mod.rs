//! The dispatch worker: takes approved requests from the outbox, waits for their time, window
//! and freeze, then runs their CI steps (provision, then deploy) and follows each to its end.
//!
//! Exactly once: a step's run is recorded as `triggering` (in the same transaction as the
//! request's move to provisioning/deploying) before the CI is called. A job whose worker
//! crashed is claimed again when its lease runs out, and a `triggering` run is first looked up
//! on the CI by its key, so it is never started twice.

use crate::ci::{self, CiConnector, CiError, RunState, StartJob};
use crate::db::dispatch::{self as d, Job, RunRow, RunUpdate};
use crate::db::now_ms;
use crate::db::requests::{self as q, RequestRow};
use crate::domain::request::State;
use crate::domain::schedule::{dispatch_gate, Gate};
use crate::domain::{CiBinding, CiJob, Policy, TicketTrigger};
use crate::service::views::format_ms;
use crate::state::AppState;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

/// How long a claimed job stays with its worker without news before another may take it.
const LEASE_MS: i64 = 60_000;
/// How often a running CI run is looked at.
const POLL_MS: i64 = 1_000;
/// The longest sleep between two looks at the outbox when nothing is due.
const IDLE: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
enum DispatchError {
    #[error(transparent)]
    Storage(#[from] sqlx::Error),
    #[error("the stored request is damaged: {0}")]
    Corrupt(#[from] serde_json::Error),
    #[error(transparent)]
    Request(#[from] crate::service::requests::RequestError),
}

type Result<T> = std::result::Result<T, DispatchError>;

/// Runs the worker until the task is aborted.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        // Every change to a request (an approval above all) wakes the worker at once.
        let mut changes = state.changes.subscribe();
        loop {
            drain(&state).await;
            let wait = match d::next_due(&state.db).await {
                Ok(Some(at)) => {
                    Duration::from_millis(u64::try_from((at - now_ms()).max(0)).unwrap_or(0))
                        .min(IDLE)
                }
                Ok(None) => IDLE,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the dispatch outbox");
                    IDLE
                }
            };
            tokio::select! {
                _ = changes.recv() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    })
}

/// Handles every job that is due now.
pub async fn drain(state: &AppState) {
    loop {
        let job = match d::claim(&state.db, now_ms(), LEASE_MS).await {
            Ok(Some(job)) => job,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "cannot claim a dispatch job");
                return;
            }
        };
        crash_point("after_claim");
        let request = job.request_id;
        if let Err(e) = handle(state, &job).await {
            tracing::error!(request, error = %e, "dispatch step failed; trying again shortly");
            let _ = d::release(
                &state.db.pool,
                job.id,
                now_ms() + 5_000,
                job.attempts,
                &job.note,
            )
            .await;
        }
        let _ = state.changes.send(request);
    }
}

async fn handle(state: &AppState, job: &Job) -> Result<()> {
    let now = now_ms();
    let Some(row) = q::get(&state.db.pool, job.request_id).await? else {
        d::finish(&state.db.pool, job.id, "cancelled", "the request is gone").await?;
        return Ok(());
    };
    match State::parse(&row.state) {
        Some(State::Approved | State::Scheduled) => {}
        Some(State::Provisioning | State::Deploying) => return advance(state, job, &row).await,
        _ => {
            // Cancelled, rejected, sent back to approval, or already finished: nothing to do.
            d::finish(&state.db.pool, job.id, "done", "").await?;
            return Ok(());
        }
    }
    // Approvals may have lapsed while it waited.
    if crate::service::requests::lapse_one(&state.db, &row, now).await? {
        return Ok(());
    }
    if let Some(at) = row.scheduled_at.filter(|at| *at > now) {
        let note = format!("scheduled for {}", format_ms(at));
        d::release(&state.db.pool, job.id, at, 0, &note).await?;
        return Ok(());
    }
    let policy: Policy = serde_json::from_str(&row.policy)?;
    let active = state.catalog.current();
    let (until, note) = match dispatch_gate(
        &active.catalog,
        &policy.windows,
        &row.application_id,
        &row.environment_id,
        now,
    ) {
        Gate::Open => return advance(state, job, &row).await,
        Gate::WaitUntil { at_ms, reason } => (
            at_ms,
            format!("waiting for window until {} ({reason})", format_ms(at_ms)),
        ),
        Gate::Never { reason } => (now + 3_600_000, format!("cannot be deployed: {reason}")),
    };
    let mut tx = state.db.write().await?;
    if note != job.note {
        q::event(
            &mut tx,
            row.id,
            None,
            "waiting_for_window",
            &json!({ "note": note }),
            now,
        )
        .await?;
    }
    d::release(&mut **tx, job.id, until, 0, &note).await?;
    tx.commit_unseen().await?;
    Ok(())
}

fn binding_of(state: &AppState, row: &RequestRow) -> Option<CiBinding> {
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
fn values(row: &RequestRow, step: &str) -> BTreeMap<String, String> {
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
    if let Ok(fields) = serde_json::from_str::<BTreeMap<String, serde_json::Value>>(&row.fields) {
        for (k, value) in fields {
            let text = match value {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            v.insert(format!("fields.{k}"), text);
        }
    }
    v
}

/// Retries wait 2, 4, 8 … seconds, at most five minutes.
pub fn backoff_ms(attempt: i64) -> i64 {
    let exp = u32::try_from(attempt.clamp(1, 20)).unwrap_or(20);
    2_i64.saturating_pow(exp).saturating_mul(1000).min(300_000)
}

/// Moves the request's CI steps on: starts the next one, or looks at the running one.
async fn advance(state: &AppState, job: &Job, row: &RequestRow) -> Result<()> {
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
                d::finish(&state.db.pool, job.id, "failed", "").await?;
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
                    d::release(&state.db.pool, job.id, now, job.attempts, &job.note).await?;
                    return Ok(());
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
                let next = if step == "provision" {
                    State::Provisioning
                } else {
                    State::Deploying
                };
                q::set_state(&mut tx, row.id, next.as_str()).await?;
                q::event(
                    &mut tx,
                    row.id,
                    None,
                    "step_started",
                    &json!({ "step": step, "connector": binding.connector.as_str(), "target": ci_job.target }),
                    now,
                )
                .await?;
                tx.commit().await?;
                crash_point("after_triggering");
                let _ = state.changes.send(row.id);
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
    q::set_state(&mut tx, row.id, State::Succeeded.as_str()).await?;
    q::event(
        &mut tx,
        row.id,
        None,
        "deployed",
        &json!({ "reason": "every CI step succeeded" }),
        now,
    )
    .await?;
    d::finish(&mut **tx, job.id, "done", "").await?;
    tx.commit().await?;
    tracing::info!(request = row.id, "deployed");
    Ok(())
}

/// For crash tests: when `RUNWAY_CRASH_AT` names this point (`point`, or `point:n` for its n-th
/// passage in this process), the process kills itself with SIGKILL there (no clean-up, no flush),
/// as a power cut or an OOM kill would. Points: `after_claim`, `after_triggering` (the run is
/// recorded as triggering), `after_trigger` (the CI accepted it), `after_recorded` (its reference
/// is stored), `after_poll` (a status is stored).
fn crash_point(point: &str) {
    static PASSED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let Ok(wanted) = std::env::var("RUNWAY_CRASH_AT") else {
        return;
    };
    let (name, nth) = wanted
        .split_once(':')
        .map_or((wanted.as_str(), 1), |(n, c)| (n, c.parse().unwrap_or(1)));
    if name == point && PASSED.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1 == nth {
        tracing::error!(point, "RUNWAY_CRASH_AT: killing the process");
        let _ =
            rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::KILL);
    }
}

/// Calls the CI for a run recorded as `triggering`; after a crash (`recovering`), first looks
/// for a run with its key.
async fn trigger(
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
            q::event(
                &mut tx,
                row.id,
                None,
                "ci_retry",
                &json!({ "step": run.step, "attempt": attempts, "next_at": format_ms(next), "error": error }),
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
async fn poll(
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
            d::release(&state.db.pool, job.id, next, attempts, &note).await?;
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
            q::event(
                &mut tx,
                row.id,
                None,
                "step_succeeded",
                &json!({ "step": run.step }),
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

/// Fails the request at `step` with the CI's own message.
async fn fail(
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
        d::update_run(
            &mut **tx,
            run.id,
            &RunUpdate {
                state: RunState::Failed.as_str(),
                run_ref: None,
                url: None,
                log_tail: &run.log_tail,
                message,
                finished_at: Some(now),
                now,
            },
        )
        .await?;
    }
    fail_in(&mut tx, state, job, row, step, message, now).await?;
    tx.commit().await?;
    Ok(())
}

async fn fail_in(
    tx: &mut d::Tx<'_>,
    state: &AppState,
    job: &Job,
    row: &RequestRow,
    step: &str,
    message: &str,
    now: i64,
) -> Result<()> {
    q::set_state(tx, row.id, State::Failed.as_str()).await?;
    q::event(
        tx,
        row.id,
        None,
        "step_failed",
        &json!({ "step": step, "message": message }),
        now,
    )
    .await?;
    d::finish(&mut **tx, job.id, "failed", message).await?;
    crate::service::tickets::raise(
        tx,
        &state.catalog.current().catalog,
        row,
        &[TicketTrigger::DeployFailed, TicketTrigger::StageFailed],
        &format!(
            "{} failed",
            if step == "provision" {
                "Provisioning"
            } else {
                "Deployment"
            }
        ),
        message,
        now,
    )
    .await?;
    tracing::warn!(request = row.id, step, message, "deployment failed");
    Ok(())
}

/// Why operations may not retry or cancel.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Storage(#[from] sqlx::Error),
}

fn ops_only(is_ops: bool) -> std::result::Result<(), ControlError> {
    if is_ops {
        Ok(())
    } else {
        Err(ControlError::Forbidden(
            "Only operations may retry or cancel a deployment.".into(),
        ))
    }
}

/// Takes the request for an operations action made on `revision`: checks the role, claims the
/// revision and reads the request, in the transaction the action then completes.
async fn take(
    state: &AppState,
    is_ops: bool,
    request_id: i64,
    revision: i64,
) -> std::result::Result<(crate::db::Write, RequestRow, i64), ControlError> {
    ops_only(is_ops)?;
    let now = now_ms();
    let mut tx = state.db.write().await?;
    if !q::bump_revision(&mut tx, request_id, revision, now).await? {
        return Err(changed_meanwhile());
    }
    let row = q::get(&mut **tx, request_id)
        .await?
        .ok_or_else(|| ControlError::Conflict(format!("There is no request {request_id}.")))?;
    Ok((tx, row, now))
}

fn changed_meanwhile() -> ControlError {
    ControlError::Conflict(
        "This request changed while you were looking at it; reload to see where it stands.".into(),
    )
}

/// Operations retry the step that failed: a new run of it (attempt n + 1), after the same
/// checks of schedule, windows and freezes as the first time.
pub async fn retry(
    state: &AppState,
    user: &crate::db::users::User,
    is_ops: bool,
    request_id: i64,
    revision: i64,
) -> std::result::Result<String, ControlError> {
    let (mut tx, row, now) = take(state, is_ops, request_id, revision).await?;
    let failed = d::runs(&mut **tx, request_id)
        .await?
        .into_iter()
        .rev()
        .find(|r| r.state == "failed" || r.state == "cancelled");
    let (Some(State::Failed), Some(failed)) = (State::parse(&row.state), failed) else {
        return Err(ControlError::Conflict(
            "Only a request whose CI step failed can be retried.".into(),
        ));
    };
    let attempt = failed.attempt + 1;
    d::insert_retry(&mut tx, &failed, attempt, now).await?;
    q::set_state(&mut tx, request_id, State::Approved.as_str()).await?;
    q::event(
        &mut tx,
        request_id,
        Some(user.id),
        "retry_requested",
        &json!({ "step": failed.step, "attempt": attempt }),
        now,
    )
    .await?;
    q::enqueue_dispatch(&mut tx, request_id, now, now).await?;
    tx.commit().await?;
    Ok(format!(
        "{} will run again (attempt {attempt}).",
        step_name_of(&failed.step)
    ))
}

fn step_name_of(step: &str) -> &str {
    if step == "provision" {
        "Provisioning"
    } else {
        "The deployment"
    }
}

/// Operations cancel a running deployment: the request ends `cancelled` and its CI run is
/// stopped on the CI server.
pub async fn cancel_run(
    state: &AppState,
    user: &crate::db::users::User,
    is_ops: bool,
    request_id: i64,
    revision: i64,
    reason: &str,
) -> std::result::Result<String, ControlError> {
    let limit = crate::service::requests::MAX_REASON;
    if let Some(p) = crate::domain::text::line_problem(reason.trim(), limit) {
        return Err(ControlError::Invalid(format!("Reason: {p}")));
    }
    let (mut tx, row, now) = take(state, is_ops, request_id, revision).await?;
    if !matches!(
        State::parse(&row.state),
        Some(State::Provisioning | State::Deploying)
    ) {
        return Err(ControlError::Conflict(
            "Only a deployment in progress can be cancelled.".into(),
        ));
    }
    // The job first: it waits for a worker writing what the CI answered, so the run read next
    // is the latest, reference included.
    d::cancel_job(&mut tx, request_id).await?;
    let running = d::runs(&mut **tx, request_id)
        .await?
        .into_iter()
        .rev()
        .find(|r| !matches!(r.state.as_str(), "succeeded" | "failed" | "cancelled"));
    q::set_state(&mut tx, request_id, State::Cancelled.as_str()).await?;
    q::event(
        &mut tx,
        request_id,
        Some(user.id),
        "cancelled",
        &json!({ "reason": reason.trim(), "step": running.as_ref().map(|r| r.step.clone()) }),
        now,
    )
    .await?;
    if let Some(run) = &running {
        d::update_run(
            &mut **tx,
            run.id,
            &RunUpdate {
                state: RunState::Cancelled.as_str(),
                run_ref: None,
                url: None,
                log_tail: &run.log_tail,
                message: &format!("cancelled from the portal by {}", user.display_name),
                finished_at: Some(now),
                now,
            },
        )
        .await?;
    }
    tx.commit().await?;
    // The request is cancelled whatever the CI says; stopping the run is the CI's part.
    let stopped = match (running, binding_of(state, &row)) {
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
