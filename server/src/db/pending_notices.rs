//! Notices written with the change they tell of, waiting for the fan-out worker
//! (`notify::fanout`) to turn each into one notification per person.

use super::{Change, Write};
use crate::domain::notice::Notice;
use sqlx::{Any, Row};

/// A notice as it waits.
#[derive(Debug, Clone)]
pub struct PendingNotice {
    pub notice_id: i64,
    pub request_id: i64,
    pub kind: String,
    /// The request's version when the notice was written.
    pub version: String,
    pub audience: String,
    pub detail: String,
    pub actor: Option<i64>,
    pub created_at: i64,
}

/// Queues `notice` about `request_id` (at `version`) in the change's own transaction, and wakes
/// the fan-out worker once it commits.
pub async fn insert(
    tx: &mut Write,
    (request_id, version): (i64, &str),
    notice: &Notice,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into pending_notices \
         (request_id, kind, version, audience, detail, actor, created_at) \
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(request_id)
    .bind(notice.kind.as_str())
    .bind(version)
    .bind(notice.audience.encode())
    .bind(&notice.detail)
    .bind(notice.actor)
    .bind(now)
    .execute(&mut ***tx)
    .await?;
    tx.announce(Change::Notices.encode());
    Ok(())
}

/// The oldest `limit` notices waiting, in the order they were written.
pub async fn oldest(
    exec: impl sqlx::Executor<'_, Database = Any>,
    limit: i64,
) -> Result<Vec<PendingNotice>, sqlx::Error> {
    let rows = sqlx::query(
        "select notice_id, request_id, kind, version, audience, detail, actor, created_at \
         from pending_notices order by notice_id limit $1",
    )
    .bind(limit)
    .fetch_all(exec)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(PendingNotice {
                notice_id: r.try_get("notice_id")?,
                request_id: r.try_get("request_id")?,
                kind: r.try_get("kind")?,
                version: r.try_get("version")?,
                audience: r.try_get("audience")?,
                detail: r.try_get("detail")?,
                actor: r.try_get("actor")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}

/// Takes one notice to tell its next people, its row held until the transaction ends: how far
/// it was told (the last user id), or `None` when another worker told it all first.
pub async fn take(tx: &mut Write, notice_id: i64) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "update pending_notices set told_upto = told_upto where notice_id = $1 \
         returning told_upto",
    )
    .bind(notice_id)
    .fetch_optional(&mut ***tx)
    .await
}

/// Records that the notice was told to everyone up to user id `upto`.
pub async fn advance(tx: &mut Write, notice_id: i64, upto: i64) -> Result<(), sqlx::Error> {
    sqlx::query("update pending_notices set told_upto = $2 where notice_id = $1")
        .bind(notice_id)
        .bind(upto)
        .execute(&mut ***tx)
        .await?;
    Ok(())
}

/// Removes a notice told to everyone.
pub async fn remove(tx: &mut Write, notice_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("delete from pending_notices where notice_id = $1")
        .bind(notice_id)
        .execute(&mut ***tx)
        .await?;
    Ok(())
}

/// How many notices wait (for the admin's view and the benchmark).
pub async fn count(exec: impl sqlx::Executor<'_, Database = Any>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("select count(*) from pending_notices")
        .fetch_one(exec)
        .await
}
