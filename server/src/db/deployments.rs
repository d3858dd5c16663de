//! Deployments that ended, kept for the delivery metrics: one row each (a request retried after
//! a failure has one per attempt that ended), written by the apply step in the transaction that
//! ended it, with where its lead time went (see `domain::lead_time`).

use super::requests::{self as q, placeholders, Tx};
use super::{audit, decisions, Db, DbKind};
use crate::domain::audit::AuditEvent;
use crate::domain::dora::Deployment;
use crate::domain::lead_time::{self, Breakdown, Decided};

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
    metrics_changed(tx).await?;
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

/// Counts a change to what the delivery metrics are computed from, in the transaction making
/// it: the Insights reports kept on every replica are computed again (see `service::reports`).
pub(super) async fn metrics_changed(tx: &mut Tx<'_>) -> Result<(), sqlx::Error> {
    sqlx::query("update metrics_counter set n = n + 1 where id = 1")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The count of changes to what the delivery metrics are computed from.
pub async fn metrics_counter(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("select n from metrics_counter where id = 1")
        .fetch_one(&db.pool)
        .await
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
    .bind(row.commit_at)
    .bind(end)
    .bind(i64::from(succeeded))
    .bind(b.approval_ms)
    .bind(b.waiting_ms)
    .bind(b.provision_ms)
    .bind(b.deploy_ms)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(id) = id else { return Ok(()) };
    metrics_changed(tx).await?;
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
        for (i, succeeded) in lead_time::endings(&events) {
            let at = events[i].1;
            let before: Vec<Decided> = decided.iter().filter(|d| d.at <= at).cloned().collect();
            keep(&mut tx, *id, succeeded, at, &events[..=i], &before).await?;
        }
        tx.commit().await?;
    }
    Ok(ids.len())
}

/// A kept deployment as it travels: id, request, application, environment, version, requested,
/// committed, finished, succeeded (0 or 1), with an incident (0 or 1), the four segments.
type Kept = (
    i64,
    i64,
    String,
    String,
    String,
    i64,
    Option<i64>,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
);

const KEPT: &str = "x.deployment_id, x.request_id, x.application_id, x.environment_id, x.version, \
    x.requested_at, x.commit_at, x.finished_at, x.succeeded, x.incident, x.approval_ms, \
    x.waiting_ms, x.provision_ms, x.deploy_ms, x.rollback";

/// The deployments to `environment` of `applications` that ended at `since` or later, oldest
/// first, each marked when an incident was opened on its request, and when its request was a
/// rollback.
pub async fn since(
    db: &Db,
    applications: &[String],
    environment: &str,
    since: i64,
) -> Result<Vec<Deployment>, sqlx::Error> {
    let rows = format!(
        "select d.*, case when exists (select 1 from tickets t \
                where t.request_id = d.request_id and t.kind = 'incident') then 1 else 0 end \
                as incident, \
            case when exists (select 1 from requests r \
                where r.request_id = d.request_id and r.change_kind = 'rollback') then 1 else 0 end \
                as rollback \
           from deployments d where d.environment_id = $1 and d.finished_at >= $2 \
            and d.application_id in ({})",
        placeholders(2, applications.len())
    );
    let kept: Vec<Kept> = json_rows(db, KEPT, &rows, environment, &[since], applications).await?;
    let mut out: Vec<Deployment> = kept.into_iter().map(deployment).collect();
    out.sort_unstable_by_key(|d| (d.finished_at, d.id));
    Ok(out)
}

fn deployment(k: Kept) -> Deployment {
    let succeeded = k.8 != 0;
    Deployment {
        id: k.0,
        request_id: k.1,
        application: k.2,
        environment: k.3,
        version: k.4,
        requested_at: k.5,
        commit_at: k.6,
        finished_at: k.7,
        succeeded,
        // An incident is remediation of what was deployed: it marks the request's successes.
        incident: succeeded && k.9 != 0,
        segments: [k.10, k.11, k.12, k.13],
        rollback: k.14 != 0,
    }
}

/// One approval stage's or approver team's wait in a successful deployment: the deployment, the
/// kind (`stage` or `team`), the name, the milliseconds.
pub type Wait = (i64, String, String, i64);

/// The waits of the successful deployments to `environment` of `applications` that ended in
/// `[from, to)`.
pub async fn waits(
    db: &Db,
    applications: &[String],
    environment: &str,
    from: i64,
    to: i64,
) -> Result<Vec<Wait>, sqlx::Error> {
    let rows = format!(
        "select w.deployment_id, w.kind, w.name, w.ms from deployment_waits w \
           join deployments d on d.deployment_id = w.deployment_id \
          where d.environment_id = $1 and d.finished_at >= $2 and d.finished_at < $3 \
            and d.succeeded = 1 and d.application_id in ({})",
        placeholders(3, applications.len())
    );
    let columns = "x.deployment_id, x.kind, x.name, x.ms";
    json_rows(db, columns, &rows, environment, &[from, to], applications).await
}

/// The rows of `rows` (see `json_query`), bound to the environment, the `moments` and the
/// `applications` in that order; none without an application.
async fn json_rows<T: serde::de::DeserializeOwned>(
    db: &Db,
    columns: &str,
    rows: &str,
    environment: &str,
    moments: &[i64],
    applications: &[String],
) -> Result<Vec<T>, sqlx::Error> {
    if applications.is_empty() {
        return Ok(Vec::new());
    }
    let sql = json_query(db.kind, columns, rows);
    let mut query = sqlx::query_scalar::<_, String>(&sql).bind(environment);
    for moment in moments {
        query = query.bind(*moment);
    }
    for application in applications {
        query = query.bind(application);
    }
    let json = query.fetch_one(&db.pool).await?;
    serde_json::from_str(&json).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

/// A query answering the rows of `rows` as one JSON text value, an array holding for each
/// row the array of `columns` (expressions over the subquery's alias `x`). Decoding a row
/// through the Any driver costs about a microsecond per value, so thousands of rows read for
/// a computation come back this way in a fraction of the time.
fn json_query(kind: DbKind, columns: &str, rows: &str) -> String {
    match kind {
        DbKind::Sqlite => {
            format!("select json_group_array(json_array({columns})) from ({rows}) x")
        }
        DbKind::Postgres => format!(
            "select coalesce(json_agg(json_build_array({columns})), '[]')::text from ({rows}) x"
        ),
    }
}
