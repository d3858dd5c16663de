//! Approvals over time: requests whose approvals lapsed go back to approval, and whom each
//! waiting request asks is recomputed at start-up.

use super::error::Result;
use super::lifecycle::{change, load, subject, Loaded};
use crate::db::requests::{self as q, RequestRow};
use crate::db::{now_ms, Db};
use crate::domain::approval;
use crate::domain::lifecycle::{self, Event};
use crate::domain::Catalog;

/// Recomputes whom every request waiting for approval asks, in one transaction: at start-up, so
/// requests stored by an earlier version (or seeded directly) are in the queue.
pub async fn settle_all(db: &Db) -> Result<usize> {
    let now = now_ms();
    let mut tx = db.write().await?;
    crate::db::queue::clear_stale_waits(&mut tx).await?;
    let pending = crate::db::queue::all_pending(&mut tx).await?;
    for (row, decisions) in &pending {
        let approvals = super::lifecycle::approvals(decisions);
        let eval = approval::evaluate(&row.policy, row.requester_id, &approvals, now);
        let teams = approval::teams_to_ask(&row.policy, &eval);
        crate::db::queue::set_waits(&mut tx, row.id, &teams).await?;
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
