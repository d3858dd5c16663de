//! The approver queue (whom each waiting request asks) and the requests a person asked for.

use super::decisions::{by_request, DecisionRow, DECISION_COLUMNS};
use super::requests::{decoded, placeholders, request, RequestRow, Tx, COLUMNS};
use crate::domain::request::State;
use crate::domain::Policy;
use sqlx::any::AnyRow;
use sqlx::Row;

/// A request as a list shows it: what a line says, not its body, fields or policy.
#[derive(Debug, Clone)]
pub struct Listed {
    pub id: i64,
    pub application_id: String,
    pub environment_id: String,
    pub requester_id: i64,
    pub requester_name: String,
    pub title: String,
    pub version: String,
    pub state: State,
    pub scheduled_at: Option<i64>,
    pub updated_at: i64,
    /// `normal`, `emergency`, `rollback` or `standard`.
    pub change_kind: String,
}

/// The columns of [`Listed`], of `requests r` joined with `users u`.
pub(super) const LISTED: &str =
    "r.request_id, r.application_id, r.environment_id, r.requester_id, \
     u.display_name as requester_name, r.title, r.version, r.state, r.scheduled_at, r.updated_at, \
     r.change_kind";

pub(super) fn listed(row: &AnyRow) -> Result<Listed, sqlx::Error> {
    Ok(Listed {
        id: row.try_get("request_id")?,
        application_id: row.try_get("application_id")?,
        environment_id: row.try_get("environment_id")?,
        requester_id: row.try_get("requester_id")?,
        requester_name: row.try_get("requester_name")?,
        title: row.try_get("title")?,
        version: row.try_get("version")?,
        state: decoded(row, "state", |s| State::parse(s).ok_or("an unknown state"))?,
        scheduled_at: row.try_get("scheduled_at")?,
        updated_at: row.try_get("updated_at")?,
        change_kind: row.try_get("change_kind")?,
    })
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

/// Requests waiting for approval that ask one of `teams` now (optionally of one application /
/// environment; empty means any), newest first, with their policy, and the decisions on them by
/// request. Read through `request_waits`, so only those requests are read at all.
pub async fn pending(
    db: &super::Db,
    app: &str,
    env: &str,
    teams: &[String],
) -> Result<
    (
        Vec<(Listed, Policy)>,
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
        "select {LISTED}, r.policy from requests r \
         join users u on u.user_id = r.requester_id where {} order by r.request_id desc",
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
        .map(|row| {
            let policy = decoded(row, "policy", |s| {
                serde_json::from_str(s).map_err(|_| "not a policy")
            })?;
            Ok((listed(row)?, policy))
        })
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

/// The requests `requester` asked for: those still open first, then the latest finished.
pub async fn mine(db: &super::Db, requester: i64, limit: i64) -> Result<Vec<Listed>, sqlx::Error> {
    sqlx::query(&format!(
        "select {LISTED} from requests r join users u on u.user_id = r.requester_id \
         where r.requester_id = $1 \
         order by case when r.state in ('pending_approval', 'approved', 'scheduled', \
         'provisioning', 'deploying') then 0 else 1 end, r.request_id desc limit $2"
    ))
    .bind(requester)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(listed)
    .collect()
}
