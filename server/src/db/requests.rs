//! Release requests: their rows, decoded once into typed values.

use crate::domain::change::Change;
use crate::domain::request::{Draft, Fields, Risk, State};
use crate::domain::Policy;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

pub type Tx<'a> = Transaction<'a, Any>;

#[derive(Debug, Clone)]
pub struct RequestRow {
    pub id: i64,
    pub application_id: String,
    pub environment_id: String,
    pub requester_id: i64,
    pub title: String,
    pub version: String,
    pub artifact: String,
    pub summary: String,
    pub risk: Risk,
    pub rollback_plan: String,
    pub scheduled_at: Option<i64>,
    pub timezone: String,
    pub fields: Fields,
    pub state: State,
    pub policy: Policy,
    pub catalog_version_id: Option<i64>,
    pub revision: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// `portal` (the form) or `pipeline` (the API).
    pub origin: String,
    pub pipeline_url: String,
    /// The pipeline deploys itself once approved: approval does not dispatch.
    pub self_deploy: bool,
    /// When the change was committed, the earliest time a pipeline said.
    pub commit_at: Option<i64>,
    /// A normal, emergency, rollback or standard change.
    pub change: Change,
}

pub(super) const COLUMNS: &str = "request_id, application_id, environment_id, requester_id, title, version, artifact, \
     summary, risk, rollback_plan, scheduled_at, timezone, fields, state, policy, catalog_version_id, \
     revision, created_at, updated_at, origin, pipeline_url, self_deploy, commit_at, change_kind, \
     change_note, rollback_of";

pub(super) fn request(row: &AnyRow) -> Result<RequestRow, sqlx::Error> {
    Ok(RequestRow {
        id: row.try_get("request_id")?,
        application_id: row.try_get("application_id")?,
        environment_id: row.try_get("environment_id")?,
        requester_id: row.try_get("requester_id")?,
        title: row.try_get("title")?,
        version: row.try_get("version")?,
        artifact: row.try_get("artifact")?,
        summary: row.try_get("summary")?,
        risk: decoded(row, "risk", |s| Risk::parse(s).ok_or("an unknown risk"))?,
        rollback_plan: row.try_get("rollback_plan")?,
        scheduled_at: row.try_get("scheduled_at")?,
        timezone: row.try_get("timezone")?,
        fields: decoded(row, "fields", |s| {
            serde_json::from_str(s).map_err(|_| "not a JSON object")
        })?,
        state: decoded(row, "state", |s| State::parse(s).ok_or("an unknown state"))?,
        policy: decoded(row, "policy", |s| {
            serde_json::from_str(s).map_err(|_| "not a policy")
        })?,
        catalog_version_id: row.try_get("catalog_version_id")?,
        revision: row.try_get("revision")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        origin: row.try_get("origin")?,
        pipeline_url: row.try_get("pipeline_url")?,
        self_deploy: row.try_get::<i64, _>("self_deploy")? != 0,
        commit_at: row.try_get("commit_at")?,
        change: Change::stored(
            &row.try_get::<String, _>("change_kind")?,
            row.try_get("change_note")?,
            row.try_get("rollback_of")?,
        ),
    })
}

/// A text column read through `parse`; a value it refuses is a decoding error naming the column.
pub(super) fn decoded<T>(
    row: &AnyRow,
    column: &str,
    parse: impl FnOnce(&str) -> Result<T, &'static str>,
) -> Result<T, sqlx::Error> {
    let text: String = row.try_get(column)?;
    parse(&text).map_err(|why| sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: format!("{why}: {text:.80}").into(),
    })
}

pub struct NewRequest<'a> {
    pub application_id: &'a str,
    pub environment_id: &'a str,
    pub requester_id: i64,
    pub draft: &'a Draft,
    pub state: State,
    pub policy: &'a Policy,
    pub catalog_version_id: Option<i64>,
    pub origin: &'a str,
    pub pipeline_url: &'a str,
    pub self_deploy: bool,
    pub commit_at: Option<i64>,
    pub change: &'a Change,
    pub now: i64,
}

pub async fn insert(tx: &mut Tx<'_>, r: &NewRequest<'_>) -> Result<i64, sqlx::Error> {
    let d = r.draft;
    sqlx::query_scalar(
        "insert into requests (application_id, environment_id, requester_id, title, version, artifact, \
         summary, risk, rollback_plan, scheduled_at, timezone, fields, state, policy, catalog_version_id, \
         created_at, updated_at, origin, pipeline_url, self_deploy, commit_at, change_kind, change_note, \
         rollback_of) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16, $17, $18, $19, $20, \
         $21, $22, $23) \
         returning request_id",
    )
    .bind(r.application_id)
    .bind(r.environment_id)
    .bind(r.requester_id)
    .bind(d.title.as_str())
    .bind(d.version.as_str())
    .bind(d.artifact.as_str())
    .bind(d.summary.as_str())
    .bind(d.risk.as_str())
    .bind(d.rollback_plan.as_str())
    .bind(d.scheduled_at)
    .bind(d.timezone.as_str())
    .bind(fields_json(&d.fields))
    .bind(r.state.as_str())
    .bind(serde_json::to_string(r.policy).unwrap_or_default())
    .bind(r.catalog_version_id)
    .bind(r.now)
    .bind(r.origin)
    .bind(r.pipeline_url)
    .bind(i64::from(r.self_deploy))
    .bind(r.commit_at)
    .bind(r.change.kind())
    .bind(r.change.note())
    .bind(r.change.rollback_of())
    .fetch_one(&mut **tx)
    .await
}

/// Claims the request for a change made on `revision`: the first statement of the change's
/// transaction, so it takes the write lock and a concurrent change on the same revision loses.
pub async fn bump_revision(
    tx: &mut Tx<'_>,
    id: i64,
    revision: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "update requests set revision = revision + 1, updated_at = $3 where request_id = $1 and revision = $2",
    )
    .bind(id)
    .bind(revision)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The requests matching `condition` (`$1`… bound to `values` in order).
pub async fn select_where(
    exec: impl sqlx::Executor<'_, Database = Any>,
    condition: &str,
    values: &[&str],
) -> Result<Vec<RequestRow>, sqlx::Error> {
    let sql = format!("select {COLUMNS} from requests where {condition}");
    let mut query = sqlx::query(&sql);
    for v in values {
        query = query.bind(*v);
    }
    query.fetch_all(exec).await?.iter().map(request).collect()
}

pub async fn get(
    exec: impl sqlx::Executor<'_, Database = Any>,
    id: i64,
) -> Result<Option<RequestRow>, sqlx::Error> {
    sqlx::query(&format!(
        "select {COLUMNS} from requests where request_id = $1"
    ))
    .bind(id)
    .fetch_optional(exec)
    .await?
    .as_ref()
    .map(request)
    .transpose()
}

fn fields_json(fields: &Fields) -> String {
    serde_json::to_string(fields).unwrap_or_else(|_| "{}".into())
}

/// Stores an edited request (see `db::apply`).
pub(super) async fn update_body(tx: &mut Tx<'_>, id: i64, b: &Draft) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update requests set title = $2, version = $3, artifact = $4, summary = $5, risk = $6, \
         rollback_plan = $7, scheduled_at = $8, timezone = $9, fields = $10 where request_id = $1",
    )
    .bind(id)
    .bind(b.title.as_str())
    .bind(b.version.as_str())
    .bind(b.artifact.as_str())
    .bind(b.summary.as_str())
    .bind(b.risk.as_str())
    .bind(b.rollback_plan.as_str())
    .bind(b.scheduled_at)
    .bind(b.timezone.as_str())
    .bind(fields_json(&b.fields))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The request of `application` to `environment`, other than `except`, that the dispatch is
/// deploying now (provisioning or deploying): its id and version.
pub async fn in_flight(
    exec: impl sqlx::Executor<'_, Database = Any>,
    application: &str,
    environment: &str,
    except: i64,
) -> Result<Option<(i64, String)>, sqlx::Error> {
    sqlx::query_as(
        "select request_id, version from requests where application_id = $1 \
         and environment_id = $2 and request_id <> $3 \
         and state in ('provisioning', 'deploying') and self_deploy = 0 limit 1",
    )
    .bind(application)
    .bind(environment)
    .bind(except)
    .fetch_optional(exec)
    .await
}

/// The last successful deployment at `application` to `environment` of a version other than
/// `except` (of any version when `None`: no version is empty): its version, its request and that
/// request's artifact.
pub async fn last_success(
    exec: impl sqlx::Executor<'_, Database = Any>,
    application: &str,
    environment: &str,
    except: Option<&str>,
) -> Result<Option<(String, i64, String)>, sqlx::Error> {
    sqlx::query_as(
        "select d.version, d.request_id, r.artifact from deployments d \
         join requests r on r.request_id = d.request_id \
         where d.application_id = $1 and d.environment_id = $2 and d.succeeded = 1 \
         and d.version <> coalesce($3, '') \
         order by d.finished_at desc, d.deployment_id desc limit 1",
    )
    .bind(application)
    .bind(environment)
    .bind(except)
    .fetch_optional(exec)
    .await
}

/// A request of the same target as another, open or deploying.
#[derive(Debug, Clone)]
pub struct Overlap {
    pub id: i64,
    pub version: String,
    pub state: State,
    pub scheduled_at: Option<i64>,
}

/// The other requests of `application` to `environment`, except `except`, that wait for
/// approval or to deploy, or are deploying: oldest first, ten at most.
pub async fn open_for_target(
    exec: impl sqlx::Executor<'_, Database = Any>,
    application: &str,
    environment: &str,
    except: i64,
) -> Result<Vec<Overlap>, sqlx::Error> {
    let rows = sqlx::query(
        "select request_id, version, state, scheduled_at from requests \
         where application_id = $1 and environment_id = $2 and request_id <> $3 \
         and state in ('pending_approval', 'approved', 'scheduled', 'provisioning', 'deploying') \
         order by request_id limit 10",
    )
    .bind(application)
    .bind(environment)
    .bind(except)
    .fetch_all(exec)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Overlap {
                id: row.try_get("request_id")?,
                version: row.try_get("version")?,
                state: decoded(row, "state", |s| State::parse(s).ok_or("an unknown state"))?,
                scheduled_at: row.try_get("scheduled_at")?,
            })
        })
        .collect()
}

/// Only `db::apply` moves a request to another state.
pub(super) async fn set_state(tx: &mut Tx<'_>, id: i64, state: State) -> Result<(), sqlx::Error> {
    sqlx::query("update requests set state = $2 where request_id = $1")
        .bind(id)
        .bind(state.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub(super) fn prefixed(alias: &str) -> String {
    COLUMNS
        .split(", ")
        .map(|c| format!("{alias}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `$1, $2, …` for `n` values after `skip` others.
pub(super) fn placeholders(skip: usize, n: usize) -> String {
    (skip + 1..=skip + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The application of each of the requests `ids` (those that exist).
pub async fn applications_of(
    db: &super::Db,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, String>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    let sql = format!(
        "select request_id, application_id from requests where request_id in ({})",
        placeholders(0, ids.len())
    );
    let mut query = sqlx::query(&sql);
    for id in ids {
        query = query.bind(*id);
    }
    query
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("request_id")?, r.try_get("application_id")?)))
        .collect()
}
