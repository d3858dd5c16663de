//! How the gate's cache hears that another process committed a change, so that it drops what it
//! kept: on PostgreSQL, the notice every commit sends (`Write::commit`), heard with `LISTEN` the
//! moment it commits; on SQLite (one portal, and the command line beside it), the change counter,
//! read ten times a second.

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

/// Tells the cache, while it lives, that something changed; false once it is gone.
fn changed(cache: &Weak<ApiCache>) -> bool {
    cache.upgrade().map(|c| c.changed()).is_some()
}

/// Hears every commit notice but its own (`me`) while the cache lives (until `gone`). Whenever
/// notices may have been missed (before listening, a lost connection), everything kept is
/// dropped, and dropped again every `WATCH_EVERY` until listening resumes.
pub(super) async fn listen(
    url: String,
    me: Arc<str>,
    cache: Weak<ApiCache>,
    mut gone: oneshot::Receiver<()>,
) {
    loop {
        let opened = async {
            let mut listener = PgListener::connect(&url).await?;
            listener.listen(COMMITS_CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        let opened = tokio::select! {
            opened = opened => opened,
            _ = &mut gone => return,
        };
        match opened {
            Ok(mut listener) => {
                if !changed(&cache) {
                    return;
                }
                loop {
                    let notice = tokio::select! {
                        notice = listener.try_recv() => notice,
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

/// Reads the change counter every `WATCH_EVERY` while the cache lives; a new value (another
/// process committed a change) makes everything kept stale.
pub(super) async fn poll_counter(pool: AnyPool, cache: Weak<ApiCache>) {
    let mut seen: Option<i64> = None;
    loop {
        tokio::time::sleep(WATCH_EVERY).await;
        if cache.strong_count() == 0 {
            return;
        }
        let counted = sqlx::query_scalar::<_, i64>("select n from change_counter where id = 1")
            .fetch_one(&pool)
            .await;
        let fresh = match counted {
            Ok(n) => {
                let moved = seen.is_some_and(|s| s != n);
                seen = Some(n);
                !moved
            }
            // Unreadable (the database is down, or not migrated yet): trust nothing kept.
            Err(_) => {
                seen = None;
                false
            }
        };
        if !fresh && !changed(&cache) {
            return;
        }
    }
}
