//! The dispatch worker: takes approved requests from the outbox, waits for their time, window
//! and freeze, then runs their CI steps (provision, then deploy) and follows each to its end.
//!
//! Exactly once: a step's run is recorded as `triggering` (in the same transaction as the
//! request's move to provisioning/deploying) before the CI is called. A job whose worker
//! crashed is claimed again when its lease runs out, and a `triggering` run is first looked up
//! on the CI by its key, so it is never started twice.

mod crash;
mod endings;
mod runs;
mod steps;

pub use crash::crash_point;
pub use steps::{backoff_ms, binding_of};

use crate::db::dispatch::{self as d, Job};
use crate::db::now_ms;
use crate::db::outbox::WAITING_FOR_TURN;
use crate::db::requests as q;
use crate::db::turns::in_background;
use crate::domain::format_ms;
use crate::domain::lifecycle::Event;
use crate::domain::request::State;
use crate::domain::schedule::{dispatch_gate, Gate};
use crate::service::error::Result;
use crate::service::lifecycle::record;
use crate::state::AppState;
use std::time::Duration;
use tokio::sync::broadcast::error::TryRecvError;
use tokio::task::JoinSet;

/// How long a claimed job stays with its worker without news before another may take it.
pub(super) const LEASE_MS: i64 = 60_000;
/// How often a running CI run is looked at.
const POLL_MS: i64 = 1_000;
/// The longest sleep between two looks at the outbox when nothing is due.
const IDLE: Duration = Duration::from_secs(5);

/// Runs the worker until the task is aborted.
///
/// Claimed jobs run side by side (each holds its own lease, so two never touch one request): a
/// request approved while another one's CI run is being looked at is dispatched at once instead
/// of waiting its turn.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        // Every change to a request (an approval above all) wakes the worker at once.
        let mut changes = state.db.changes.subscribe();
        let mut running = JoinSet::new();
        let mut woken = Vec::new();
        loop {
            // The requests that changed are claimed first, even when every slot is taken by
            // runs being looked at; the announcements are read again between two claims, so an
            // approval never waits behind a row of polls.
            take_waiting(&mut changes, &mut woken);
            if !woken.is_empty() {
                claim_woken(&state, &mut running, &woken).await;
                woken.clear();
            }
            if running.len() < PARALLEL && claim(&state, &mut running, None).await {
                continue;
            }
            let wait = if running.len() >= PARALLEL {
                // Due jobs wait for a free slot, not for the clock.
                IDLE
            } else {
                until_next_due(&state).await
            };
            tokio::select! {
                changed = changes.recv() => woken.extend(changed.ok().filter(|&id| id > 0)), // not inboxes
                Some(_) = running.join_next(), if !running.is_empty() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    })
}

/// Every announcement waiting, without waiting for more.
fn take_waiting(changes: &mut tokio::sync::broadcast::Receiver<i64>, woken: &mut Vec<i64>) {
    loop {
        match changes.try_recv() {
            Ok(request) if request > 0 => woken.push(request),
            // A person's inbox: nothing to dispatch.
            Ok(_) => {}
            // Missed ones are of requests the next claims find anyway.
            Err(TryRecvError::Lagged(_)) => {}
            Err(_) => return,
        }
    }
}

/// How many claimed jobs one worker handles at once.
const PARALLEL: usize = 8;

async fn until_next_due(state: &AppState) -> Duration {
    match d::next_due(&state.db).await {
        Ok(Some(at)) => {
            Duration::from_millis(u64::try_from((at - now_ms()).max(0)).unwrap_or(0)).min(IDLE)
        }
        Ok(None) => IDLE,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the dispatch outbox");
            IDLE
        }
    }
}

/// Claims the due jobs of the requests that just changed.
async fn claim_woken(state: &AppState, running: &mut JoinSet<()>, woken: &[i64]) {
    let mut woken = woken.to_vec();
    woken.sort_unstable();
    woken.dedup();
    match d::due_among(&state.db, now_ms(), &woken).await {
        Ok(due) => {
            for request in due {
                claim(state, running, Some(request)).await;
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot read the dispatch outbox"),
    }
}

/// Claims one due job (of `only` that request) and starts it on its own task; whether one was.
async fn claim(state: &AppState, running: &mut JoinSet<()>, only: Option<i64>) -> bool {
    let job = match d::claim(&state.db, now_ms(), LEASE_MS, only).await {
        Ok(Some(job)) => job,
        Ok(None) => return false,
        Err(e) => {
            tracing::warn!(error = %e, "cannot claim a dispatch job");
            return false;
        }
    };
    crash_point("after_claim");
    let state = state.clone();
    // The job of a request that just changed is a person's doing (an approval above all): its
    // writes go as a person's would. The rest (runs being looked at, retries) give way. The
    // claims themselves are the loop's, one at a time: it never queues behind the jobs.
    if only.is_some() {
        running.spawn(async move { run_job(&state, &job).await });
    } else {
        running.spawn(in_background(async move { run_job(&state, &job).await }));
    }
    true
}

/// Handles one claimed job; a failure hands it back to the outbox for a later try.
async fn run_job(state: &AppState, job: &Job) {
    let request = job.request_id;
    if let Err(e) = handle(state, job).await {
        tracing::error!(request, error = %e, "dispatch step failed; trying again shortly");
        let _ = d::release_now(&state.db, job.id, now_ms() + 5_000, job.attempts, &job.note).await;
    }
    // The job's own progress (a note, a retry planned) shows on the live pages too.
    let _ = state.db.changes.send(request);
}

async fn handle(state: &AppState, job: &Job) -> Result<()> {
    let now = now_ms();
    let Some(row) = q::get(&state.db.pool, job.request_id).await? else {
        d::finish_now(&state.db, job.id, "cancelled", "the request is gone").await?;
        return Ok(());
    };
    match row.state {
        State::Approved | State::Scheduled => {}
        State::Provisioning | State::Deploying => return steps::advance(state, job, &row).await,
        _ => {
            // Cancelled, rejected, sent back to approval, or already finished: nothing to do.
            d::finish_now(&state.db, job.id, "done", "").await?;
            return Ok(());
        }
    }
    // Approvals may have lapsed while it waited.
    let active = state.catalog.current();
    if crate::service::approvals::lapse_one(&state.db, &active.catalog, &row, now).await? {
        return Ok(());
    }
    if let Some(at) = row.scheduled_at.filter(|at| *at > now) {
        let note = format!("scheduled for {}", format_ms(at));
        d::release_now(&state.db, job.id, at, 0, &note).await?;
        return Ok(());
    }
    let (until, note) = match dispatch_gate(
        &active.catalog,
        &row.policy,
        &row.application_id,
        &row.environment_id,
        now,
    ) {
        Gate::Open => {
            let busy = q::in_flight(
                &state.db.pool,
                &row.application_id,
                &row.environment_id,
                row.id,
            )
            .await?;
            let Some((other, version)) = busy else {
                return steps::advance(state, job, &row).await;
            };
            let note = format!("{WAITING_FOR_TURN}{other} ({version}) to finish deploying");
            let event = Event::WaitingForTurn { note: note.clone() };
            return hold(state, job, row.id, &event, now + TURN_MS, &note).await;
        }
        Gate::WaitUntil { at_ms, reason } => (
            at_ms,
            format!("waiting for window until {} ({reason})", format_ms(at_ms)),
        ),
        Gate::Never { reason } => (now + 3_600_000, format!("cannot be deployed: {reason}")),
    };
    let event = Event::WaitingForWindow { note: note.clone() };
    hold(state, job, row.id, &event, until, &note).await
}

/// How long a deployment waiting for another of its target waits before it looks again, unless
/// the other's end wakes it first (`Effect::NextInLine`).
pub(crate) const TURN_MS: i64 = 30_000;

/// Hands the job back until `until`, saying why on the request's timeline when that is news.
async fn hold(
    state: &AppState,
    job: &Job,
    request: i64,
    event: &Event,
    until: i64,
    note: &str,
) -> Result<()> {
    let now = now_ms();
    let mut tx = state.db.write().await?;
    if note != job.note {
        record(
            &mut tx,
            &state.catalog.current().catalog,
            request,
            event,
            now,
        )
        .await?;
    }
    d::release(&mut **tx, job.id, until, 0, note).await?;
    tx.commit_unseen().await?;
    Ok(())
}
