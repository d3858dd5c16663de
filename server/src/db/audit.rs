//! Requests' audit trails.

use super::requests::Tx;
use crate::domain::audit::AuditEvent;
use sqlx::{Any, Row};

/// Appends to the audit trail (see `db::apply`).
pub(super) async fn event(
    tx: &mut Tx<'_>,
    request_id: i64,
    actor_id: Option<i64>,
    event: &AuditEvent,
    now: i64,
) -> Result<(), sqlx::Error> {
    let (kind, payload) = event.to_columns();
    sqlx::query("insert into request_events (request_id, actor_id, kind, payload, at) values ($1, $2, $3, $4, $5)")
        .bind(request_id)
        .bind(actor_id)
        .bind(kind)
        .bind(payload)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
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
