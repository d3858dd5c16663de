//! The administration trail: what was done to accounts, chained as chain 0 (see
//! `domain::audit_chain`), its head kept in `admin_audit_head`.

use super::{DbKind, Write};
use crate::domain::admin_audit::AdminEvent;
use crate::domain::audit_chain::{link, Content, Stored};
use sqlx::{Any, Row};

/// The chain number the administration trail is hashed under (requests' ids start at 1).
pub const CHAIN: i64 = 0;

/// Appends an event in the caller's transaction, after the current head. Taking the head (a row
/// the migration made) locks it (on SQLite the write turn does), so two administrators' actions
/// chain one after the other.
pub async fn append(
    tx: &mut Write,
    kind: DbKind,
    actor_id: Option<i64>,
    event: &AdminEvent,
    now: i64,
) -> sqlx::Result<()> {
    let lock = if kind == DbKind::Postgres {
        " for update"
    } else {
        ""
    };
    let prev: Option<String> = sqlx::query_scalar(&format!(
        "select hash from admin_audit_head where id = 1{lock}"
    ))
    .fetch_optional(&mut ***tx)
    .await?;
    let prev = prev.unwrap_or_default();
    let (kind_col, payload) = event.to_columns();
    let hash = link(
        &prev,
        &Content {
            request_id: CHAIN,
            actor_id,
            kind: &kind_col,
            payload: &payload,
            at: now,
        },
    );
    sqlx::query(
        "insert into admin_events (actor_id, kind, payload, at, prev_hash, hash) \
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(actor_id)
    .bind(&kind_col)
    .bind(&payload)
    .bind(now)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut ***tx)
    .await?;
    sqlx::query("update admin_audit_head set hash = $1 where id = 1")
        .bind(&hash)
        .execute(&mut ***tx)
        .await?;
    Ok(())
}

/// One entry as the administration page lists it.
#[derive(Debug, Clone)]
pub struct Line {
    pub actor: Option<String>,
    pub event: Option<AdminEvent>,
    pub kind: String,
    pub at: i64,
}

/// The newest `limit` entries, newest first.
pub async fn recent(
    exec: impl sqlx::Executor<'_, Database = Any>,
    limit: i64,
) -> sqlx::Result<Vec<Line>> {
    sqlx::query(
        "select u.display_name, e.kind, e.payload, e.at from admin_events e \
         left join users u on u.user_id = e.actor_id order by e.event_id desc limit $1",
    )
    .bind(limit)
    .fetch_all(exec)
    .await?
    .iter()
    .map(|r| {
        let kind: String = r.try_get("kind")?;
        let payload: String = r.try_get("payload")?;
        Ok(Line {
            actor: r.try_get("display_name")?,
            event: AdminEvent::from_columns(&kind, &payload),
            kind,
            at: r.try_get("at")?,
        })
    })
    .collect()
}

/// The whole trail in the order it was written, with its head, for verifying.
pub async fn chain(tx: &mut sqlx::Transaction<'_, Any>) -> sqlx::Result<(Vec<Stored>, String)> {
    let events = sqlx::query(&format!(
        "select event_id, cast({CHAIN} as bigint) as request_id, actor_id, kind, payload, at, \
         prev_hash, hash from admin_events order by event_id"
    ))
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(super::audit_trail::stored)
    .collect::<sqlx::Result<Vec<_>>>()?;
    let head: Option<String> = sqlx::query_scalar("select hash from admin_audit_head where id = 1")
        .fetch_optional(&mut **tx)
        .await?;
    Ok((events, head.unwrap_or_default()))
}
