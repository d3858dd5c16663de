//! tower-sessions store in the portal's own database, so a login survives a restart and is
//! shared by every replica.

use super::{now_ms, Db};
use async_trait::async_trait;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};

#[derive(Debug, Clone)]
pub struct SqlSessionStore {
    db: Db,
    /// What this process last wrote for each session: a digest of its data and its expiry.
    written: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<Id, (u64, i64)>>>,
}

/// A session whose data did not change is written again only when its expiry moved by more than
/// this: an idle timeout counted to the minute spares a database write on every page view.
const EXPIRY_SLACK_MS: i64 = 60_000;

impl SqlSessionStore {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            written: std::sync::Arc::default(),
        }
    }

    fn written(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<Id, (u64, i64)>> {
        self.written.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A digest of a session's data, independent of its map's iteration order.
fn digest(record: &Record) -> u64 {
    use std::hash::{Hash, Hasher};
    let sorted: std::collections::BTreeMap<_, _> = record.data.iter().collect();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    serde_json::to_string(&sorted)
        .unwrap_or_default()
        .hash(&mut hasher);
    hasher.finish()
}

fn backend(e: sqlx::Error) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

/// Whose session it is, so that disabling them can end it (see `users::set_disabled`).
fn user_of(record: &Record) -> Option<i64> {
    record.data.get(crate::auth::SESSION_USER)?.as_i64()
}

fn expires_ms(record: &Record) -> i64 {
    let t = record.expiry_date;
    t.unix_timestamp() * 1000 + i64::from(t.millisecond())
}

/// Whether the session `id` is still open.
pub async fn exists(db: &Db, id: &str) -> Result<bool, sqlx::Error> {
    let found: i64 = sqlx::query_scalar(
        "select count(*) from sessions where session_id = $1 and expires_at > $2",
    )
    .bind(id)
    .bind(now_ms())
    .fetch_one(&db.pool)
    .await?;
    Ok(found > 0)
}

#[async_trait]
impl SessionStore for SqlSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let data = serde_json::to_string(&record)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        // An id collision is astronomically unlikely, but a new id is cheap.
        loop {
            let inserted = self
                .db
                .write_one(
                    sqlx::query(
                        "insert into sessions (session_id, data, expires_at, user_id) \
                         values ($1, $2, $3, $4) on conflict (session_id) do nothing",
                    )
                    .bind(record.id.to_string())
                    .bind(&data)
                    .bind(expires_ms(record))
                    .bind(user_of(record)),
                )
                .await
                .map_err(backend)?;
            if inserted.rows_affected() == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let (hash, expires) = (digest(record), expires_ms(record));
        if self
            .written()
            .get(&record.id)
            .is_some_and(|(h, e)| *h == hash && (expires - e).abs() < EXPIRY_SLACK_MS)
        {
            return Ok(());
        }
        let data = serde_json::to_string(&record)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        // Only a session that still exists is written: a page answered after its sign-out (or
        // after the person was signed out elsewhere) must not bring the deleted row back.
        // New sessions are made by `create`.
        let updated = self
            .db
            .write_one(
                sqlx::query(
                    "update sessions set data = $2, expires_at = $3, user_id = $4 \
                     where session_id = $1",
                )
                .bind(record.id.to_string())
                .bind(data)
                .bind(expires)
                .bind(user_of(record)),
            )
            .await
            .map_err(backend)?;
        let mut written = self.written();
        if updated.rows_affected() == 0 {
            written.remove(&record.id);
            return Ok(());
        }
        if written.len() > 10_000 {
            let now = now_ms();
            written.retain(|_, (_, e)| *e > now);
        }
        written.insert(record.id, (hash, expires));
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let data: Option<String> = sqlx::query_scalar(
            "select data from sessions where session_id = $1 and expires_at > $2",
        )
        .bind(id.to_string())
        .bind(now_ms())
        .fetch_optional(&self.db.pool)
        .await
        .map_err(backend)?;
        data.map(|d| {
            serde_json::from_str(&d).map_err(|e| session_store::Error::Decode(e.to_string()))
        })
        .transpose()
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.written().remove(id);
        self.db
            .write_one(
                sqlx::query("delete from sessions where session_id = $1").bind(id.to_string()),
            )
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[async_trait]
impl ExpiredDeletion for SqlSessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        let now = now_ms();
        self.written().retain(|_, (_, expires)| *expires > now);
        self.db
            .write_one(sqlx::query("delete from sessions where expires_at <= $1").bind(now_ms()))
            .await
            .map_err(backend)?;
        Ok(())
    }
}
