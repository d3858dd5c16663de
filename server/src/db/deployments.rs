//! Deployments that ended, kept for the delivery metrics: one row each (a request retried after
//! a failure has one per attempt that ended), written by the apply step in the transaction that
//! ended it, with where its lead time went (see `domain::lead_time`).

use super::requests::{self as q, Tx};
use super::{audit, decisions, Db};
use crate::domain::audit::AuditEvent;
use crate::domain::dora::Deployment;
use crate::domain::lead_time::{self, Breakdown, Decided};
use sqlx::any::AnyRow;
use sqlx::Row;

/// Keeps the deployment of `request_id` that ended at `now` (see `db::apply`).
pub(super) async fn record(
    tx: &mut Tx<'_>,
    request_id: i64,
    succeeded: bool,
    now: i64,
) -> Result<(), sqlx::Error> {
    let (events, decided) = timeline(tx, request_id).await?;
    keep(tx, request_id, succeeded, now, &events, &decided).await
}

/// The pipeline said when the change was committed: the earliest time said is kept, on the
/// request and on the deployments it has had.
pub(super) async fn commit_time(
    tx: &mut Tx<'_>,
    request_id: i64,
    at: i64,
) -> Result<(), sqlx::Error> {
    for table in ["requests", "deployments"] {
        sqlx::query(&format!(
            "update {table} set commit_at = $2 \
              where request_id = $1 and (commit_at is null or commit_at > $2)"
        ))
        .bind(request_id)
        .bind(at)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn timeline(
    tx: &mut Tx<'_>,
    request_id: i64,
) -> Result<(Vec<(AuditEvent, i64)>, Vec<Decided>), sqlx::Error> {
    let events = audit::events(&mut **tx, request_id)
        .await?
        .into_iter()
        .map(|e| (e.event, e.at))
        .collect();
    let decided = decisions::decisions(&mut **tx, request_id)
        .await?
        .into_iter()
        .filter(|d| !d.voided)
        .map(|d| Decided {
            stage: usize::try_from(d.stage).unwrap_or(usize::MAX),
            teams: d.teams,
            approve: d.verdict == "approve",
            at: d.decided_at,
        })
        .collect();
    Ok((events, decided))
}

/// Writes the deployment that ended at `end` with the timeline up to it; one already kept for
/// that moment (another replica's backfill) is left as it is.
async fn keep(
    tx: &mut Tx<'_>,
    request_id: i64,
    succeeded: bool,
    end: i64,
    events: &[(AuditEvent, i64)],
    decided: &[Decided],
) -> Result<(), sqlx::Error> {
    let Some(row) = q::get(&mut **tx, request_id).await? else {
        return Ok(());
    };
    let commit_at: Option<i64> =
        sqlx::query_scalar("select commit_at from requests where request_id = $1")
            .bind(request_id)
            .fetch_one(&mut **tx)
            .await?;
    let b: Breakdown =
        lead_time::breakdown(row.created_at, end, events, decided, &row.policy.stages);
    let id: Option<i64> = sqlx::query_scalar(
        "insert into deployments (request_id, application_id, environment_id, version, \
         requested_at, commit_at, finished_at, succeeded, approval_ms, waiting_ms, provision_ms, \
         deploy_ms) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         on conflict (request_id, finished_at) do nothing returning deployment_id",
    )
    .bind(request_id)
    .bind(&row.application_id)
    .bind(&row.environment_id)
    .bind(&row.version)
    .bind(row.created_at)
    .bind(commit_at)
    .bind(end)
    .bind(i64::from(succeeded))
    .bind(b.approval_ms)
    .bind(b.waiting_ms)
    .bind(b.provision_ms)
    .bind(b.deploy_ms)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(id) = id else { return Ok(()) };
    let waits = b.stages.iter().map(|w| ("stage", w));
    for (kind, (name, ms)) in waits.chain(b.teams.iter().map(|w| ("team", w))) {
        sqlx::query(
            "insert into deployment_waits (deployment_id, kind, name, ms) values ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(kind)
        .bind(name)
        .bind(*ms)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Keeps the deployments that ended before deployments were kept, read again from the requests'
/// audit trails: once, when none is kept yet. The number of requests read.
pub async fn backfill(db: &Db) -> Result<usize, sqlx::Error> {
    let any: Option<i64> = sqlx::query_scalar("select deployment_id from deployments limit 1")
        .fetch_optional(&db.pool)
        .await?;
    if any.is_some() {
        return Ok(0);
    }
    let ids: Vec<i64> = sqlx::query_scalar(
        "select distinct request_id from request_events \
          where kind in ('deployed', 'step_failed', 'pipeline_state') order by request_id",
    )
    .fetch_all(&db.pool)
    .await?;
    for id in &ids {
        let mut tx = db.write().await?;
        let (events, decided) = timeline(&mut tx, *id).await?;
        for (i, (event, at)) in events.iter().enumerate() {
            let succeeded = match event {
                AuditEvent::Deployed { .. } => true,
                AuditEvent::StepFailed { .. } => false,
                AuditEvent::PipelineState { state, .. } if state == "succeeded" => true,
                AuditEvent::PipelineState { state, .. } if state == "failed" => false,
                _ => continue,
            };
            let before: Vec<Decided> = decided.iter().filter(|d| d.at <= *at).cloned().collect();
            keep(&mut tx, *id, succeeded, *at, &events[..=i], &before).await?;
        }
        tx.commit().await?;
    }
    Ok(ids.len())
}

const COLUMNS: &str = "d.deployment_id, d.request_id, d.application_id, d.environment_id, \
    d.version, d.requested_at, d.commit_at, d.finished_at, d.succeeded, d.approval_ms, \
    d.waiting_ms, d.provision_ms, d.deploy_ms";

/// The deployments to `environment` of `applications` that ended at `since` or later, oldest
/// first, each marked when an incident was opened on its request.
pub async fn since(
    db: &Db,
    applications: &[String],
    environment: &str,
    since: i64,
) -> Result<Vec<Deployment>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "select {COLUMNS}, exists (select 1 from tickets t \
                 where t.request_id = d.request_id and t.kind = 'incident') as incident \
           from deployments d where d.environment_id = $1 and d.finished_at >= $2 \
          order by d.finished_at, d.deployment_id"
    ))
    .bind(environment)
    .bind(since)
    .fetch_all(&db.pool)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let application: String = r.try_get("application_id")?;
        if applications.contains(&application) {
            out.push(deployment(r, application)?);
        }
    }
    Ok(out)
}

fn deployment(r: &AnyRow, application: String) -> Result<Deployment, sqlx::Error> {
    let succeeded = r.try_get::<i64, _>("succeeded")? != 0;
    Ok(Deployment {
        id: r.try_get("deployment_id")?,
        request_id: r.try_get("request_id")?,
        application,
        environment: r.try_get("environment_id")?,
        version: r.try_get("version")?,
        requested_at: r.try_get("requested_at")?,
        commit_at: r.try_get("commit_at")?,
        finished_at: r.try_get("finished_at")?,
        succeeded,
        // An incident is remediation of what was deployed: it marks the request's successes.
        incident: succeeded && flag(r, "incident")?,
        segments: [
            r.try_get("approval_ms")?,
            r.try_get("waiting_ms")?,
            r.try_get("provision_ms")?,
            r.try_get("deploy_ms")?,
        ],
    })
}

/// A boolean column: an integer on SQLite, a boolean on PostgreSQL.
fn flag(r: &AnyRow, column: &str) -> Result<bool, sqlx::Error> {
    r.try_get::<bool, _>(column)
        .or_else(|_| r.try_get::<i64, _>(column).map(|v| v != 0))
}

/// One approval stage's or approver team's wait in a successful deployment: the deployment, the
/// kind (`stage` or `team`), the name, the milliseconds.
pub type Wait = (i64, String, String, i64);

/// The waits of the successful deployments to `environment` that ended in `[from, to)`.
pub async fn waits(
    db: &Db,
    environment: &str,
    from: i64,
    to: i64,
) -> Result<Vec<Wait>, sqlx::Error> {
    let rows = sqlx::query(
        "select w.deployment_id, w.kind, w.name, w.ms from deployment_waits w \
           join deployments d on d.deployment_id = w.deployment_id \
          where d.environment_id = $1 and d.finished_at >= $2 and d.finished_at < $3 \
            and d.succeeded = 1",
    )
    .bind(environment)
    .bind(from)
    .bind(to)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("deployment_id")?,
                r.try_get("kind")?,
                r.try_get("name")?,
                r.try_get("ms")?,
            ))
        })
        .collect()
}
