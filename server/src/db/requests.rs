//! Release requests, their decisions, events and dispatch jobs.

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
    pub risk: String,
    pub rollback_plan: String,
    pub scheduled_at: Option<i64>,
    pub timezone: String,
    pub fields: String,
    pub state: String,
    pub policy: String,
    pub catalog_version_id: Option<i64>,
    pub revision: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// `portal` (the form) or `pipeline` (the API).
    pub origin: String,
    pub pipeline_url: String,
    /// The pipeline deploys itself once approved: approval does not dispatch.
    pub self_deploy: bool,
}

const COLUMNS: &str = "request_id, application_id, environment_id, requester_id, title, version, artifact, \
     summary, risk, rollback_plan, scheduled_at, timezone, fields, state, policy, catalog_version_id, \
     revision, created_at, updated_at, origin, pipeline_url, self_deploy";

fn request(row: &AnyRow) -> Result<RequestRow, sqlx::Error> {
    Ok(RequestRow {
        id: row.try_get("request_id")?,
        application_id: row.try_get("application_id")?,
        environment_id: row.try_get("environment_id")?,
        requester_id: row.try_get("requester_id")?,
        title: row.try_get("title")?,
        version: row.try_get("version")?,
        artifact: row.try_get("artifact")?,
        summary: row.try_get("summary")?,
        risk: row.try_get("risk")?,
        rollback_plan: row.try_get("rollback_plan")?,
        scheduled_at: row.try_get("scheduled_at")?,
        timezone: row.try_get("timezone")?,
        fields: row.try_get("fields")?,
        state: row.try_get("state")?,
        policy: row.try_get("policy")?,
        catalog_version_id: row.try_get("catalog_version_id")?,
        revision: row.try_get("revision")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        origin: row.try_get("origin")?,
        pipeline_url: row.try_get("pipeline_url")?,
        self_deploy: row.try_get::<i64, _>("self_deploy")? != 0,
    })
}

pub struct NewRequest<'a> {
    pub application_id: &'a str,
    pub environment_id: &'a str,
    pub requester_id: i64,
    pub body: Body<'a>,
    pub state: &'a str,
    pub policy: &'a str,
    pub catalog_version_id: Option<i64>,
    pub origin: &'a str,
    pub pipeline_url: &'a str,
    pub self_deploy: bool,
    pub now: i64,
}

pub async fn insert(tx: &mut Tx<'_>, r: &NewRequest<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "insert into requests (application_id, environment_id, requester_id, title, version, artifact, \
         summary, risk, rollback_plan, scheduled_at, timezone, fields, state, policy, catalog_version_id, \
         created_at, updated_at, origin, pipeline_url, self_deploy) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16, $17, $18, $19) \
         returning request_id",
    )
    .bind(r.application_id)
    .bind(r.environment_id)
    .bind(r.requester_id)
    .bind(r.body.title)
    .bind(r.body.version)
    .bind(r.body.artifact)
    .bind(r.body.summary)
    .bind(r.body.risk)
    .bind(r.body.rollback_plan)
    .bind(r.body.scheduled_at)
    .bind(r.body.timezone)
    .bind(r.body.fields)
    .bind(r.state)
    .bind(r.policy)
    .bind(r.catalog_version_id)
    .bind(r.now)
    .bind(r.origin)
    .bind(r.pipeline_url)
    .bind(i64::from(r.self_deploy))
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

/// The editable part of a request.
pub struct Body<'a> {
    pub title: &'a str,
    pub version: &'a str,
    pub artifact: &'a str,
    pub summary: &'a str,
    pub risk: &'a str,
    pub rollback_plan: &'a str,
    pub scheduled_at: Option<i64>,
    pub timezone: &'a str,
    pub fields: &'a str,
}

pub async fn update_body(tx: &mut Tx<'_>, id: i64, b: &Body<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update requests set title = $2, version = $3, artifact = $4, summary = $5, risk = $6, \
         rollback_plan = $7, scheduled_at = $8, timezone = $9, fields = $10 where request_id = $1",
    )
    .bind(id)
    .bind(b.title)
    .bind(b.version)
    .bind(b.artifact)
    .bind(b.summary)
    .bind(b.risk)
    .bind(b.rollback_plan)
    .bind(b.scheduled_at)
    .bind(b.timezone)
    .bind(b.fields)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn set_state(tx: &mut Tx<'_>, id: i64, state: &str) -> Result<(), sqlx::Error> {
    sqlx::query("update requests set state = $2 where request_id = $1")
        .bind(id)
        .bind(state)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct DecisionRow {
    pub id: i64,
    pub user_id: i64,
    pub teams: Vec<String>,
    pub stage: i64,
    pub verdict: String,
    pub comment: String,
    pub decided_at: i64,
    pub voided: bool,
}

pub async fn decisions(
    exec: impl sqlx::Executor<'_, Database = Any>,
    request_id: i64,
) -> Result<Vec<DecisionRow>, sqlx::Error> {
    sqlx::query(&format!(
        "select {DECISION_COLUMNS} from decisions d where d.request_id = $1 order by d.decision_id"
    ))
    .bind(request_id)
    .fetch_all(exec)
    .await?
    .iter()
    .map(decision)
    .collect()
}

const DECISION_COLUMNS: &str =
    "d.decision_id, d.user_id, d.teams, d.stage, d.verdict, d.comment, d.decided_at, d.voided";

fn decision(r: &AnyRow) -> Result<DecisionRow, sqlx::Error> {
    Ok(DecisionRow {
        id: r.try_get("decision_id")?,
        user_id: r.try_get("user_id")?,
        teams: r
            .try_get::<String, _>("teams")?
            .split(',')
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect(),
        stage: r.try_get("stage")?,
        verdict: r.try_get("verdict")?,
        comment: r.try_get("comment")?,
        decided_at: r.try_get("decided_at")?,
        voided: r.try_get::<i64, _>("voided")? != 0,
    })
}

pub struct NewDecision<'a> {
    pub request_id: i64,
    pub user_id: i64,
    pub teams: &'a [String],
    pub stage: i64,
    pub verdict: &'a str,
    pub comment: &'a str,
    pub now: i64,
}

pub async fn insert_decision(tx: &mut Tx<'_>, d: &NewDecision<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into decisions (request_id, user_id, teams, stage, verdict, comment, decided_at) \
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(d.request_id)
    .bind(d.user_id)
    .bind(d.teams.join(","))
    .bind(d.stage)
    .bind(d.verdict)
    .bind(d.comment)
    .bind(d.now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn void_decisions(tx: &mut Tx<'_>, request_id: i64) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("update decisions set voided = 1 where request_id = $1 and voided = 0")
            .bind(request_id)
            .execute(&mut **tx)
            .await?
            .rows_affected(),
    )
}

/// Voids one person's earlier decisions at a stage (lapsed ones, before they decide again).
pub async fn void_own_decisions(
    tx: &mut Tx<'_>,
    request_id: i64,
    user_id: i64,
    stage: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update decisions set voided = 1 where request_id = $1 and user_id = $2 and stage = $3 and voided = 0",
    )
    .bind(request_id)
    .bind(user_id)
    .bind(stage)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Appends to the audit trail.
pub async fn event(
    tx: &mut Tx<'_>,
    request_id: i64,
    actor_id: Option<i64>,
    kind: &str,
    payload: &serde_json::Value,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("insert into request_events (request_id, actor_id, kind, payload, at) values ($1, $2, $3, $4, $5)")
        .bind(request_id)
        .bind(actor_id)
        .bind(kind)
        .bind(payload.to_string())
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct EventRow {
    pub actor: Option<String>,
    pub kind: String,
    pub payload: serde_json::Value,
    pub at: i64,
}

pub async fn events(
    exec: impl sqlx::Executor<'_, Database = Any>,
    request_id: i64,
) -> Result<Vec<EventRow>, sqlx::Error> {
    sqlx::query(
        "select u.display_name, e.kind, e.payload, e.at from request_events e \
         left join users u on u.user_id = e.actor_id where e.request_id = $1 order by e.event_id",
    )
    .bind(request_id)
    .fetch_all(exec)
    .await?
    .iter()
    .map(|r| {
        Ok(EventRow {
            actor: r.try_get("display_name")?,
            kind: r.try_get("kind")?,
            payload: serde_json::from_str(&r.try_get::<String, _>("payload")?).unwrap_or_default(),
            at: r.try_get("at")?,
        })
    })
    .collect()
}

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

fn prefixed(alias: &str) -> String {
    COLUMNS
        .split(", ")
        .map(|c| format!("{alias}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Forgets whom requests that no longer wait for approval asked.
pub async fn clear_stale_waits(tx: &mut Tx<'_>) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "delete from request_waits where request_id not in \
         (select request_id from requests where state = 'pending_approval')",
    )
    .execute(&mut **tx)
    .await?
    .rows_affected())
}

/// Replaces the teams `request_id` asks now (none once it no longer waits for approval).
pub async fn set_waits(
    tx: &mut Tx<'_>,
    request_id: i64,
    teams: &[String],
) -> Result<(), sqlx::Error> {
    sqlx::query("delete from request_waits where request_id = $1")
        .bind(request_id)
        .execute(&mut **tx)
        .await?;
    for team in teams {
        sqlx::query(
            "insert into request_waits (team_id, request_id) values ($1, $2) on conflict do nothing",
        )
        .bind(team.as_str())
        .bind(request_id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// `$1, $2, …` for `n` values after `skip` others.
fn placeholders(skip: usize, n: usize) -> String {
    (skip + 1..=skip + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Requests waiting for approval that ask one of `teams` now (optionally of one application /
/// environment; empty means any), newest first, with their requester's name, and the decisions
/// on them by request. Read through `request_waits`, so only those requests are read at all.
pub async fn pending(
    db: &super::Db,
    app: &str,
    env: &str,
    teams: &[String],
) -> Result<
    (
        Vec<(RequestRow, String)>,
        std::collections::HashMap<i64, Vec<DecisionRow>>,
    ),
    sqlx::Error,
> {
    if teams.is_empty() {
        return Ok((Vec::new(), std::collections::HashMap::new()));
    }
    let asked = format!(
        "select w.request_id from request_waits w where w.team_id in ({})",
        placeholders(0, teams.len())
    );
    let mut conditions = vec![
        "r.state = 'pending_approval'".to_owned(),
        format!("r.request_id in ({asked})"),
    ];
    let mut extra: Vec<&str> = Vec::new();
    for (column, value) in [("r.application_id", app), ("r.environment_id", env)] {
        if !value.is_empty() {
            extra.push(value);
            conditions.push(format!("{column} = ${}", teams.len() + extra.len()));
        }
    }
    let sql = format!(
        "select {}, u.display_name as requester_name from requests r \
         join users u on u.user_id = r.requester_id where {} order by r.request_id desc",
        prefixed("r"),
        conditions.join(" and ")
    );
    let mut query = sqlx::query(&sql);
    for t in teams {
        query = query.bind(t.as_str());
    }
    for v in extra {
        query = query.bind(v);
    }
    let rows = query
        .persistent(db.keep_listing_prepared())
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|row| Ok((request(row)?, row.try_get("requester_name")?)))
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let sql = format!(
        "select d.request_id, {DECISION_COLUMNS} from decisions d \
         where d.request_id in ({asked}) order by d.decision_id"
    );
    let mut query = sqlx::query(&sql);
    for t in teams {
        query = query.bind(t.as_str());
    }
    Ok((rows, by_request(&query.fetch_all(&db.pool).await?)?))
}

/// Decision rows (with their `request_id`) grouped by request, in their order.
fn by_request(
    rows: &[AnyRow],
) -> Result<std::collections::HashMap<i64, Vec<DecisionRow>>, sqlx::Error> {
    let mut map: std::collections::HashMap<i64, Vec<DecisionRow>> =
        std::collections::HashMap::new();
    for r in rows {
        map.entry(r.try_get("request_id")?)
            .or_default()
            .push(decision(r)?);
    }
    Ok(map)
}

/// Every request waiting for approval, with the decisions on it: to recompute whom they ask.
pub async fn all_pending(
    tx: &mut Tx<'_>,
) -> Result<Vec<(RequestRow, Vec<DecisionRow>)>, sqlx::Error> {
    let rows: Vec<RequestRow> = sqlx::query(&format!(
        "select {COLUMNS} from requests where state = 'pending_approval' order by request_id"
    ))
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(request)
    .collect::<Result<_, _>>()?;
    let mut map = by_request(
        &sqlx::query(&format!(
            "select d.request_id, {DECISION_COLUMNS} from decisions d \
             join requests r on r.request_id = d.request_id \
             where r.state = 'pending_approval' order by d.decision_id"
        ))
        .fetch_all(&mut **tx)
        .await?,
    )?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let d = map.remove(&row.id).unwrap_or_default();
            (row, d)
        })
        .collect())
}

/// A page of requests, newest first, with their requester's name. Empty filters match all.
pub async fn board(
    db: &super::Db,
    state: &str,
    app: &str,
    env: &str,
    search: &str,
    before: i64,
    limit: i64,
) -> Result<Vec<(RequestRow, String)>, sqlx::Error> {
    select_requests(db, state, app, env, search, before, limit).await
}

/// `text` with LIKE's wildcards and its escape character taken literally (escape `\\`).
fn like_escaped(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Requests newest first. Only the filters given become conditions, so each query can use the
/// index that fits it.
async fn select_requests(
    db: &super::Db,
    state: &str,
    app: &str,
    env: &str,
    search: &str,
    before: i64,
    limit: i64,
) -> Result<Vec<(RequestRow, String)>, sqlx::Error> {
    let mut conditions = Vec::new();
    let mut binds: Vec<String> = Vec::new();
    let mut param = |value: &str| {
        binds.push(value.to_owned());
        format!("${}", binds.len())
    };
    // On PostgreSQL a search reads the narrow `request_search` copy (alias `s`) and cuts the page
    // there; everything else reads the requests themselves.
    let narrow = db.kind == super::DbKind::Postgres && !search.is_empty();
    let t = if narrow { "s" } else { "r" };
    for (column, value) in [
        ("state", state),
        ("application_id", app),
        ("environment_id", env),
    ] {
        if !value.is_empty() {
            conditions.push(format!("{t}.{column} = {}", param(value)));
        }
    }
    let plain = !search.contains(['%', '_', '\\']);
    if db.kind == super::DbKind::Sqlite && plain && search.chars().count() >= 3 {
        // The trigram index answers a substring of three characters or more, case-insensitively.
        let p = param(&format!("%{search}%"));
        conditions.push(format!(
            "r.request_id in (select rowid from request_search where title like {p} \
             union select rowid from request_search where version like {p})"
        ));
    } else if !search.is_empty() {
        let p = param(&format!("%{}%", like_escaped(&search.to_lowercase())));
        conditions.push(if narrow {
            format!("s.text like {p} escape '\\'")
        } else {
            format!(
                "(lower(r.title) like {p} escape '\\' or lower(r.version) like {p} escape '\\')"
            )
        });
    }
    let n = binds.len();
    if before > 0 {
        conditions.push(format!("{t}.request_id < ${}", n + 1));
    }
    let limit_param = n + 1 + usize::from(before > 0);
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!("where {}", conditions.join(" and "))
    };
    let sql = if narrow {
        format!(
            "select {}, u.display_name as requester_name from \
             (select s.request_id from request_search s {filter} \
              order by s.request_id desc limit ${limit_param}) m \
             join requests r on r.request_id = m.request_id \
             join users u on u.user_id = r.requester_id \
             order by r.request_id desc",
            prefixed("r")
        )
    } else {
        format!(
            "select {}, u.display_name as requester_name from requests r \
             join users u on u.user_id = r.requester_id {filter} \
             order by r.request_id desc limit ${limit_param}",
            prefixed("r")
        )
    };
    let mut query = sqlx::query(&sql);
    for b in &binds {
        query = query.bind(b.as_str());
    }
    if before > 0 {
        query = query.bind(before);
    }
    query
        .bind(limit)
        .persistent(db.keep_listing_prepared())
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|row| Ok((request(row)?, row.try_get("requester_name")?)))
        .collect()
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
