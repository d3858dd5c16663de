//! The fan-out worker: each notice a change queued (`db::pending_notices`) becomes, right after
//! the commit, an inbox entry for each person its audience names then, the mail for those who
//! receive that kind, and a message for each chat channel it reaches. The change itself wrote one
//! row, whatever the size of the audience.

use crate::db::apply::Target;
use crate::db::notifications::{self as n, NewNotifications, Recipient};
use crate::db::pending_notices::{self as pending, PendingNotice};
use crate::db::{Db, Write};
use crate::domain::notice::{Audience, Kind, Notice};
use crate::domain::Catalog;
use crate::notify::{subject, Names};
use std::time::Duration;

/// Notices read at once.
const BATCH: i64 = 100;

/// Tells every notice waiting, oldest first; returns how many were told.
pub async fn expand_due(db: &Db, catalog: &Catalog) -> Result<usize, sqlx::Error> {
    let mut told = 0;
    loop {
        let due = pending::oldest(&db.pool, BATCH).await?;
        let mut failed = 0;
        for p in &due {
            // One notice that cannot be told now does not hold back the others.
            match expand(db, catalog, p).await {
                Ok(done) => told += usize::from(done),
                Err(e) => {
                    failed += 1;
                    tracing::warn!(notice = p.notice_id, error = %e, "cannot tell a notice; trying again");
                }
            }
        }
        if due.len() < BATCH as usize || failed > 0 {
            return Ok(told);
        }
    }
}

/// Tells one notice, `CHUNK` people per transaction (on SQLite a transaction holds the one
/// write lock, and a change waiting for it should wait for a few rows, not for hundreds): each
/// transaction writes its people's notifications and moves the notice's cursor past them, the
/// last one removes it. Whichever worker holds the notice's row tells the next people, so each is
/// told once.
async fn expand(db: &Db, catalog: &Catalog, p: &PendingNotice) -> Result<bool, sqlx::Error> {
    loop {
        let mut tx = db.write().await?;
        let Some(upto) = pending::take(&mut tx, p.notice_id).await? else {
            return Ok(false);
        };
        let request = crate::db::requests::get(&mut **tx, p.request_id).await?;
        let (Some(kind), Some(audience), Some(request)) =
            (Kind::parse(&p.kind), Audience::decode(&p.audience), request)
        else {
            tracing::warn!(notice = p.notice_id, kind = %p.kind, audience = %p.audience, "a notice that cannot be told is dropped");
            pending::remove(&mut tx, p.notice_id).await?;
            tx.commit_unseen().await?;
            return Ok(false);
        };
        let notice = Notice {
            kind,
            audience,
            detail: p.detail.clone(),
            actor: p.actor,
        };
        let target = Target {
            version: &p.version,
            ..Target::from(&request)
        };
        let more = tell(&mut tx, catalog, &target, &notice, (p.created_at, upto)).await?;
        match more {
            Some(upto) => pending::advance(&mut tx, p.notice_id, upto).await?,
            None => pending::remove(&mut tx, p.notice_id).await?,
        }
        // Inboxes and outboxes only: no gate answer depends on them.
        tx.commit_unseen().await?;
        if more.is_none() {
            return Ok(true);
        }
    }
}

/// People told per transaction.
const CHUNK: usize = 40;

/// Runs until the process stops: at once when a change queued a notice, and every two seconds
/// for those another replica queued or left behind.
pub async fn run(state: crate::state::AppState) {
    use tokio::sync::broadcast::error::RecvError;
    let mut changes = state.db.changes.subscribe();
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            r = changes.recv() => match r.map(crate::db::Change::decode) {
                Ok(crate::db::Change::Notices) | Err(RecvError::Lagged(_)) => {}
                Ok(_) => continue,
                Err(RecvError::Closed) => return,
            },
        }
        let catalog = state.catalog.current();
        if let Err(e) = expand_due(&state.db, &catalog.catalog).await {
            tracing::warn!(error = %e, "cannot tell the notices waiting");
        }
    }
}

/// Writes `notice` for the next `CHUNK` people its audience names now, by user id after `upto`
/// (the chat messages with the first): the last one told when more remain.
async fn tell(
    tx: &mut Write,
    catalog: &Catalog,
    target: &Target<'_>,
    notice: &Notice,
    (now, upto): (i64, i64),
) -> Result<Option<i64>, sqlx::Error> {
    let mut recipients = audience(tx, catalog, target, &notice.audience).await?;
    stand_in(tx, target, &notice.audience, &mut recipients, now).await?;
    recipients.retain(|r| Some(r.user_id) != notice.actor && r.user_id > upto);
    recipients.sort_by_key(|r| r.user_id);
    let more = (recipients.len() > CHUNK).then(|| recipients[CHUNK - 1].user_id);
    recipients.truncate(CHUNK);
    let channels = match upto {
        0 => crate::notify::chat::channels(catalog, target.application_id, notice),
        _ => Vec::new(),
    };
    if recipients.is_empty() && channels.is_empty() {
        return Ok(more);
    }
    let (requester, change): (String, String) = sqlx::query_as(
        "select u.display_name, r.change_kind from requests r \
         join users u on u.user_id = r.requester_id where r.request_id = $1",
    )
    .bind(target.id)
    .fetch_optional(&mut ***tx)
    .await?
    .unwrap_or_default();
    let names = Names::of(
        catalog,
        (target.application_id, target.environment_id),
        target.version,
        &requester,
        (target.id, change == "emergency"),
    );
    let subject = subject(notice.kind, &names);
    let row = NewNotifications {
        request_id: target.id,
        kind: notice.kind.as_str(),
        subject: &subject,
        detail: &notice.detail,
        now,
    };
    let to: Vec<(i64, Option<&str>)> = recipients
        .iter()
        .map(|r| (r.user_id, r.mails(notice.kind).then_some(r.email.as_str())))
        .collect();
    n::insert(tx, &row, &to).await?;
    if !channels.is_empty() {
        let text = match notice.detail.trim() {
            "" => subject.clone(),
            detail => format!("{subject}\n{detail}"),
        };
        crate::db::chat::insert(tx, target.id, &channels, &text, now).await?;
    }
    for r in &recipients {
        tx.tell(r.user_id);
    }
    Ok(more)
}

/// While a person is away, their delegate is asked in their place (when the policy allows it,
/// and never the requester nor someone told already), and they receive no mail meanwhile: their
/// inbox keeps everything for their return.
async fn stand_in(
    tx: &mut Write,
    target: &Target<'_>,
    audience: &Audience,
    recipients: &mut Vec<Recipient>,
    now: i64,
) -> Result<(), sqlx::Error> {
    let ids: Vec<i64> = recipients.iter().map(|r| r.user_id).collect();
    let away = crate::db::away::delegates(tx, &ids, now).await?;
    let deciders = if away.is_empty() {
        Vec::new()
    } else {
        n::deciders(tx, target.id).await?
    };
    for (person, delegate) in away {
        let Some(r) = recipients.iter_mut().find(|r| r.user_id == person) else {
            continue;
        };
        r.email.clear();
        let asked = matches!(audience, Audience::Approvers { .. }) && target.delegation;
        if !asked
            || delegate == target.requester_id
            || recipients.iter().any(|r| r.user_id == delegate)
            || deciders.contains(&delegate)
        {
            continue;
        }
        recipients.extend(n::person(tx, delegate).await?);
    }
    // A delegate away themselves is asked too (their inbox waits), but not mailed.
    let added: Vec<i64> = recipients
        .iter()
        .map(|r| r.user_id)
        .filter(|id| !ids.contains(id))
        .collect();
    for (person, _) in crate::db::away::delegates(tx, &added, now).await? {
        if let Some(r) = recipients.iter_mut().find(|r| r.user_id == person) {
            r.email.clear();
        }
    }
    Ok(())
}

/// The people an audience names now.
async fn audience(
    tx: &mut Write,
    catalog: &Catalog,
    target: &Target<'_>,
    audience: &Audience,
) -> Result<Vec<Recipient>, sqlx::Error> {
    Ok(match audience {
        Audience::Requester => n::person(tx, target.requester_id)
            .await?
            .into_iter()
            .collect(),
        Audience::Approvers { teams, .. } => {
            // Those who decided already, and the requester, are not asked.
            let mut except = n::deciders(tx, target.id).await?;
            except.push(target.requester_id);
            n::members(tx, teams, &except).await?
        }
        Audience::Team(team) => n::members(tx, std::slice::from_ref(team), &[]).await?,
        Audience::Operations => {
            let ops: Vec<String> = catalog
                .teams
                .iter()
                .filter(|t| t.ops)
                .map(|t| t.id.clone())
                .collect();
            n::members(tx, &ops, &[]).await?
        }
    })
}
