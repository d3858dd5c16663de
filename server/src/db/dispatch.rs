//! The dispatch outbox (jobs claimed with a lease) and the CI runs started for each request.

use super::{Db, DbKind};
use sqlx::{Any, Row};

pub type Tx<'a> = sqlx::Transaction<'a, Any>;

// The runs' rows, which the dispatch reads and writes beside its jobs.
pub use super::ci_runs::*;

#[derive(Debug, Clone)]
pub struct Job {
    pub id: i64,
    pub request_id: i64,
    pub attempts: i64,
    pub note: String,
}

/// A job that may be claimed: queued and due, or left by a worker that stopped renewing its
/// lease. `$1` is now.
const DUE: &str =
    "((state = 'queued' and due_at <= $1) or (state = 'running' and lease_until < $1))";

/// The requests among `ids` whose job may be claimed now.
pub async fn due_among(db: &Db, now: i64, ids: &[i64]) -> Result<Vec<i64>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "select request_id from dispatch_jobs where {DUE} and request_id in ({})",
        super::requests::placeholders(1, ids.len())
    );
    let mut query = sqlx::query_scalar(&sql).bind(now);
    for id in ids {
        query = query.bind(*id);
    }
    query.fetch_all(&db.pool).await
}

/// Claims the most overdue job for `lease_ms`: a queued one whose time has come, or one whose
/// worker stopped renewing its lease (a crash); the lease keeps other workers and replicas off
/// it. With `only`, the job of that request, if it is due: a request just approved is dispatched
/// at once rather than behind the runs being looked at.
pub async fn claim(
    db: &Db,
    now: i64,
    lease_ms: i64,
    only: Option<i64>,
) -> Result<Option<Job>, sqlx::Error> {
    let lock = match db.kind {
        DbKind::Postgres => "for update skip locked",
        DbKind::Sqlite => "",
    };
    let due = DUE;
    let of_request = if only.is_some() {
        "and request_id = $3"
    } else {
        ""
    };
    // A look for any due job reads first: most looks find nothing, and a claim is a write, which
    // takes its turn. (A claim of one request follows `due_among`, which has read already.)
    if only.is_none() {
        let look = format!("select dispatch_job_id from dispatch_jobs where {due} limit 1");
        let waiting: Option<i64> = sqlx::query_scalar(&look)
            .bind(now)
            .fetch_optional(&db.pool)
            .await?;
        if waiting.is_none() {
            return Ok(None);
        }
    }
    let sql = format!(
        "update dispatch_jobs set state = 'running', lease_until = $2 \
         where dispatch_job_id = (select dispatch_job_id from dispatch_jobs \
           where {due} {of_request} \
           order by due_at, dispatch_job_id limit 1 {lock}) \
         returning dispatch_job_id, request_id, attempts, note"
    );
    let mut tx = db.write().await?;
    let mut query = sqlx::query(&sql).bind(now).bind(now + lease_ms);
    if let Some(request) = only {
        query = query.bind(request);
    }
    let claimed = query.fetch_optional(&mut **tx).await?;
    tx.commit_unseen().await?;
    claimed
        .map(|r| {
            Ok(Job {
                id: r.try_get("dispatch_job_id")?,
                request_id: r.try_get("request_id")?,
                attempts: r.try_get("attempts")?,
                note: r.try_get("note")?,
            })
        })
        .transpose()
}

/// [`release`] on its own, on the one write path.
pub async fn release_now(
    db: &Db,
    job: i64,
    due_at: i64,
    attempts: i64,
    note: &str,
) -> Result<(), sqlx::Error> {
    let mut tx = db.write().await?;
    release(&mut **tx, job, due_at, attempts, note).await?;
    tx.commit_unseen().await
}

/// Hands the job back, due again at `due_at`, with what it waits for.
pub async fn release(
    exec: impl sqlx::Executor<'_, Database = Any>,
    job: i64,
    due_at: i64,
    attempts: i64,
    note: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update dispatch_jobs set state = 'queued', lease_until = null, due_at = $2, attempts = $3, note = $4 \
         where dispatch_job_id = $1 and state = 'running'",
    )
    .bind(job)
    .bind(due_at)
    .bind(attempts)
    .bind(note)
    .execute(exec)
    .await?;
    Ok(())
}

/// [`finish`] on its own, on the one write path.
pub async fn finish_now(db: &Db, job: i64, state: &str, note: &str) -> Result<(), sqlx::Error> {
    let mut tx = db.write().await?;
    finish(&mut **tx, job, state, note).await?;
    tx.commit_unseen().await
}

/// Ends the job: `done`, `failed` or `cancelled`.
pub async fn finish(
    exec: impl sqlx::Executor<'_, Database = Any>,
    job: i64,
    state: &str,
    note: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update dispatch_jobs set state = $2, lease_until = null, note = $3 \
         where dispatch_job_id = $1 and state = 'running'",
    )
    .bind(job)
    .bind(state)
    .bind(note)
    .execute(exec)
    .await?;
    Ok(())
}

/// Whether the worker still holds `job` (operations may have cancelled it meanwhile); in a
/// transaction, also locks the job row until the end of it, so a cancel waits for the worker's
/// write or the worker sees the cancel, never half of each.
pub async fn hold(tx: &mut Tx<'_>, job: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "update dispatch_jobs set note = note where dispatch_job_id = $1 and state = 'running'",
    )
    .bind(job)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Keeps the worker's claim on `job` until `until`: a look at several targets may outlast the
/// lease it was claimed with.
pub async fn renew(db: &Db, job: i64, until: i64) -> Result<(), sqlx::Error> {
    let mut tx = db.write().await?;
    sqlx::query(
        "update dispatch_jobs set lease_until = $2 where dispatch_job_id = $1 and state = 'running'",
    )
    .bind(job)
    .bind(until)
    .execute(&mut **tx)
    .await?;
    tx.commit_unseen().await
}

/// When the worker next has something to do: the earliest due job or expiring lease.
pub async fn next_due(db: &Db) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "select min(t) from (select min(due_at) as t from dispatch_jobs where state = 'queued' \
         union all select min(lease_until) as t from dispatch_jobs where state = 'running') as due",
    )
    .fetch_one(&db.pool)
    .await
}

/// The dispatch job of a request: its state and what it waits for.
pub async fn job_of(
    exec: impl sqlx::Executor<'_, Database = Any>,
    request_id: i64,
) -> Result<Option<(String, String, i64)>, sqlx::Error> {
    sqlx::query("select state, note, due_at from dispatch_jobs where request_id = $1")
        .bind(request_id)
        .fetch_optional(exec)
        .await?
        .map(|r| {
            Ok((
                r.try_get("state")?,
                r.try_get("note")?,
                r.try_get("due_at")?,
            ))
        })
        .transpose()
}

/// What each of these requests' dispatch waits for, when it waits ("waiting for window …").
pub async fn notes(
    db: &Db,
    request_ids: &[i64],
) -> Result<std::collections::HashMap<i64, String>, sqlx::Error> {
    if request_ids.is_empty() {
        return Ok(Default::default());
    }
    let list = request_ids
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    sqlx::query(&format!(
        "select request_id, note from dispatch_jobs where note <> '' \
         and state in ('queued', 'running') and request_id in ({list})"
    ))
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("request_id")?, r.try_get("note")?)))
    .collect()
}

/// How many requests are on their way now, by state, in lifecycle order.
pub async fn in_flight(db: &Db) -> Result<Vec<(String, i64)>, sqlx::Error> {
    const STATES: [&str; 4] = ["approved", "scheduled", "provisioning", "deploying"];
    let counts: std::collections::HashMap<String, i64> = sqlx::query(
        "select state, count(*) as n from requests \
         where state in ('approved', 'scheduled', 'provisioning', 'deploying') group by state",
    )
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("state")?, r.try_get("n")?)))
    .collect::<Result<_, sqlx::Error>>()?;
    Ok(STATES
        .iter()
        .filter_map(|s| counts.get(*s).map(|n| ((*s).to_owned(), *n)))
        .collect())
}

/// Ends a request's dispatch job, whoever holds it.
pub async fn cancel_job(tx: &mut Tx<'_>, request_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update dispatch_jobs set state = 'cancelled', lease_until = null where request_id = $1",
    )
    .bind(request_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
