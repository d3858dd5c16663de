//! Messages and refused form input carried across a redirect in the session, shown once.

use app::model::Notice;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tower_sessions::Session;

const KEY: &str = "flash";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Flash {
    /// The page it is meant for.
    pub page: String,
    pub notice: Option<Notice>,
    pub values: BTreeMap<String, String>,
    pub errors: BTreeMap<String, String>,
    /// What the post gave, as JSON, for the page to show once (a new token's secret, a dry
    /// run's answer, a catalog re-apply's outcome).
    #[serde(default)]
    pub outcome: Option<String>,
}

impl Flash {
    /// The outcome as the page's type; `None` when there is none (or it does not read).
    pub fn outcome<T: serde::de::DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_str(self.outcome.as_deref()?).ok()
    }

    /// What the page shows of the post: its notice, the values typed, the refused fields.
    pub fn posted(self) -> app::model::Posted {
        app::model::Posted {
            notice: self.notice,
            values: self.values,
            errors: self.errors.into_iter().collect(),
        }
    }
}

/// The most characters of one typed value a refused form keeps: the longest field the portal
/// takes. A longer value is refused with its message anyway; keeping it whole would park it in
/// the sessions table for as long as the session lives.
pub const MAX_KEPT_CHARS: usize = 10_000;
/// The most values a refused form keeps.
pub const MAX_KEPT_VALUES: usize = 100;

/// At most `max` characters of `text`.
fn clip(text: String, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => text[..cut].to_owned(),
        None => text,
    }
}

/// Everything a flash keeps is bounded: typed values as the longest field, the page key, the
/// notice and each error message far below, since each may echo what a person typed.
pub async fn put(session: &Session, mut flash: Flash) {
    const SHORT: usize = 500;
    let bounded = |map: BTreeMap<String, String>, max: usize| {
        map.into_iter()
            .filter(|(k, _)| k.len() <= 200)
            .take(MAX_KEPT_VALUES)
            .map(|(k, v)| (k, clip(v, max)))
            .collect()
    };
    flash.values = bounded(std::mem::take(&mut flash.values), MAX_KEPT_CHARS);
    flash.errors = bounded(std::mem::take(&mut flash.errors), SHORT);
    flash.page = clip(std::mem::take(&mut flash.page), SHORT);
    // An outcome is made by the portal from bounded input; one far too long is dropped whole,
    // since a clipped one would not read.
    if flash
        .outcome
        .as_ref()
        .is_some_and(|o| o.len() > 4 * MAX_KEPT_CHARS)
    {
        flash.outcome = None;
    }
    if let Some(n) = flash.notice.as_mut() {
        n.text = clip(std::mem::take(&mut n.text), SHORT);
    }
    if let Err(e) = session.insert(KEY, flash).await {
        tracing::warn!(error = %e, "cannot store a flash message");
    }
}

/// The flash for `page`, removed once read; other pages' flashes stay.
pub async fn take(session: &Session, page: &str) -> Option<Flash> {
    let flash: Flash = session.get(KEY).await.ok()??;
    if flash.page != page {
        return None;
    }
    let _ = session.remove::<Flash>(KEY).await;
    Some(flash)
}

/// The flash for `page` of the request being served by a server function.
pub async fn take_current(page: &str) -> Option<Flash> {
    let session: Session = leptos_axum::extract().await.ok()?;
    take(&session, page).await
}

pub fn form_page(app: &str, env: &str) -> String {
    format!("new:{app}:{env}")
}

pub fn request_page(id: i64) -> String {
    format!("request:{id}")
}

pub fn edit_page(id: i64) -> String {
    format!("edit:{id}")
}

pub fn ticket_page(id: i64) -> String {
    format!("ticket:{id}")
}

pub const TOKENS_PAGE: &str = "tokens";
pub const ACCOUNTS_PAGE: &str = "accounts";
pub const GATE_PAGE: &str = "gate";
pub const CATALOG_PAGE: &str = "catalog";
pub const INBOX_PAGE: &str = "inbox";
pub const PROFILE_PAGE: &str = "profile";
pub const CALENDAR_PAGE: &str = "calendar";
