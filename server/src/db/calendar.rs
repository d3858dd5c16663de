//! What the change calendar shows of the requests: scheduled deployments, those in progress and
//! those that ended, in a range of time.

use super::requests::placeholders;
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
    /// When it is set for, or ended; now for one in progress.
    pub at: i64,
    /// `normal`, `emergency`, `rollback` or `standard`.
    pub change_kind: String,
}

/// The deployments of `applications` in [`from`, `to`): set for a time in it (approved and
/// waiting for it, or still awaiting approval), in progress (shown now, when now is in it), or
/// ended in it; oldest first, 2000 at most.
pub async fn entries(
    db: &Db,
    applications: &[String],
    (from, to): (i64, i64),
    now: i64,
) -> Result<Vec<Entry>, sqlx::Error> {
    if applications.is_empty() {
        return Ok(Vec::new());
    }
    let apps = placeholders(3, applications.len());
    let sql = format!(
        "select request_id, application_id, environment_id, version, \
                case when state = 'pending_approval' then 'awaiting approval' else 'scheduled' end, \
                scheduled_at, change_kind \
           from requests where state in ('pending_approval', 'approved', 'scheduled') \
            and scheduled_at >= $1 and scheduled_at < $2 and application_id in ({apps}) \
         union all \
         select request_id, application_id, environment_id, version, 'deploying', $3, \
                change_kind \
           from requests where state in ('provisioning', 'deploying') and $3 >= $1 and $3 < $2 \
            and application_id in ({apps}) \
         union all \
         select d.request_id, d.application_id, d.environment_id, d.version, \
                case when d.succeeded = 1 then 'succeeded' else 'failed' end, d.finished_at, \
                r.change_kind \
           from deployments d join requests r on r.request_id = d.request_id \
          where d.finished_at >= $1 and d.finished_at < $2 and d.application_id in ({apps}) \
         order by 6, 1 limit 2000"
    );
    let mut query = sqlx::query_as(&sql).bind(from).bind(to).bind(now);
    for app in applications {
        query = query.bind(app);
    }
    let rows: Vec<(i64, String, String, String, String, i64, String)> =
        query.fetch_all(&db.pool).await?;
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
