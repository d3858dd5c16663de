//! The mail outbox: mail to send for notifications, leased by a delivery worker, recorded as
//! sent or failed, and listed for administrators.

use super::Db;
use sqlx::any::AnyRow;
use sqlx::Row;

/// One queued mail folded with the others of its address and request.
#[derive(Debug, Clone)]
pub struct QueuedMail {
    pub mail_id: i64,
    pub notification_id: i64,
    pub address: String,
    pub request_id: i64,
    pub kind: String,
    pub subject: String,
    pub detail: String,
    pub created_at: i64,
    pub attempts: i64,
}

fn queued(r: &AnyRow) -> Result<QueuedMail, sqlx::Error> {
    Ok(QueuedMail {
        mail_id: r.try_get("mail_id")?,
        notification_id: r.try_get("notification_id")?,
        address: r.try_get("address")?,
        request_id: r.try_get("request_id")?,
        kind: r.try_get("kind")?,
        subject: r.try_get("subject")?,
        detail: r.try_get("detail")?,
        created_at: r.try_get("created_at")?,
        attempts: r.try_get("attempts")?,
    })
}

/// Leases every queued mail of the (address, request) pairs that have one due, for `lease_ms`;
/// a worker that dies holding them lets them go when the lease ends.
pub async fn claim_due(
    db: &Db,
    now: i64,
    lease_ms: i64,
    limit: i64,
) -> Result<Vec<QueuedMail>, sqlx::Error> {
    let mut tx = db.write().await?;
    let due = "state = 'queued' and due_at <= $1 and (lease_until is null or lease_until < $1)";
    let pairs: Vec<(String, i64)> = sqlx::query(&format!(
        "select address, request_id from mail_outbox where {due} \
         group by address, request_id order by min(mail_id) limit $2"
    ))
    .bind(now)
    .bind(limit)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("address")?, r.try_get("request_id")?)))
    .collect::<Result<_, sqlx::Error>>()?;
    let mut out = Vec::new();
    for (address, request_id) in pairs {
        let until = now + lease_ms;
        sqlx::query(
            "update mail_outbox set lease_until = $1 where address = $2 and request_id = $3 \
             and state = 'queued' and (lease_until is null or lease_until < $4)",
        )
        .bind(until)
        .bind(&address)
        .bind(request_id)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        // What this transaction just leased: no other worker can lease it meanwhile.
        let rows = sqlx::query(
            "select o.mail_id, o.notification_id, o.address, o.request_id, o.attempts, \
             n.kind, n.subject, n.detail, n.created_at from mail_outbox o \
             join notifications n on n.notification_id = o.notification_id \
             where o.address = $1 and o.request_id = $2 and o.state = 'queued' \
             and o.lease_until = $3",
        )
        .bind(&address)
        .bind(request_id)
        .bind(until)
        .fetch_all(&mut **tx)
        .await?;
        for r in &rows {
            out.push(queued(r)?);
        }
    }
    tx.commit_unseen().await?;
    out.sort_by_key(|m| m.mail_id);
    Ok(out)
}

/// Records that the mails `ids` went out as one message.
pub async fn sent(db: &Db, ids: &[i64], message_id: &str, now: i64) -> Result<(), sqlx::Error> {
    let mut tx = db.write().await?;
    for id in ids {
        sqlx::query(
            "update mail_outbox set state = 'sent', sent_at = $2, message_id = $3, \
             lease_until = null, attempts = attempts + 1 where mail_id = $1",
        )
        .bind(id)
        .bind(now)
        .bind(message_id)
        .execute(&mut **tx)
        .await?;
    }
    tx.commit_unseen().await
}

/// Records a failed attempt: queued again at `retry_at`, or failed for good (`None`).
pub async fn attempt_failed(
    db: &Db,
    ids: &[i64],
    error: &str,
    retry_at: Option<i64>,
) -> Result<(), sqlx::Error> {
    let mut tx = db.write().await?;
    for id in ids {
        sqlx::query(
            "update mail_outbox set state = $2, due_at = coalesce($3, due_at), \
             lease_until = null, attempts = attempts + 1, last_error = $4 where mail_id = $1",
        )
        .bind(id)
        .bind(if retry_at.is_some() {
            "queued"
        } else {
            "failed"
        })
        .bind(retry_at)
        .bind(error)
        .execute(&mut **tx)
        .await?;
    }
    tx.commit_unseen().await
}

/// Mail as admins see it: the latest, failures first.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub mail_id: i64,
    pub address: String,
    pub request_id: i64,
    pub subject: String,
    pub state: String,
    pub attempts: i64,
    pub last_error: String,
    pub due_at: i64,
    pub sent_at: Option<i64>,
}

pub async fn outbox(db: &Db, limit: i64) -> Result<Vec<OutboxRow>, sqlx::Error> {
    sqlx::query(
        "select o.mail_id, o.address, o.request_id, n.subject, o.state, o.attempts, \
         o.last_error, o.due_at, o.sent_at from mail_outbox o \
         join notifications n on n.notification_id = o.notification_id \
         order by case o.state when 'failed' then 0 when 'queued' then 1 else 2 end, \
         o.mail_id desc limit $1",
    )
    .bind(limit)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| {
        Ok(OutboxRow {
            mail_id: r.try_get("mail_id")?,
            address: r.try_get("address")?,
            request_id: r.try_get("request_id")?,
            subject: r.try_get("subject")?,
            state: r.try_get("state")?,
            attempts: r.try_get("attempts")?,
            last_error: r.try_get("last_error")?,
            due_at: r.try_get("due_at")?,
            sent_at: r.try_get("sent_at")?,
        })
    })
    .collect()
}
