//! How the gate's cache hears that another process committed a change, so that it drops what it
//! kept: on PostgreSQL, the notice every commit sends (`Write::commit`), heard with `LISTEN` the
//! moment it commits, and the change counter read once a second in case the listening connection
//! died without a word; on SQLite (one portal, and the command line beside it), the change
//! counter, read ten times a second.

use super::cache::ApiCache;
use crate::db::COMMITS_CHANNEL;
use sqlx::postgres::PgListener;
use sqlx::AnyPool;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::oneshot;

/// How often the change counter is read on SQLite, and how often, on PostgreSQL, everything kept
/// is dropped while the notices cannot be heard.
const WATCH_EVERY: Duration = Duration::from_millis(100);
/// How long a lost listening connection waits before it is opened again.
const LISTEN_AGAIN_AFTER: Duration = Duration::from_secs(1);
/// How long opening the listening connection may take before it is tried again.
const CONNECT_WITHIN: Duration = Duration::from_secs(5);
/// While listening, how often the change counter is read as well: a connection that died without
/// a word (a firewall's idle drop) delivers nothing and reports nothing, and what is kept must not
/// outlive that by more than this.
const CHECK_EVERY: Duration = Duration::from_secs(1);

/// Tells the cache, while it lives, that something changed; false once it is gone.
fn changed(cache: &Weak<ApiCache>) -> bool {
    cache.upgrade().map(|c| c.changed()).is_some()
}

/// Hears every commit notice but its own (`me`) while the cache lives (until `gone`). Whenever
/// notices may have been missed (before listening, a lost connection), everything kept is
/// dropped, and dropped again every `WATCH_EVERY` until listening resumes.
pub(super) async fn listen(
    url: String,
    pool: AnyPool,
    me: Arc<str>,
    cache: Weak<ApiCache>,
    mut gone: oneshot::Receiver<()>,
) {
    loop {
        let opened = tokio::time::timeout(CONNECT_WITHIN, async {
            let mut listener = PgListener::connect(&url).await?;
            listener.listen(COMMITS_CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        });
        let opened = tokio::select! {
            opened = opened => opened.unwrap_or_else(|_| Err(sqlx::Error::PoolTimedOut)),
            _ = &mut gone => return,
        };
        match opened {
            Ok(mut listener) => {
                if !changed(&cache) {
                    return;
                }
                let mut counted = count(&pool).await;
                let mut check = tokio::time::interval(CHECK_EVERY);
                loop {
                    let notice = tokio::select! {
                        notice = listener.try_recv() => notice,
                        _ = check.tick() => {
                            let now = count(&pool).await;
                            if now.is_none() || now != counted {
                                counted = now;
                                if !changed(&cache) {
                                    return;
                                }
                            }
                            continue;
                        }
                        _ = &mut gone => return,
                    };
                    let heard = match notice {
                        Ok(Some(notice)) if notice.payload() == &*me => true,
                        // `None`: the connection was lost and opened again, notices missed.
                        Ok(Some(_) | None) => changed(&cache),
                        Err(error) => {
                            tracing::warn!(%error, "the gate no longer hears other replicas' changes; listening again");
                            break;
                        }
                    };
                    if !heard {
                        return;
                    }
                }
            }
            Err(error) => {
                tracing::warn!(%error, "the gate cannot hear other replicas' changes; trying again");
            }
        }
        for _ in 0..(LISTEN_AGAIN_AFTER.as_millis() / WATCH_EVERY.as_millis()) {
            if !changed(&cache) {
                return;
            }
            tokio::select! {
                _ = tokio::time::sleep(WATCH_EVERY) => {}
                _ = &mut gone => return,
            }
        }
    }
}

/// The database's change counter; `None` when it cannot be read (the database is down, or not
/// migrated yet), when nothing kept may be trusted.
async fn count(pool: &AnyPool) -> Option<i64> {
    sqlx::query_scalar::<_, i64>("select n from change_counter where id = 1")
        .fetch_one(pool)
        .await
        .ok()
}

/// Reads the change counter every `WATCH_EVERY` while the cache lives; a new value (another
/// process committed a change) makes everything kept stale.
pub(super) async fn poll_counter(pool: AnyPool, cache: Weak<ApiCache>) {
    let mut seen: Option<i64> = None;
    loop {
        tokio::time::sleep(WATCH_EVERY).await;
        if cache.strong_count() == 0 {
            return;
        }
        let fresh = match count(&pool).await {
            Some(n) => {
                // The first reading counts as a change too: what was kept before it (a token
                // read in the watcher's first moments) may predate a change it cannot see.
                let moved = seen != Some(n);
                seen = Some(n);
                !moved
            }
            None => {
                seen = None;
                false
            }
        };
        if !fresh && !changed(&cache) {
            return;
        }
    }
}
