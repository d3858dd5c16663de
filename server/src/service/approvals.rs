//! Approvals over time: requests whose approvals lapsed go back to approval, approvers of a
//! request that waits too long are reminded and the policy's team told, and whom each waiting
//! request asks is recomputed at start-up.

use super::error::Result;
use super::lifecycle::{change, load, subject, Loaded};
use crate::db::apply::{apply, Target};
use crate::db::requests::{self as q, RequestRow};
use crate::db::{now_ms, Db};
use crate::domain::approval;
use crate::domain::lifecycle::{self, Event};
use crate::domain::Catalog;

/// Recomputes whom every request waiting for approval asks, in one transaction: at start-up, so
/// requests stored by an earlier version (or seeded directly) are in the queue. Those that waited
/// before their policy had reminders get their clocks from now, as if their stage had just been
/// reached (the catalog's windows may count).
pub async fn settle_all(db: &Db, catalog: &Catalog) -> Result<usize> {
    let now = now_ms();
    let mut tx = db.write().await?;
    crate::db::queue::clear_stale_waits(&mut tx).await?;
    let pending = crate::db::queue::all_pending(&mut tx).await?;
    for (row, decisions) in &pending {
        let approvals = super::lifecycle::approvals(decisions);
        let eval = approval::evaluate(&row.policy, row.requester_id, &approvals, now);
        let teams = approval::teams_to_ask(&row.policy, &eval);
        crate::db::queue::set_waits(&mut tx, row.id, &teams).await?;
        let c = &row.policy.chasing;
        if c.is_off() {
            continue;
        }
        let windows: &[String] = if c.in_windows {
            &row.policy.windows
        } else {
            &[]
        };
        let at = |secs: Option<i64>| {
            secs.and_then(|s| crate::domain::schedule::counted_after(catalog, windows, now, s))
        };
        let escalate = c.escalate_to.as_ref().and(c.escalate_after_secs);
        let (remind_at, escalate_at) = (at(c.remind_after_secs), at(escalate));
        crate::db::chases::start_if_absent(&mut tx, row.id, remind_at, escalate_at).await?;
    }
    tx.commit().await?;
    Ok(pending.len())
}

/// Sends back to approval every approved request whose approvals lapsed (the policy's approval
/// lifetime) before its dispatch started. Returns the requests it changed.
pub async fn lapse_approvals(db: &Db, catalog: &Catalog, now: i64) -> Result<Vec<i64>> {
    let mut lapsed = Vec::new();
    for row in crate::db::outbox::awaiting_dispatch(&db.pool).await? {
        if lapse_one(db, catalog, &row, now).await? {
            lapsed.push(row.id);
        }
    }
    Ok(lapsed)
}

/// Sends `row` back to approval when its approvals lapsed before dispatch; true when it did.
pub async fn lapse_one(db: &Db, catalog: &Catalog, row: &RequestRow, now: i64) -> Result<bool> {
    if row.policy.stages.is_empty() || row.policy.approval_lifetime_secs.is_none() {
        return Ok(false);
    }
    // Read first: most of the time the approvals still hold, and nothing is written.
    let decisions = crate::db::decisions::decisions(&db.pool, row.id).await?;
    let seen = subject(row, &decisions, false);
    if lifecycle::transition(&seen, &Event::ApprovalsLapsed, &row.policy, now).is_err() {
        return Ok(false);
    }
    let mut tx = db.write().await?;
    // Another replica, an edit or a cancellation got there first: leave it to them.
    if !q::bump_revision(&mut tx, row.id, row.revision, now).await? {
        return Ok(false);
    }
    let loaded: Loaded = load(&mut tx, row.id).await?;
    change(&mut tx, catalog, &loaded, &Event::ApprovalsLapsed, now).await?;
    tx.commit().await?;
    tracing::info!(
        request = row.id,
        "approvals lapsed; the request needs them again"
    );
    Ok(true)
}

/// Reminds the approvers of every request waiting past its policy's `remind_after`, and tells
/// the `escalate_to` team of those past `escalate_after`. Returns how many requests it changed.
/// Replicas may sweep at once: each overdue request is taken by one of them.
pub async fn chase_overdue(db: &Db, catalog: &Catalog, now: i64) -> Result<usize> {
    let mut changed = 0;
    for overdue in crate::db::chases::overdue(&db.pool, now, 200).await? {
        let mut tx = db.write().await?;
        if !crate::db::chases::claim(&mut tx, &overdue).await? {
            continue;
        }
        let loaded = load(&mut tx, overdue.request_id).await?;
        let event = Event::Overdue {
            remind_at: overdue.remind_at,
            escalate_at: overdue.escalate_at,
        };
        let Ok(t) = lifecycle::transition(&loaded.subject, &event, &loaded.row.policy, now) else {
            continue;
        };
        apply(&mut tx, catalog, Target::from(&loaded.row), &t, now).await?;
        tx.commit().await?;
        changed += 1;
    }
    Ok(changed)
}
