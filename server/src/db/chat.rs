//! The chat outbox: a message for each chat channel a notification reaches, written in the
//! change's own transaction and posted by the delivery worker.

use super::requests::Tx;
use super::Db;
use sqlx::Row;

/// Queues `text` about `request_id` for each webhook named by `envs`.
pub async fn insert(
    tx: &mut Tx<'_>,
    request_id: i64,
    envs: &[String],
    text: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    for env in envs {
        sqlx::query(
            "insert into chat_outbox (request_id, webhook_env, body, due_at) values ($1, $2, $3, $4)",
        )
        .bind(request_id)
        .bind(env)
        .bind(text)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// A queued chat message.
#[derive(Debug, Clone)]
pub struct ChatRow {
    pub id: i64,
    pub request_id: i64,
    pub webhook_env: String,
    pub body: String,
    pub state: String,
    pub due_at: i64,
    pub attempts: i64,
    pub last_error: String,
}

const COLUMNS: &str = "chat_id, request_id, webhook_env, body, state, due_at, attempts, last_error";

fn row(r: &sqlx::any::AnyRow) -> Result<ChatRow, sqlx::Error> {
    Ok(ChatRow {
        id: r.try_get("chat_id")?,
        request_id: r.try_get("request_id")?,
        webhook_env: r.try_get("webhook_env")?,
        body: r.try_get("body")?,
        state: r.try_get("state")?,
        due_at: r.try_get("due_at")?,
        attempts: r.try_get("attempts")?,
        last_error: r.try_get("last_error")?,
    })
}

/// Up to `limit` messages due at `now`, oldest first.
pub async fn due(db: &Db, now: i64, limit: i64) -> Result<Vec<ChatRow>, sqlx::Error> {
    sqlx::query(&format!(
        "select {COLUMNS} from chat_outbox where state = 'queued' and due_at <= $1 \
         order by chat_id limit $2"
    ))
    .bind(now)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(row)
    .collect()
}

/// Takes `m` until `until` if no other worker took it since it was read.
pub async fn lease(db: &Db, m: &ChatRow, until: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "update chat_outbox set due_at = $1 where chat_id = $2 and state = 'queued' and due_at = $3",
    )
    .bind(until)
    .bind(m.id)
    .bind(m.due_at)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records an attempt: `sent`, or still `queued` until `next`, or `failed` for good.
pub async fn attempted(
    db: &Db,
    id: i64,
    state: &str,
    next: i64,
    error: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update chat_outbox set state = $2, due_at = $3, attempts = attempts + 1, last_error = $4, \
         sent_at = case when $2 = 'sent' then $5 else sent_at end where chat_id = $1",
    )
    .bind(id)
    .bind(state)
    .bind(next)
    .bind(error)
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// The latest messages, those that failed first, for administrators.
pub async fn recent(db: &Db, limit: i64) -> Result<Vec<ChatRow>, sqlx::Error> {
    sqlx::query(&format!(
        "select {COLUMNS} from chat_outbox \
         order by case state when 'failed' then 0 when 'queued' then 1 else 2 end, chat_id desc \
         limit $1"
    ))
    .bind(limit)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(row)
    .collect()
}
