//! Changes seen by every replica: on PostgreSQL, each request change announced in this process is
//! sent to the others with `NOTIFY`, and theirs arrive here with `LISTEN`, so live pages and the
//! dispatch worker of every replica wake at once, whichever replica made the change. A catalog
//! version applied on one replica is picked up by the others the same way.

use crate::state::AppState;
use sqlx::postgres::PgListener;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

const CHANNEL: &str = "runway_changes";

/// Ids received from other replicas and re-announced here: not to be sent back out.
type Echoes = Arc<Mutex<HashMap<i64, u32>>>;

/// Starts the two halves (send, receive) on PostgreSQL; nothing to do on SQLite, which has one
/// process. Both end with the returned task.
pub fn spawn(state: AppState) -> Option<tokio::task::JoinHandle<()>> {
    if !state.settings.is_postgres() {
        return None;
    }
    let me = format!("{:016x}", rand::random::<u64>());
    let echoes: Echoes = Arc::default();
    Some(tokio::spawn(async move {
        let sender = tokio::spawn(send(state.clone(), me.clone(), echoes.clone()));
        receive(state, me, echoes).await;
        sender.abort();
    }))
}

async fn send(state: AppState, me: String, echoes: Echoes) {
    let mut changes = state.db.changes.subscribe();
    loop {
        let id = match changes.recv().await {
            Ok(id) => id,
            Err(RecvError::Lagged(_)) => continue,
            Err(RecvError::Closed) => return,
        };
        {
            let mut echoes = echoes.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(n) = echoes.get_mut(&id) {
                *n -= 1;
                if *n == 0 {
                    echoes.remove(&id);
                }
                continue;
            }
        }
        if let Err(e) = sqlx::query("select pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(format!("{me}:{id}"))
            .execute(&state.db.pool)
            .await
        {
            tracing::warn!(error = %e, "cannot tell the other replicas about a change");
        }
    }
}

async fn receive(state: AppState, me: String, echoes: Echoes) {
    loop {
        let mut listener = match PgListener::connect(&state.settings.database_url).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for other replicas' changes; trying again");
                tokio::time::sleep(Duration::from_secs(5)).await;
                continue;
            }
        };
        let channels = [CHANNEL, crate::db::catalog_versions::CATALOG_CHANNEL];
        if let Err(e) = listener.listen_all(channels).await {
            tracing::warn!(error = %e, "cannot listen for other replicas' changes; trying again");
            tokio::time::sleep(Duration::from_secs(5)).await;
            continue;
        }
        // `recv` reconnects by itself; an error here means the connection cannot be restored.
        while let Ok(notification) = listener.recv().await {
            if notification.channel() == crate::db::catalog_versions::CATALOG_CHANNEL {
                if let Err(e) = state.catalog.refresh(&state.db).await {
                    tracing::warn!(error = %e, "cannot pick up the catalog applied elsewhere");
                }
                continue;
            }
            let Some((from, id)) = notification.payload().split_once(':') else {
                continue;
            };
            let Ok(id) = id.parse::<i64>() else { continue };
            if from == me {
                continue;
            }
            *echoes
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry(id)
                .or_default() += 1;
            if state.db.changes.send(id).is_err() {
                // Nobody listens here right now: nothing will echo it.
                echoes.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
