//! Reading the audit trail's chain back (to verify it), and chaining the events written before
//! the chain existed.

use super::requests::Tx;
use super::{Db, Write};
use crate::domain::audit_chain::{link, Stored};
use sqlx::Row;

/// Requests after `after` (by id) with their head, at most `limit`.
pub async fn heads(
    exec: impl sqlx::Executor<'_, Database = sqlx::Any>,
    after: i64,
    limit: i64,
) -> Result<Vec<(i64, Option<String>)>, sqlx::Error> {
    sqlx::query_as(
        "select request_id, audit_head from requests where request_id > $1 \
         order by request_id limit $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(exec)
    .await
}

/// Every event of requests `from` to `to` (inclusive), by request then in the order written.
pub async fn events(
    exec: impl sqlx::Executor<'_, Database = sqlx::Any>,
    from: i64,
    to: i64,
) -> Result<Vec<Stored>, sqlx::Error> {
    sqlx::query(
        "select event_id, request_id, actor_id, kind, payload, at, prev_hash, hash \
         from request_events where request_id between $1 and $2 \
         order by request_id, event_id",
    )
    .bind(from)
    .bind(to)
    .fetch_all(exec)
    .await?
    .iter()
    .map(stored)
    .collect()
}

/// An event row as the chain checks it.
pub(super) fn stored(r: &sqlx::any::AnyRow) -> Result<Stored, sqlx::Error> {
    Ok(Stored {
        event_id: r.try_get("event_id")?,
        request_id: r.try_get("request_id")?,
        actor_id: r.try_get("actor_id")?,
        kind: r.try_get("kind")?,
        payload: r.try_get("payload")?,
        at: r.try_get("at")?,
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}

/// Requests chained at once when catching up.
const BATCH: i64 = 200;

/// Chains the trails of requests that have none yet (written before the chain existed), a batch
/// of requests per transaction; returns how many requests were chained. A request already
/// chained is never touched again: its hashes are what verifying checks.
pub async fn chain_unchained(db: &Db) -> Result<usize, sqlx::Error> {
    let cutoff: i64 = sqlx::query_scalar("select chained_upto from audit_chain_start")
        .fetch_one(&db.pool)
        .await?;
    let mut chained = 0;
    if cutoff == 0 {
        // Nothing was written before the chain: no start-up walk over the requests.
        return Ok(chained);
    }
    loop {
        // Only trails wholly from before the chain: a request whose head or hashes were removed
        // later is reported by verifying, never chained again.
        let ids: Vec<i64> = sqlx::query_scalar(
            "select request_id from requests r where audit_head is null \
             and exists (select 1 from request_events e where e.request_id = r.request_id \
                 and e.event_id <= (select chained_upto from audit_chain_start)) \
             and not exists (select 1 from request_events e where e.request_id = r.request_id \
                 and e.hash is not null) \
             order by request_id limit $1",
        )
        .bind(BATCH)
        .fetch_all(&db.pool)
        .await?;
        let (Some(&from), Some(&to)) = (ids.first(), ids.last()) else {
            return Ok(chained);
        };
        let mut tx = db.write().await?;
        let events: Vec<Stored> = events(&mut **tx, from, to)
            .await?
            .into_iter()
            .filter(|e| e.event_id <= cutoff)
            .collect();
        for id in &ids {
            chain_one(&mut tx, *id, events.iter().filter(|e| e.request_id == *id)).await?;
        }
        tx.commit_unseen().await?;
        chained += ids.len();
    }
}

async fn chain_one<'a>(
    tx: &mut Write,
    request_id: i64,
    events: impl Iterator<Item = &'a Stored>,
) -> Result<(), sqlx::Error> {
    // Taken again in the transaction: another replica starting at once may have chained it.
    if take_head(&mut *tx, request_id).await?.is_some() {
        return Ok(());
    }
    let mut prev = String::new();
    for e in events {
        let hash = link(&prev, &e.content());
        sqlx::query("update request_events set prev_hash = $2, hash = $3 where event_id = $1")
            .bind(e.event_id)
            .bind(&prev)
            .bind(&hash)
            .execute(&mut ***tx)
            .await?;
        prev = hash;
    }
    set_head(&mut *tx, request_id, &prev).await
}

/// The hash of the request's last event, its row taken for the rest of the transaction (so
/// that two writers of one request's trail chain one after the other).
pub(super) async fn take_head(
    tx: &mut Tx<'_>,
    request_id: i64,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "update requests set audit_head = audit_head where request_id = $1 returning audit_head",
    )
    .bind(request_id)
    .fetch_one(&mut **tx)
    .await
}

/// Records `hash` as the request's last event's.
pub(super) async fn set_head(
    tx: &mut Tx<'_>,
    request_id: i64,
    hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("update requests set audit_head = $2 where request_id = $1")
        .bind(request_id)
        .bind(hash)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Which events an export takes. Empty filters match all.
#[derive(Debug, Clone, Default)]
pub struct ExportQuery {
    /// Events after this id (the previous page's last), 0 for the first.
    pub after: i64,
    /// Written at or after, before (milliseconds).
    pub from: Option<i64>,
    pub until: Option<i64>,
    /// Of these applications only (`None`: every one).
    pub applications: Option<Vec<String>>,
    /// By this person (user name).
    pub person: Option<String>,
    pub limit: i64,
}

/// An event as exported.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ExportRow {
    pub event_id: i64,
    pub request_id: i64,
    pub application: String,
    pub environment: String,
    pub at: i64,
    pub actor: Option<String>,
    pub kind: String,
    pub payload: String,
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
}

/// A page of events in the order written.
pub async fn export(db: &Db, q: &ExportQuery) -> Result<Vec<ExportRow>, sqlx::Error> {
    let mut binds: Vec<String> = vec![q.after.to_string()];
    let mut conditions = vec!["e.event_id > cast($1 as bigint)".to_owned()];
    let mut param = |v: String| {
        binds.push(v);
        format!("${}", binds.len())
    };
    if let Some(from) = q.from {
        conditions.push(format!(
            "e.at >= cast({} as bigint)",
            param(from.to_string())
        ));
    }
    if let Some(until) = q.until {
        conditions.push(format!(
            "e.at < cast({} as bigint)",
            param(until.to_string())
        ));
    }
    if let Some(apps) = &q.applications {
        let marks: Vec<String> = apps.iter().map(|a| param(a.clone())).collect();
        conditions.push(match marks.is_empty() {
            true => "1 = 0".to_owned(),
            false => format!("r.application_id in ({})", marks.join(", ")),
        });
    }
    if let Some(person) = &q.person {
        conditions.push(format!("u.username = {}", param(person.clone())));
    }
    let sql = format!(
        "select e.event_id, e.request_id, r.application_id, r.environment_id, e.at, \
         u.username, e.kind, e.payload, e.prev_hash, e.hash from request_events e \
         join requests r on r.request_id = e.request_id \
         left join users u on u.user_id = e.actor_id \
         where {} order by e.event_id limit {}",
        conditions.join(" and "),
        q.limit.clamp(1, 10_000)
    );
    let mut query = sqlx::query(&sql);
    for b in &binds {
        query = query.bind(b.as_str());
    }
    query
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(ExportRow {
                event_id: r.try_get("event_id")?,
                request_id: r.try_get("request_id")?,
                application: r.try_get("application_id")?,
                environment: r.try_get("environment_id")?,
                at: r.try_get("at")?,
                actor: r.try_get("username")?,
                kind: r.try_get("kind")?,
                payload: r.try_get("payload")?,
                prev_hash: r.try_get("prev_hash")?,
                hash: r.try_get("hash")?,
            })
        })
        .collect()
}
