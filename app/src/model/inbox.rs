//! A person's notifications and their profile.

use super::Posted;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboxItem {
    pub id: i64,
    pub request_id: i64,
    pub kind: String,
    pub subject: String,
    pub detail: String,
    /// When, in the viewer's time zone.
    pub at: String,
    /// The same instant in UTC, shown on hover.
    pub at_utc: String,
    pub read: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InboxView {
    pub items: Vec<InboxItem>,
    pub unread: i64,
    /// The id to read further back from, when there are older ones.
    pub older: Option<i64>,
    pub posted: Posted,
}

/// One kind of notification and whether the person receives it by email.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MailChoice {
    pub kind: String,
    pub label: String,
    pub on: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProfileView {
    pub username: String,
    pub display_name: String,
    pub email: String,
    /// IANA name; empty: the browser's.
    pub time_zone: String,
    pub choices: Vec<MailChoice>,
    /// One daily digest (at 08:00 in their zone) instead of single mails.
    pub digest: bool,
    /// Out of office: first and last day (YYYY-MM-DD) and the delegate's user name; empty
    /// when not set.
    #[serde(default)]
    pub away_from: String,
    #[serde(default)]
    pub away_until: String,
    #[serde(default)]
    pub delegate: String,
    pub posted: Posted,
}

/// One message of the mail outbox, as administrators see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MailLine {
    pub id: i64,
    pub address: String,
    pub request_id: i64,
    pub subject: String,
    /// queued, sent or failed.
    pub state: String,
    pub attempts: i64,
    pub last_error: String,
    /// When it was sent, or when it is next tried.
    pub when: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MailOutboxView {
    pub lines: Vec<MailLine>,
    /// Chat messages, as lines whose address is the webhook's environment variable.
    pub chat: Vec<MailLine>,
    /// Where messages go: the SMTP server (its address without a password), or the folder.
    pub destination: String,
}
