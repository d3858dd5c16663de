//! Delivers the mail outbox: every due message of one address and one request folded into one,
//! sent with a `Message-ID` that stays the same if it has to be sent again (after a crash between
//! sending and recording, mail clients fold the copy), failures tried again with back-off.

use super::mail::{self, Also, View};
use super::transport::{SendError, Transport};
use super::Names;
use crate::db::mail::{self as n, QueuedMail};
use crate::db::{now_ms, Db};
use crate::domain::notice::Kind;
use crate::domain::Catalog;
use std::time::Duration;

/// How long a worker holds the mail it took before another may take it.
const LEASE_MS: i64 = 120_000;
/// Tries before a message is marked failed for admins to see.
const TRIES: i64 = 8;

/// What the worker needs besides the database.
pub struct Mailer {
    pub transport: Transport,
    pub from: String,
    pub public_url: String,
}

/// Messages sent at once: each waits on the SMTP server's answers, not on this process.
const PARALLEL: usize = 8;

/// Sends every message due now, several at once; returns how many went.
pub async fn deliver_due(db: &Db, catalog: &Catalog, mailer: &Mailer) -> anyhow::Result<usize> {
    use futures_util::StreamExt;
    let queued = n::claim_due(db, now_ms(), LEASE_MS, 50).await?;
    let outcomes: Vec<anyhow::Result<bool>> = futures_util::stream::iter(folded(queued))
        .map(|group| async move { deliver(db, catalog, mailer, &group).await })
        .buffer_unordered(PARALLEL)
        .collect()
        .await;
    let mut sent = 0;
    for outcome in outcomes {
        sent += usize::from(outcome?);
    }
    Ok(sent)
}

/// The claimed mail in messages: one per address and request, oldest first.
fn folded(queued: Vec<QueuedMail>) -> Vec<Vec<QueuedMail>> {
    let mut groups: Vec<Vec<QueuedMail>> = Vec::new();
    for m in queued {
        match groups
            .iter_mut()
            .find(|g| g[0].address == m.address && g[0].request_id == m.request_id)
        {
            Some(g) => g.push(m),
            None => groups.push(vec![m]),
        }
    }
    groups
}

/// The message id of a group: named by its first mail, so sending it again keeps it.
pub fn message_id(first_mail: i64, public_url: &str) -> String {
    format!("<runway.mail.{first_mail}@{}>", host(public_url))
}

/// The portal's host, which names its messages.
pub(super) fn host(public_url: &str) -> &str {
    public_url
        .split("://")
        .nth(1)
        .and_then(|h| h.split(['/', ':']).next())
        .filter(|h| !h.is_empty())
        .unwrap_or("runway.invalid")
}

async fn deliver(
    db: &Db,
    catalog: &Catalog,
    mailer: &Mailer,
    group: &[QueuedMail],
) -> anyhow::Result<bool> {
    let first = &group[0];
    let ids: Vec<i64> = group.iter().map(|m| m.mail_id).collect();
    let Some(request) = crate::db::requests::get(&db.pool, first.request_id).await? else {
        n::attempt_failed(db, &ids, "the request no longer exists", None).await?;
        return Ok(false);
    };
    let requester = crate::db::users::by_id(db, request.requester_id)
        .await?
        .map(|u| u.display_name)
        .unwrap_or_default();
    let names = Names::of(
        catalog,
        (&request.application_id, &request.environment_id),
        &request.version,
        &requester,
        (request.id, request.change.is_emergency()),
    );
    let kind = Kind::parse(&first.kind).unwrap_or(Kind::ApprovalNeeded);
    let mut view = View::new(kind, &names, &first.detail, &mailer.public_url);
    view.also = group[1..]
        .iter()
        .map(|m| Also {
            subject: m.subject.clone(),
            detail: m.detail.clone(),
        })
        .collect();
    if group.len() > 1 {
        view.subject = format!("{} (and {} more)", view.subject, group.len() - 1);
    }
    let rendered = mail::render(kind, &view)?;
    let id = message_id(first.mail_id, &mailer.public_url);
    let outcome = mailer
        .transport
        .send(&mailer.from, &first.address, &id, &rendered)
        .await;
    match outcome {
        Ok(()) => {
            crate::dispatch::crash_point("mail_sent");
            n::sent(db, &ids, &id, now_ms()).await?;
            tracing::info!(to = %first.address, request = first.request_id, folded = group.len(), "mail sent");
            Ok(true)
        }
        Err(e) => {
            let attempt = first.attempts + 1;
            let retry_at = match &e {
                SendError::Transient(_) if attempt < TRIES => {
                    Some(now_ms() + backoff(attempt).as_millis() as i64)
                }
                _ => None,
            };
            tracing::warn!(to = %first.address, request = first.request_id, attempt, error = %e, "mail not sent");
            n::attempt_failed(db, &ids, &e.to_string(), retry_at).await?;
            Ok(false)
        }
    }
}

/// 5 s, 10 s, 20 s … up to 10 minutes.
pub(super) fn backoff(attempt: i64) -> Duration {
    let exp = u32::try_from(attempt.clamp(1, 10) - 1).unwrap_or_default();
    Duration::from_secs((5u64 << exp).min(600))
}

/// Runs the worker until the process stops: every two seconds, and at once when a change is
/// committed (most changes queue mail or chat messages).
pub async fn run(state: crate::state::AppState, mailer: Mailer) {
    mailer.transport.check().await;
    let mut changes = state.db.changes.subscribe();
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    let mut digests = tokio::time::interval(Duration::from_secs(60));
    let client = crate::ci::http_client();
    loop {
        tokio::select! {
            _ = digests.tick() => {
                super::digest::run_once(&state.db, &mailer).await;
                continue;
            }
            _ = tick.tick() => {}
            r = changes.recv() => {
                match r.map(crate::db::Change::decode) {
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                    // The mail of a notice is written once the fan-out told it.
                    Ok(crate::db::Change::Notices) => continue,
                    _ => {}
                }
                // Let the rest of a burst of changes arrive before reading the outbox.
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        let catalog = state.catalog.current();
        if let Err(e) = deliver_due(&state.db, &catalog.catalog, &mailer).await {
            tracing::warn!(error = %e, "cannot deliver mail");
        }
        if let Err(e) = super::chat::deliver_due(&state.db, &client, &mailer.public_url).await {
            tracing::warn!(error = %e, "cannot post chat messages");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_ten_minutes() {
        assert_eq!(backoff(1), Duration::from_secs(5));
        assert_eq!(backoff(2), Duration::from_secs(10));
        assert_eq!(backoff(9), Duration::from_secs(600));
    }

    #[test]
    fn the_message_id_is_named_by_the_first_mail_and_the_portal_host() {
        assert_eq!(
            message_id(42, "https://runway.example:8443/x"),
            "<runway.mail.42@runway.example>"
        );
        assert_eq!(message_id(7, ""), "<runway.mail.7@runway.invalid>");
    }
}
