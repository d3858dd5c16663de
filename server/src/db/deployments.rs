//! The deployments the delivery metrics read: every request that reached `succeeded` or `failed`,
//! when it got there, and whether an incident was opened on it.

use super::Db;
use crate::domain::dora::Deployment;
use sqlx::Row;

/// The deployments to `environment` of `applications` (every application when `None`) that ended
/// at `since` or later, oldest first.
pub async fn since(
    db: &Db,
    applications: Option<&[String]>,
    environment: &str,
    since: i64,
) -> Result<Vec<Deployment>, sqlx::Error> {
    // A request's last change is the end of its deployment: nothing changes a finished one.
    let rows = sqlx::query(
        "select r.request_id, r.application_id, r.environment_id, r.version, r.created_at, \
                r.updated_at, r.state, \
                (select count(*) from tickets t \
                  where t.request_id = r.request_id and t.kind = 'incident') as incidents \
           from requests r \
          where r.state in ('succeeded', 'failed') and r.environment_id = $1 \
            and r.updated_at >= $2 \
          order by r.updated_at, r.request_id",
    )
    .bind(environment)
    .bind(since)
    .fetch_all(&db.pool)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let application: String = r.try_get("application_id")?;
        if applications.is_some_and(|apps| !apps.contains(&application)) {
            continue;
        }
        out.push(Deployment {
            request_id: r.try_get("request_id")?,
            application,
            environment: r.try_get("environment_id")?,
            version: r.try_get("version")?,
            requested_at: r.try_get("created_at")?,
            commit_at: None,
            finished_at: r.try_get("updated_at")?,
            succeeded: r.try_get::<String, _>("state")? == "succeeded",
            incident: r.try_get::<i64, _>("incidents")? > 0,
        });
    }
    Ok(out)
}
