//! The dispatch outbox as the request lifecycle sees it: a job queued, moved or taken back.

use super::requests::{prefixed, request, RequestRow, Tx};
use sqlx::Any;

/// The outbox row the dispatch worker claims; one per request at most.
pub async fn enqueue_dispatch(
    tx: &mut Tx<'_>,
    request_id: i64,
    due_at: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into dispatch_jobs (request_id, due_at, created_at) values ($1, $2, $3) \
         on conflict (request_id) do update set state = 'queued', due_at = excluded.due_at, \
         lease_until = null, attempts = 0, note = ''",
    )
    .bind(request_id)
    .bind(due_at)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Withdraws a dispatch job whose deployment has not started (a worker may hold it while it
/// checks the windows: its next change to the request then finds the revision moved on).
pub async fn withdraw_dispatch(tx: &mut Tx<'_>, request_id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "delete from dispatch_jobs where request_id = $1 and state in ('queued', 'running')",
    )
    .bind(request_id)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Moves a queued dispatch job to a new due time.
pub async fn reschedule_dispatch(
    tx: &mut Tx<'_>,
    request_id: i64,
    due_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update dispatch_jobs set due_at = $2 where request_id = $1 and state in ('queued', 'running')",
    )
        .bind(request_id)
        .bind(due_at)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// How a queued job's note begins while it waits for another deployment of its target.
pub const WAITING_FOR_TURN: &str = "waiting for request #";

/// Makes the oldest job waiting for its turn at `application` to `environment` due now: the
/// deployment that held the target ended. Its request, so the worker hears of it.
pub async fn next_in_line(
    tx: &mut Tx<'_>,
    application: &str,
    environment: &str,
    now: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let next: Option<(i64, i64)> = sqlx::query_as(
        "select j.dispatch_job_id, j.request_id from dispatch_jobs j \
         join requests r on r.request_id = j.request_id \
         where r.application_id = $1 and r.environment_id = $2 and j.state = 'queued' \
         and j.note like $3 order by j.request_id limit 1",
    )
    .bind(application)
    .bind(environment)
    .bind(format!("{WAITING_FOR_TURN}%"))
    .fetch_optional(&mut **tx)
    .await?;
    let Some((job, request)) = next else {
        return Ok(None);
    };
    sqlx::query("update dispatch_jobs set due_at = $2 where dispatch_job_id = $1 and due_at > $2")
        .bind(job)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(Some(request))
}

/// Approved requests whose dispatch has not started, with their queued job.
pub async fn awaiting_dispatch(
    exec: impl sqlx::Executor<'_, Database = Any>,
) -> Result<Vec<RequestRow>, sqlx::Error> {
    let cols = prefixed("r");
    sqlx::query(&format!(
        "select {cols} from requests r join dispatch_jobs j on j.request_id = r.request_id \
         where r.state in ('approved', 'scheduled') and j.state in ('queued', 'running') \
         order by r.request_id"
    ))
    .fetch_all(exec)
    .await?
    .iter()
    .map(request)
    .collect()
}
