//! How every use case changes a request: load it once (row and decisions), run the event through
//! the pure lifecycle, apply the transition in the same transaction, commit. Announcing the
//! change is one of its effects, sent once the transaction commits.

use super::error::{Error, Result};
use crate::db::apply::{apply, Target};
use crate::db::decisions::{self, DecisionRow};
use crate::db::requests::{self as q, RequestRow};
use crate::db::Write;
use crate::domain::approval::Approval;
use crate::domain::lifecycle::{self, Effect, Event, Subject, Transition};
use crate::domain::Catalog;

/// A request read for a change.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub row: RequestRow,
    pub decisions: Vec<DecisionRow>,
    pub subject: Subject,
}

/// The approvals among `rows`, as the approval rules read them.
pub fn approvals(rows: &[DecisionRow]) -> Vec<Approval> {
    rows.iter()
        .filter(|d| d.verdict == "approve")
        .map(|d| Approval {
            user_id: d.user_id,
            teams: d.teams.clone(),
            stage: usize::try_from(d.stage).unwrap_or(usize::MAX),
            at_ms: d.decided_at,
            voided: d.voided,
            acted_by: d.acted_by,
        })
        .collect()
}

/// The request as the lifecycle sees it.
pub fn subject(row: &RequestRow, decisions: &[DecisionRow], retryable: bool) -> Subject {
    Subject {
        state: Some(row.state),
        requester_id: row.requester_id,
        scheduled_at: row.scheduled_at,
        self_deploy: row.self_deploy,
        approvals: approvals(decisions),
        retryable,
    }
}

/// Reads `id` with its decisions, in the transaction of the change.
pub async fn load(tx: &mut Write, id: i64) -> Result<Loaded> {
    let row = q::get(&mut ***tx, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("There is no request {id}.")))?;
    let decisions = decisions::decisions(&mut ***tx, id).await?;
    let subject = subject(&row, &decisions, false);
    Ok(Loaded {
        row,
        decisions,
        subject,
    })
}

/// Takes `id` for a change made on `revision` and reads it; `meanwhile` says why not when
/// another change came first.
pub async fn claim(
    tx: &mut Write,
    id: i64,
    revision: i64,
    now: i64,
    meanwhile: &str,
) -> Result<Loaded> {
    let claimed = q::bump_revision(tx, id, revision, now).await?;
    let loaded = load(tx, id).await?;
    if claimed {
        Ok(loaded)
    } else {
        Err(Error::Conflict(meanwhile.to_owned()))
    }
}

/// Runs `event` through the lifecycle and applies what it says, in `tx`.
pub async fn change(
    tx: &mut Write,
    catalog: &Catalog,
    loaded: &Loaded,
    event: &Event,
    now: i64,
) -> Result<Transition> {
    let t = lifecycle::transition(&loaded.subject, event, &loaded.row.policy, now)?;
    apply(tx, catalog, Target::from(&loaded.row), &t, now).await?;
    Ok(t)
}

/// Loads `id` and runs `event` on it: for changes that come from the request's own progress
/// (the dispatch), not from a person who saw a revision.
pub async fn record(
    tx: &mut Write,
    catalog: &Catalog,
    id: i64,
    event: &Event,
    now: i64,
) -> Result<Transition> {
    let loaded = load(tx, id).await?;
    change(tx, catalog, &loaded, event, now).await
}

/// The transition as the demo's made-up past keeps it: without what only makes sense live
/// (notices, a queued dispatch, reminders, announcements to open pages).
pub fn past(mut t: Transition) -> Transition {
    for e in &mut t.effects {
        if let Effect::RaiseTicket { quiet, .. } = e {
            *quiet = true;
        }
    }
    t.effects.retain(|e| {
        !matches!(
            e,
            Effect::Notify(_)
                | Effect::Enqueue { .. }
                | Effect::Reschedule { .. }
                | Effect::Withdraw
                | Effect::Chase { .. }
                | Effect::Announce
        )
    });
    t
}

/// `record` for the demo's made-up past, at `at`.
pub async fn record_past(
    tx: &mut Write,
    catalog: &Catalog,
    id: i64,
    event: &Event,
    at: i64,
) -> Result<Transition> {
    let loaded = load(tx, id).await?;
    let t = past(lifecycle::transition(
        &loaded.subject,
        event,
        &loaded.row.policy,
        at,
    )?);
    apply(tx, catalog, Target::from(&loaded.row), &t, at).await?;
    Ok(t)
}
