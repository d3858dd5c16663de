//! Telling people: the fan-out of each notice to the people it names, the words of each
//! notification, the mail that carries them (askama templates, text and HTML), chat messages,
//! and the worker that delivers both outboxes.

pub mod chat;
pub mod digest;
pub mod fanout;
pub mod mail;
pub mod transport;
pub mod worker;

use crate::domain::notice::Kind;

/// What a notification's words name.
#[derive(Debug, Clone)]
pub struct Names<'a> {
    pub application: &'a str,
    pub environment: &'a str,
    pub version: &'a str,
    pub requester: &'a str,
    pub request_id: i64,
    /// An emergency change: its subjects say so first.
    pub emergency: bool,
}

impl<'a> Names<'a> {
    /// The names of request `request_id` of `app_id` to `env_id`, from the catalog (its ids when
    /// the catalog no longer has them).
    pub fn of(
        catalog: &'a crate::domain::Catalog,
        (app_id, env_id): (&'a str, &'a str),
        version: &'a str,
        requester: &'a str,
        (request_id, emergency): (i64, bool),
    ) -> Names<'a> {
        let app = catalog.application(app_id);
        Names {
            application: app.map_or(app_id, |a| a.name.as_str()),
            environment: app
                .and_then(|a| a.environment(env_id))
                .map_or(env_id, |e| e.name.as_str()),
            version,
            requester,
            request_id,
            emergency,
        }
    }
}

/// A subject line a person can triage from: what, which release, where, from whom.
pub fn subject(kind: Kind, n: &Names<'_>) -> String {
    let release = format!("{} {} to {}", n.application, n.version, n.environment);
    let said = said(kind, n, &release);
    if n.emergency {
        format!("[Emergency] {said}")
    } else {
        said
    }
}

fn said(kind: Kind, n: &Names<'_>, release: &str) -> String {
    match kind {
        Kind::ApprovalNeeded => format!("Approval needed: {release}, from {}", n.requester),
        Kind::Reminder => format!(
            "Reminder, approval still needed: {release}, from {}",
            n.requester
        ),
        Kind::Escalation => format!(
            "Escalated, still waiting for approval: {release}, from {}",
            n.requester
        ),
        Kind::Approved => format!("Approved: {release}"),
        Kind::Rejected => format!("Rejected: {release}"),
        Kind::Cancelled => format!("Cancelled: {release}"),
        Kind::ApprovalsVoided => format!("Approvals voided by an edit: {release}"),
        Kind::ApprovalsLapsed => format!("Approvals lapsed: {release}"),
        Kind::DeployStarted => format!("Deployment started: {release}"),
        Kind::Deployed => format!("Deployed: {release}"),
        Kind::DeployFailed => format!("Deployment failed: {release}, from {}", n.requester),
        Kind::TicketOpened => format!("Ticket opened: {release} (request #{})", n.request_id),
    }
}
