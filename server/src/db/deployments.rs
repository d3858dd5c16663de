//! The deployments the delivery metrics read, from the requests' audit trail: each deployment
//! that ended (`deployed`, `step_failed`, or a self-deploying pipeline's `pipeline_state` of
//! `succeeded` or `failed`), so a failure retried into a success stays a failure followed by its
//! recovery; and whether an incident was opened on the request.

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
    let rows = sqlx::query(
        "select e.request_id, e.kind, e.payload, e.at, r.application_id, r.environment_id, \
                r.version, r.created_at, \
                (select count(*) from tickets t \
                  where t.request_id = r.request_id and t.kind = 'incident') as incidents \
           from request_events e join requests r on r.request_id = e.request_id \
          where e.kind in ('deployed', 'step_failed', 'pipeline_state') \
            and r.environment_id = $1 and e.at >= $2 \
          order by e.at, e.event_id",
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
        let succeeded = match r.try_get::<String, _>("kind")?.as_str() {
            "deployed" => true,
            "step_failed" => false,
            _ => {
                let payload: String = r.try_get("payload")?;
                let state = serde_json::from_str::<serde_json::Value>(&payload)
                    .ok()
                    .and_then(|p| p["state"].as_str().map(str::to_owned));
                match state.as_deref() {
                    Some("succeeded") => true,
                    Some("failed") => false,
                    _ => continue,
                }
            }
        };
        out.push(Deployment {
            request_id: r.try_get("request_id")?,
            application,
            environment: r.try_get("environment_id")?,
            version: r.try_get("version")?,
            requested_at: r.try_get("created_at")?,
            commit_at: None,
            finished_at: r.try_get("at")?,
            succeeded,
            // An incident is remediation of what was deployed: it marks the request's successes.
            incident: succeeded && r.try_get::<i64, _>("incidents")? > 0,
        });
    }
    Ok(out)
}
