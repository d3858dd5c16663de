//! What the operator metrics read from the database at each scrape: counts and oldest times, no
//! more (each query is one index or one small aggregate).

use super::Db;
use sqlx::Row;

/// The portal's work as it stands.
#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    /// Requests by state (only the states that have any).
    pub requests: Vec<(String, i64)>,
    /// When the request waiting longest for approval was opened.
    pub oldest_pending_at: Option<i64>,
    /// Dispatch jobs queued or running.
    pub dispatch_depth: i64,
    /// The due time of the job waiting longest to be claimed.
    pub oldest_due_at: Option<i64>,
    /// Notifications not yet sent, by channel (`mail`, `chat`).
    pub outbox: Vec<(&'static str, i64)>,
}

pub async fn snapshot(db: &Db, now: i64) -> Result<Snapshot, sqlx::Error> {
    let requests = sqlx::query("select state, count(*) as n from requests group by state")
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("state")?, r.try_get("n")?)))
        .collect::<Result<Vec<(String, i64)>, sqlx::Error>>()?;
    let oldest_pending_at: Option<i64> =
        sqlx::query_scalar("select min(created_at) from requests where state = 'pending_approval'")
            .fetch_one(&db.pool)
            .await?;
    let dispatch_depth: i64 = sqlx::query_scalar(
        "select count(*) from dispatch_jobs where state in ('queued', 'running')",
    )
    .fetch_one(&db.pool)
    .await?;
    let oldest_due_at: Option<i64> = sqlx::query_scalar(
        "select min(due_at) from dispatch_jobs where state = 'queued' and due_at <= $1",
    )
    .bind(now)
    .fetch_one(&db.pool)
    .await?;
    let mut outbox = Vec::new();
    for (channel, sql) in [
        (
            "mail",
            "select count(*) from mail_outbox where state = 'queued'",
        ),
        (
            "chat",
            "select count(*) from chat_outbox where state = 'queued'",
        ),
    ] {
        outbox.push((channel, sqlx::query_scalar(sql).fetch_one(&db.pool).await?));
    }
    Ok(Snapshot {
        requests,
        oldest_pending_at,
        dispatch_depth,
        oldest_due_at,
        outbox,
    })
}
