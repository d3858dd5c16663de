//! Presenters of a person's notifications and profile.

use super::request_page::format_local;
use crate::db::notifications::{self as n, NotificationRow};
use crate::db::users;
use crate::db::Db;
use crate::domain::format_ms;
use crate::domain::notice::{mailed, Kind};
use app::model::{
    ApiError, InboxItem, InboxView, MailChoice, MailLine, MailOutboxView, ProfileView, Viewer,
};

/// How many notifications a page shows.
const PAGE: i64 = 50;

pub async fn inbox(db: &Db, viewer: &Viewer, before: i64) -> Result<InboxView, sqlx::Error> {
    let zone = viewer.time_zone.as_str();
    let mut rows = n::inbox(db, viewer.id, before, PAGE + 1).await?;
    let older = (rows.len() as i64 > PAGE).then(|| {
        rows.truncate(PAGE as usize);
        rows.last().map(|r| r.id).unwrap_or_default()
    });
    Ok(InboxView {
        items: rows.into_iter().map(|r| item(r, zone)).collect(),
        unread: n::unread(db, viewer.id).await?,
        older,
        posted: Default::default(),
    })
}

fn item(r: NotificationRow, zone: &str) -> InboxItem {
    InboxItem {
        id: r.id,
        request_id: r.request_id,
        kind: r.kind,
        subject: r.subject,
        detail: r.detail,
        at: format_local(r.created_at, zone),
        at_utc: format_ms(r.created_at),
        read: r.read,
    }
}

/// The day `ms` falls on in `zone`, as YYYY-MM-DD.
fn day(ms: i64, zone: &str) -> String {
    let tz = jiff::tz::TimeZone::get(zone).unwrap_or(jiff::tz::TimeZone::UTC);
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_zoned_datetime(tz).date().to_string())
        .unwrap_or_default()
}

pub async fn profile(db: &Db, viewer: &Viewer) -> Result<ProfileView, sqlx::Error> {
    let p = users::profile(db, viewer.id).await?;
    let away = crate::db::away::get(db, viewer.id).await?;
    let zone = viewer.time_zone.clone();
    Ok(ProfileView {
        username: viewer.username.clone(),
        display_name: viewer.display_name.clone(),
        choices: Kind::ALL
            .into_iter()
            .map(|k| MailChoice {
                kind: k.as_str().to_owned(),
                label: k.label().to_owned(),
                on: mailed(k, &p.mail_prefs),
            })
            .collect(),
        digest: crate::domain::notice::digest(&p.mail_prefs),
        away_from: away
            .as_ref()
            .map(|a| day(a.from, &zone))
            .unwrap_or_default(),
        away_until: away
            .as_ref()
            .map(|a| day(a.until - 1, &zone))
            .unwrap_or_default(),
        delegate: away.map(|a| a.delegate_username).unwrap_or_default(),
        email: p.email,
        time_zone: p.time_zone,
        posted: Default::default(),
    })
}

/// Administrators: the latest mail, failures first, and where it goes.
pub async fn mail_outbox(
    db: &Db,
    settings: &crate::config::Settings,
    viewer: &Viewer,
) -> Result<MailOutboxView, ApiError> {
    if !viewer.roles.admin {
        return Err(ApiError::Forbidden(
            "Only administrators see the mail outbox.".into(),
        ));
    }
    let rows = crate::db::mail::outbox(db, 200)
        .await
        .map_err(super::viewer::internal)?;
    let chat = crate::db::chat::recent(db, 100)
        .await
        .map_err(super::viewer::internal)?;
    let destination = match &settings.smtp_url {
        Some(url) => format!("Mail goes through the SMTP server {url}."),
        None => format!(
            "No SMTP server is set (RUNWAY_SMTP_URL): each message is written as an .eml file in {}.",
            settings.data_dir.join("mail").display()
        ),
    };
    Ok(MailOutboxView {
        lines: rows
            .into_iter()
            .map(|r| MailLine {
                id: r.mail_id,
                address: r.address,
                request_id: r.request_id,
                subject: r.subject,
                when: format_ms(r.sent_at.unwrap_or(r.due_at)),
                state: r.state,
                attempts: r.attempts,
                last_error: r.last_error,
            })
            .collect(),
        chat: chat
            .into_iter()
            .map(|r| MailLine {
                id: r.id,
                address: r.webhook_env,
                request_id: r.request_id,
                subject: r.body.lines().next().unwrap_or_default().to_owned(),
                when: format_ms(r.due_at),
                state: r.state,
                attempts: r.attempts,
                last_error: r.last_error,
            })
            .collect(),
        destination,
    })
}
