//! Presenters of a person's notifications and profile.

use super::request_page::format_in_zone;
use crate::db::notifications::{self as n, NotificationRow};
use crate::db::users;
use crate::db::Db;
use crate::domain::format_ms;
use crate::domain::notice::{mailed, Kind};
use app::model::{InboxItem, InboxView, MailChoice, ProfileView, Viewer};

/// How many notifications a page shows.
const PAGE: i64 = 50;

/// The zone a person's times are shown in: theirs, or UTC.
pub fn zone_of(profile: &users::Profile) -> &str {
    if profile.time_zone.is_empty() {
        "UTC"
    } else {
        &profile.time_zone
    }
}

pub async fn inbox(db: &Db, viewer: &Viewer, before: i64) -> Result<InboxView, sqlx::Error> {
    let profile = users::profile(db, viewer.id).await?;
    let zone = zone_of(&profile);
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
        at: format_in_zone(r.created_at, zone),
        at_utc: format_ms(r.created_at),
        read: r.read,
    }
}

pub async fn profile(db: &Db, viewer: &Viewer) -> Result<ProfileView, sqlx::Error> {
    let p = users::profile(db, viewer.id).await?;
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
        email: p.email,
        time_zone: p.time_zone,
        posted: Default::default(),
    })
}
