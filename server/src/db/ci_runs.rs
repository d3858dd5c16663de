//! The CI runs of requests: one row per target, step and attempt, from `triggering` to its end.

use super::dispatch::Tx;
use sqlx::any::AnyRow;
use sqlx::{Any, Row};

/// Records where a run lives without touching its state (a run cancelled while the CI was
/// starting it).
pub async fn set_run_ref(
    tx: &mut Tx<'_>,
    id: i64,
    run_ref: &str,
    url: Option<&str>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update ci_runs set run_ref = $2, url = coalesce($3, url), updated_at = $4 where ci_run_id = $1",
    )
    .bind(id)
    .bind(run_ref)
    .bind(url)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct RunRow {
    pub id: i64,
    pub request_id: i64,
    /// The fan-out target (component or region) it deploys; empty for a single target.
    pub target_id: String,
    pub step: String,
    pub attempt: i64,
    pub connector: String,
    /// The connector's name for the job.
    pub target: String,
    pub run_key: String,
    pub state: String,
    pub run_ref: Option<String>,
    pub url: Option<String>,
    pub log_tail: String,
    pub message: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    /// After the CI failed to answer about it: not looked at again before this time.
    pub next_try_at: Option<i64>,
}

const RUN_COLUMNS: &str =
    "ci_run_id, request_id, target_id, step, attempt, connector, target, run_key, state, \
     run_ref, url, log_tail, message, started_at, finished_at, next_try_at";

fn run(r: &AnyRow) -> Result<RunRow, sqlx::Error> {
    Ok(RunRow {
        id: r.try_get("ci_run_id")?,
        request_id: r.try_get("request_id")?,
        target_id: r.try_get("target_id")?,
        step: r.try_get("step")?,
        attempt: r.try_get("attempt")?,
        connector: r.try_get("connector")?,
        target: r.try_get("target")?,
        run_key: r.try_get("run_key")?,
        state: r.try_get("state")?,
        run_ref: r.try_get("run_ref")?,
        url: r.try_get("url")?,
        log_tail: r.try_get("log_tail")?,
        message: r.try_get("message")?,
        started_at: r.try_get("started_at")?,
        finished_at: r.try_get("finished_at")?,
        next_try_at: r.try_get("next_try_at")?,
    })
}

/// Every CI run of a request, oldest first.
pub async fn runs(
    exec: impl sqlx::Executor<'_, Database = Any>,
    request_id: i64,
) -> Result<Vec<RunRow>, sqlx::Error> {
    sqlx::query(&format!(
        "select {RUN_COLUMNS} from ci_runs where request_id = $1 order by ci_run_id"
    ))
    .bind(request_id)
    .fetch_all(exec)
    .await?
    .iter()
    .map(run)
    .collect()
}

pub struct NewRun<'a> {
    pub request_id: i64,
    pub target_id: &'a str,
    pub step: &'a str,
    pub attempt: i64,
    pub connector: &'a str,
    pub target: &'a str,
    pub run_key: &'a str,
    pub now: i64,
}

/// Records that the CI is about to be called for a step: after a crash, a run in this state is
/// looked up by its key before the CI is called again.
pub async fn insert_triggering(tx: &mut Tx<'_>, r: &NewRun<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "insert into ci_runs (request_id, target_id, step, attempt, connector, target, run_key, state, started_at, updated_at) \
         values ($1, $8, $2, $3, $4, $5, $6, 'triggering', $7, $7) returning ci_run_id",
    )
    .bind(r.request_id)
    .bind(r.step)
    .bind(r.attempt)
    .bind(r.connector)
    .bind(r.target)
    .bind(r.run_key)
    .bind(r.now)
    .bind(r.target_id)
    .fetch_one(&mut **tx)
    .await
}

/// What the CI said about a run.
pub struct RunUpdate<'a> {
    pub state: &'a str,
    pub run_ref: Option<&'a str>,
    pub url: Option<&'a str>,
    pub log_tail: &'a str,
    pub message: &'a str,
    pub finished_at: Option<i64>,
    pub now: i64,
}

/// Ends `run` as `state` (failed or cancelled) with `message`, keeping its log tail.
pub async fn end_run(
    exec: impl sqlx::Executor<'_, Database = Any>,
    run: &RunRow,
    state: crate::ci::RunState,
    message: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    let update = RunUpdate {
        state: state.as_str(),
        run_ref: None,
        url: None,
        log_tail: &run.log_tail,
        message,
        finished_at: Some(now),
        now,
    };
    update_run(exec, run.id, &update).await
}

pub async fn update_run(
    exec: impl sqlx::Executor<'_, Database = Any>,
    id: i64,
    u: &RunUpdate<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update ci_runs set state = $2, run_ref = coalesce($3, run_ref), url = coalesce($4, url), \
         log_tail = $5, message = $6, finished_at = $7, updated_at = $8, next_try_at = null \
         where ci_run_id = $1",
    )
    .bind(id)
    .bind(u.state)
    .bind(u.run_ref)
    .bind(u.url)
    .bind(u.log_tail)
    .bind(u.message)
    .bind(u.finished_at)
    .bind(u.now)
    .execute(exec)
    .await?;
    Ok(())
}

/// The CI could not be reached about `id`: it is looked at again at `at`, and says why.
pub async fn delay_run(
    exec: impl sqlx::Executor<'_, Database = Any>,
    id: i64,
    at: i64,
    message: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("update ci_runs set next_try_at = $2, message = $3 where ci_run_id = $1")
        .bind(id)
        .bind(at)
        .bind(message)
        .execute(exec)
        .await?;
    Ok(())
}

pub async fn delete_run(
    exec: impl sqlx::Executor<'_, Database = Any>,
    id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("delete from ci_runs where ci_run_id = $1")
        .bind(id)
        .execute(exec)
        .await?;
    Ok(())
}

/// Records that operations asked for another run of a target's step: attempt `attempt`, not
/// started.
pub async fn insert_retry(
    tx: &mut Tx<'_>,
    failed: &RunRow,
    attempt: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into ci_runs (request_id, target_id, step, attempt, connector, target, run_key, state, started_at, updated_at) \
         values ($1, $7, $2, $3, $4, $5, '', 'retry', $6, $6)",
    )
    .bind(failed.request_id)
    .bind(&failed.step)
    .bind(attempt)
    .bind(&failed.connector)
    .bind(&failed.target)
    .bind(now)
    .bind(&failed.target_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl RunRow {
    /// What the fan-out's plan reads of it.
    pub fn fact(&self) -> crate::domain::fan_out::RunFact<'_> {
        crate::domain::fan_out::RunFact {
            target_id: &self.target_id,
            step: &self.step,
            attempt: self.attempt,
            state: &self.state,
        }
    }
}
