//! Stage results posted by pipelines.

use super::Db;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

pub type Tx<'a> = Transaction<'a, Any>;

#[derive(Debug, Clone)]
pub struct StageResult {
    pub id: i64,
    pub request_id: i64,
    pub stage: String,
    pub status: String,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// JSON object of named numbers.
    pub metrics: String,
    pub created_at: i64,
}

pub struct NewStageResult<'a> {
    pub request_id: i64,
    pub application_id: &'a str,
    pub environment_id: &'a str,
    pub stage: &'a str,
    pub status: &'a str,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub metrics: &'a str,
    pub token_id: Option<i64>,
    pub now: i64,
}

pub async fn insert_stage_result(
    tx: &mut Tx<'_>,
    s: &NewStageResult<'_>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "insert into stage_results (request_id, application_id, environment_id, stage, status, \
         started_at, finished_at, metrics, api_token_id, created_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning stage_result_id",
    )
    .bind(s.request_id)
    .bind(s.application_id)
    .bind(s.environment_id)
    .bind(s.stage)
    .bind(s.status)
    .bind(s.started_at)
    .bind(s.finished_at)
    .bind(s.metrics)
    .bind(s.token_id)
    .bind(s.now)
    .fetch_one(&mut **tx)
    .await
}

const STAGE_COLUMNS: &str =
    "stage_result_id, request_id, stage, status, started_at, finished_at, metrics, created_at";

fn stage_result(r: &AnyRow) -> Result<StageResult, sqlx::Error> {
    Ok(StageResult {
        id: r.try_get("stage_result_id")?,
        request_id: r.try_get("request_id")?,
        stage: r.try_get("stage")?,
        status: r.try_get("status")?,
        started_at: r.try_get("started_at")?,
        finished_at: r.try_get("finished_at")?,
        metrics: r.try_get("metrics")?,
        created_at: r.try_get("created_at")?,
    })
}

/// The stage results of one request, in the order they came.
pub async fn stage_results(db: &Db, request_id: i64) -> Result<Vec<StageResult>, sqlx::Error> {
    sqlx::query(&format!(
        "select {STAGE_COLUMNS} from stage_results where request_id = $1 order by stage_result_id"
    ))
    .bind(request_id)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(stage_result)
    .collect()
}

/// The finished stage results of an application since `since`, oldest first (at most `limit`).
pub async fn stage_history(
    db: &Db,
    application_id: &str,
    since: i64,
    limit: i64,
) -> Result<Vec<(String, StageResult)>, sqlx::Error> {
    sqlx::query(&format!(
        "select environment_id, {STAGE_COLUMNS} from stage_results \
         where application_id = $1 and created_at >= $2 and status <> 'started' \
         order by created_at limit $3"
    ))
    .bind(application_id)
    .bind(since)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("environment_id")?, stage_result(r)?)))
    .collect()
}

/// The stage results posted for `version` of `application` (by any of its requests naming
/// `artifact`, when given), oldest first: (stage, status, metrics as JSON).
pub async fn of_version(
    exec: impl sqlx::Executor<'_, Database = Any>,
    application: &str,
    version: &str,
    artifact: Option<&str>,
) -> Result<Vec<(String, String, String)>, sqlx::Error> {
    sqlx::query_as(
        "select s.stage, s.status, s.metrics from stage_results s \
         join requests r on r.request_id = s.request_id \
         where r.application_id = $1 and r.version = $2 \
         and r.artifact = coalesce($3, r.artifact) order by s.stage_result_id",
    )
    .bind(application)
    .bind(version)
    .bind(artifact)
    .fetch_all(exec)
    .await
}
