//! What the change calendar shows of the requests: scheduled deployments, those in progress and
//! those that ended, in a range of time.

use super::Db;

/// One deployment on the calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub request_id: i64,
    pub application_id: String,
    pub environment_id: String,
    pub version: String,
    /// `awaiting approval`, `scheduled`, `deploying`, `succeeded` or `failed`.
    pub status: String,
    /// When it is set for, started, or ended.
    pub at: i64,
    /// `normal`, `emergency`, `rollback` or `standard`.
    pub change_kind: String,
}

/// The deployments of [`from`, `to`): set for a time in it (approved and waiting for it, or
/// still awaiting approval), in progress now (when now is in it), or ended in it; oldest first.
pub async fn entries(db: &Db, from: i64, to: i64, now: i64) -> Result<Vec<Entry>, sqlx::Error> {
    let rows: Vec<(i64, String, String, String, String, i64, String)> = sqlx::query_as(
        "select request_id, application_id, environment_id, version, \
                case when state = 'pending_approval' then 'awaiting approval' else 'scheduled' end, \
                scheduled_at, change_kind \
           from requests where state in ('pending_approval', 'approved', 'scheduled') \
            and scheduled_at >= $1 and scheduled_at < $2 \
         union all \
         select request_id, application_id, environment_id, version, 'deploying', updated_at, \
                change_kind \
           from requests where state in ('provisioning', 'deploying') and $3 >= $1 and $3 < $2 \
         union all \
         select d.request_id, d.application_id, d.environment_id, d.version, \
                case when d.succeeded = 1 then 'succeeded' else 'failed' end, d.finished_at, \
                r.change_kind \
           from deployments d join requests r on r.request_id = d.request_id \
          where d.finished_at >= $1 and d.finished_at < $2 \
         order by 6, 1 limit 2000",
    )
    .bind(from)
    .bind(to)
    .bind(now)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(request_id, application_id, environment_id, version, status, at, change_kind)| {
                Entry {
                    request_id,
                    application_id,
                    environment_id,
                    version,
                    status,
                    at,
                    change_kind,
                }
            },
        )
        .collect())
}
