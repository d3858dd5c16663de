//! Telling people: the words of each notification, the mail that carries them (askama
//! templates, text and HTML), and the worker that delivers the mail outbox.

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
}

/// A subject line a person can triage from: what, which release, where, from whom.
pub fn subject(kind: Kind, n: &Names<'_>) -> String {
    let release = format!("{} {} to {}", n.application, n.version, n.environment);
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
