//! A message as it is mailed: one askama template per notification kind, in text and in HTML
//! (inline styles, no remote images), the later notifications folded into it listed below.

use super::Names;
use crate::domain::notice::Kind;
use askama::Template;

/// One more notification folded into a message.
#[derive(Debug, Clone)]
pub struct Also {
    pub subject: String,
    pub detail: String,
}

/// What every template reads.
#[derive(Debug, Clone)]
pub struct View {
    pub subject: String,
    pub application: String,
    pub environment: String,
    pub version: String,
    pub requester: String,
    pub request_id: i64,
    pub detail: String,
    /// The request's page: the only thing the message links to.
    pub link: String,
    pub profile: String,
    pub also: Vec<Also>,
}

impl View {
    /// The view of a notification of `kind` about the request `names` describe, on the portal at
    /// `base_url`.
    pub fn new(kind: Kind, names: &Names<'_>, detail: &str, base_url: &str) -> View {
        let base = base_url.trim_end_matches('/');
        View {
            subject: super::subject(kind, names),
            application: names.application.to_owned(),
            environment: names.environment.to_owned(),
            version: names.version.to_owned(),
            requester: names.requester.to_owned(),
            request_id: names.request_id,
            detail: detail.to_owned(),
            link: format!("{base}/requests/{}", names.request_id),
            profile: format!("{base}/profile"),
            also: Vec::new(),
        }
    }
}

/// A message ready for a transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

macro_rules! kinds {
    ($($kind:ident => $text:ident, $html:ident, $txt_path:literal, $html_path:literal;)*) => {
        $(
            #[derive(Template)]
            #[template(path = $txt_path)]
            struct $text<'a> {
                m: &'a View,
            }
            #[derive(Template)]
            #[template(path = $html_path)]
            struct $html<'a> {
                m: &'a View,
            }
        )*

        /// The text and HTML parts of a message of `kind`.
        pub fn render(kind: Kind, m: &View) -> Result<Rendered, askama::Error> {
            let (text, html) = match kind {
                $(Kind::$kind => ($text { m }.render()?, $html { m }.render()?),)*
            };
            Ok(Rendered {
                subject: one_line(&m.subject),
                text,
                html,
            })
        }
    };
}

kinds! {
    ApprovalNeeded => ApprovalNeededText, ApprovalNeededHtml, "mail/approval_needed.txt", "mail/approval_needed.html";
    Reminder => ReminderText, ReminderHtml, "mail/reminder.txt", "mail/reminder.html";
    Escalation => EscalationText, EscalationHtml, "mail/escalation.txt", "mail/escalation.html";
    Approved => ApprovedText, ApprovedHtml, "mail/approved.txt", "mail/approved.html";
    Rejected => RejectedText, RejectedHtml, "mail/rejected.txt", "mail/rejected.html";
    Cancelled => CancelledText, CancelledHtml, "mail/cancelled.txt", "mail/cancelled.html";
    ApprovalsVoided => ApprovalsVoidedText, ApprovalsVoidedHtml, "mail/approvals_voided.txt", "mail/approvals_voided.html";
    ApprovalsLapsed => ApprovalsLapsedText, ApprovalsLapsedHtml, "mail/approvals_lapsed.txt", "mail/approvals_lapsed.html";
    DeployStarted => DeployStartedText, DeployStartedHtml, "mail/deploy_started.txt", "mail/deploy_started.html";
    Deployed => DeployedText, DeployedHtml, "mail/deployed.txt", "mail/deployed.html";
    DeployFailed => DeployFailedText, DeployFailedHtml, "mail/deploy_failed.txt", "mail/deploy_failed.html";
    TicketOpened => TicketOpenedText, TicketOpenedHtml, "mail/ticket_opened.txt", "mail/ticket_opened.html";
}

/// A subject on one line: no control character can start another header.
pub(super) fn one_line(s: &str) -> String {
    let line: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    line.chars().take(200).collect()
}

#[cfg(test)]
#[path = "mail_tests.rs"]
mod tests;
