//! The apply step's part for [`Effect::Notify`](crate::domain::lifecycle::Effect): who the
//! audience is now, an inbox entry for each, the mail for those who receive that kind, and a
//! message for each chat channel it reaches.

use super::Target;
use crate::db::notifications::{self as n, NewNotifications, Recipient};
use crate::db::Write;
use crate::domain::notice::{Audience, Notice};
use crate::domain::Catalog;
use crate::notify::{subject, Names};

pub(super) async fn notice(
    tx: &mut Write,
    catalog: &Catalog,
    target: &Target<'_>,
    notice: &Notice,
    now: i64,
) -> Result<(), sqlx::Error> {
    let mut recipients = audience(tx, catalog, target, &notice.audience).await?;
    stand_in(tx, target, &notice.audience, &mut recipients, now).await?;
    recipients.retain(|r| Some(r.user_id) != notice.actor);
    let channels = crate::notify::chat::channels(catalog, target.application_id, notice);
    if recipients.is_empty() && channels.is_empty() {
        return Ok(());
    }
    let requester: String = sqlx::query_scalar("select display_name from users where user_id = $1")
        .bind(target.requester_id)
        .fetch_optional(&mut ***tx)
        .await?
        .unwrap_or_default();
    let names = Names::of(
        catalog,
        (target.application_id, target.environment_id),
        target.version,
        &requester,
        target.id,
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
    Ok(())
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
