//! When a waiting request's approvers are reminded next and its escalation team told (the
//! lifecycle's `Effect::Chase`), and which of those times are past.

use super::requests::Tx;
use sqlx::Row;

/// A request with a due time past, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overdue {
    pub request_id: i64,
    pub remind_at: Option<i64>,
    pub escalate_at: Option<i64>,
}

/// Sets the due times of `request_id`: `None` keeps one as it is, `Some(None)` clears it. The
/// row goes once neither is left.
pub async fn set(
    tx: &mut Tx<'_>,
    request_id: i64,
    remind: Option<Option<i64>>,
    escalate: Option<Option<i64>>,
) -> Result<(), sqlx::Error> {
    let stored: Option<(Option<i64>, Option<i64>)> =
        sqlx::query("select remind_at, escalate_at from chases where request_id = $1")
            .bind(request_id)
            .fetch_optional(&mut **tx)
            .await?
            .map(|row| Ok::<_, sqlx::Error>((row.try_get(0)?, row.try_get(1)?)))
            .transpose()?;
    let (was_remind, was_escalate) = stored.unwrap_or_default();
    let (remind_at, escalate_at) = (
        remind.unwrap_or(was_remind),
        escalate.unwrap_or(was_escalate),
    );
    if remind_at.is_none() && escalate_at.is_none() {
        if stored.is_some() {
            sqlx::query("delete from chases where request_id = $1")
                .bind(request_id)
                .execute(&mut **tx)
                .await?;
        }
        return Ok(());
    }
    sqlx::query(
        "insert into chases (request_id, remind_at, escalate_at) values ($1, $2, $3) \
         on conflict (request_id) do update set remind_at = $2, escalate_at = $3",
    )
    .bind(request_id)
    .bind(remind_at)
    .bind(escalate_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Sets the due times of `request_id` unless it has some already; true when it did.
pub async fn start_if_absent(
    tx: &mut Tx<'_>,
    request_id: i64,
    remind_at: Option<i64>,
    escalate_at: Option<i64>,
) -> Result<bool, sqlx::Error> {
    if remind_at.is_none() && escalate_at.is_none() {
        return Ok(false);
    }
    let done = sqlx::query(
        "insert into chases (request_id, remind_at, escalate_at) values ($1, $2, $3) \
         on conflict (request_id) do nothing",
    )
    .bind(request_id)
    .bind(remind_at)
    .bind(escalate_at)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Up to `limit` requests with a due time at or before `now`, the longest overdue first.
pub async fn overdue<'e, E>(db: E, now: i64, limit: i64) -> Result<Vec<Overdue>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = sqlx::query(
        "select request_id, remind_at, escalate_at from chases \
         where remind_at <= $1 or escalate_at <= $1 \
         order by case when escalate_at < remind_at or remind_at is null \
         then escalate_at else remind_at end limit $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Overdue {
                request_id: row.try_get(0)?,
                remind_at: row.try_get(1)?,
                escalate_at: row.try_get(2)?,
            })
        })
        .collect()
}

/// Takes `o` for this transaction if its due times are still as read: another replica that
/// swept it first changed them, and this one leaves it.
pub async fn claim(tx: &mut Tx<'_>, o: &Overdue) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "update chases set remind_at = remind_at where request_id = $1 \
         and coalesce(remind_at, -1) = $2 and coalesce(escalate_at, -1) = $3",
    )
    .bind(o.request_id)
    .bind(o.remind_at.unwrap_or(-1))
    .bind(o.escalate_at.unwrap_or(-1))
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}
