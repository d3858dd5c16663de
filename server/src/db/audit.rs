//! Requests' audit trails.

use super::requests::Tx;
use crate::domain::audit::AuditEvent;
use crate::domain::audit_chain::{link, Content};
use sqlx::{Any, Row};

/// Appends to the audit trail (see `db::apply`), chained to the request's last event: reading
/// the head also takes the request's row, so two writers of one request chain one after the
/// other.
pub(super) async fn event(
    tx: &mut Tx<'_>,
    request_id: i64,
    actor_id: Option<i64>,
    event: &AuditEvent,
    now: i64,
) -> Result<(), sqlx::Error> {
    let (kind, payload) = event.to_columns();
    let prev = super::audit_trail::take_head(tx, request_id).await?;
    let prev = prev.unwrap_or_default();
    let content = Content {
        request_id,
        actor_id,
        kind: &kind,
        payload: &payload,
        at: now,
    };
    let hash = link(&prev, &content);
    sqlx::query(
        "insert into request_events (request_id, actor_id, kind, payload, at, prev_hash, hash) \
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(request_id)
    .bind(actor_id)
    .bind(&kind)
    .bind(&payload)
    .bind(now)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut **tx)
    .await?;
    super::audit_trail::set_head(tx, request_id, &hash).await
}

#[derive(Debug, Clone)]
pub struct EventRow {
    pub actor: Option<String>,
    pub event: AuditEvent,
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
            event: AuditEvent::from_columns(
                &r.try_get::<String, _>("kind")?,
                &r.try_get::<String, _>("payload")?,
            ),
            at: r.try_get("at")?,
        })
    })
    .collect()
}
