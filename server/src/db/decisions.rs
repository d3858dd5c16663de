//! Approvers' decisions on requests.

use super::requests::Tx;
use sqlx::any::AnyRow;
use sqlx::{Any, Row};

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
    /// The delegate who decided in `user_id`'s place.
    pub acted_by: Option<i64>,
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

pub(super) const DECISION_COLUMNS: &str =
    "d.decision_id, d.user_id, d.teams, d.stage, d.verdict, d.comment, d.decided_at, d.voided, \
     d.acted_by";

pub(super) fn decision(r: &AnyRow) -> Result<DecisionRow, sqlx::Error> {
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
        acted_by: r.try_get("acted_by")?,
    })
}

pub struct NewDecision<'a> {
    pub request_id: i64,
    pub user_id: i64,
    pub acted_by: Option<i64>,
    pub teams: &'a [String],
    pub stage: i64,
    pub verdict: &'a str,
    pub comment: &'a str,
    pub now: i64,
}

pub async fn insert_decision(tx: &mut Tx<'_>, d: &NewDecision<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into decisions (request_id, user_id, teams, stage, verdict, comment, decided_at, \
         acted_by) values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(d.request_id)
    .bind(d.user_id)
    .bind(d.teams.join(","))
    .bind(d.stage)
    .bind(d.verdict)
    .bind(d.comment)
    .bind(d.now)
    .bind(d.acted_by)
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

/// Decision rows (with their `request_id`) grouped by request, in their order.
pub(super) fn by_request(
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
