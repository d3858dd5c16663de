//! Who is told of a transition, and of what: read from the transition's own audit entries, so a
//! notification is an effect like any other, written in the same transaction. Pure.

use super::approval::{self, Approval};
use super::audit::AuditEvent;
use super::lifecycle::{Effect, Subject};
use super::request::State;
use super::Policy;

/// What a notification says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The request waits at a stage the recipient may approve.
    ApprovalNeeded,
    /// It has waited longer than the policy's `remind_after`.
    Reminder,
    /// It has waited longer than `escalate_after`; told to the `escalate_to` team.
    Escalation,
    Approved,
    Rejected,
    Cancelled,
    ApprovalsVoided,
    ApprovalsLapsed,
    DeployStarted,
    Deployed,
    DeployFailed,
    TicketOpened,
}

impl Kind {
    pub const ALL: [Kind; 12] = [
        Kind::ApprovalNeeded,
        Kind::Reminder,
        Kind::Escalation,
        Kind::Approved,
        Kind::Rejected,
        Kind::Cancelled,
        Kind::ApprovalsVoided,
        Kind::ApprovalsLapsed,
        Kind::DeployStarted,
        Kind::Deployed,
        Kind::DeployFailed,
        Kind::TicketOpened,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ApprovalNeeded => "approval_needed",
            Kind::Reminder => "reminder",
            Kind::Escalation => "escalation",
            Kind::Approved => "approved",
            Kind::Rejected => "rejected",
            Kind::Cancelled => "cancelled",
            Kind::ApprovalsVoided => "approvals_voided",
            Kind::ApprovalsLapsed => "approvals_lapsed",
            Kind::DeployStarted => "deploy_started",
            Kind::Deployed => "deployed",
            Kind::DeployFailed => "deploy_failed",
            Kind::TicketOpened => "ticket_opened",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Sent by email unless the person turned it off: what asks them to act, and what went wrong.
    pub fn mailed_by_default(self) -> bool {
        matches!(
            self,
            Kind::ApprovalNeeded
                | Kind::Reminder
                | Kind::Escalation
                | Kind::TicketOpened
                | Kind::Rejected
                | Kind::DeployFailed
        )
    }

    /// How the profile page names it.
    pub fn label(self) -> &'static str {
        match self {
            Kind::ApprovalNeeded => "Approval needed",
            Kind::Reminder => "Reminder",
            Kind::Escalation => "Escalation",
            Kind::Approved => "Approved",
            Kind::Rejected => "Rejected",
            Kind::Cancelled => "Cancelled",
            Kind::ApprovalsVoided => "Approvals voided",
            Kind::ApprovalsLapsed => "Approvals lapsed",
            Kind::DeployStarted => "Deployment started",
            Kind::Deployed => "Deployed",
            Kind::DeployFailed => "Deployment failed",
            Kind::TicketOpened => "Ticket opened",
        }
    }
}

/// The preferences' word for one daily digest instead of single mails.
const DIGEST: &str = "digest";

/// Whether `kind` is mailed under `prefs`, the person's changes to the defaults (`+kind`,
/// `-kind`, comma-separated; the last word on a kind wins).
pub fn mailed(kind: Kind, prefs: &str) -> bool {
    last_word(prefs, kind.as_str()).unwrap_or(kind.mailed_by_default())
}

/// Whether the person asked for one daily digest of what they are mailed, instead of a mail
/// each time.
pub fn digest(prefs: &str) -> bool {
    last_word(prefs, DIGEST).unwrap_or(false)
}

fn last_word(prefs: &str, name: &str) -> Option<bool> {
    prefs.rsplit(',').find_map(|p| {
        let (on, word) = match p.trim().split_at_checked(1)? {
            ("+", word) => (true, word),
            ("-", word) => (false, word),
            _ => return None,
        };
        (word == name).then_some(on)
    })
}

/// The preferences that say "mail exactly `kinds`" (as changes to the defaults), each day in
/// one digest when `daily`.
pub fn prefs_for(kinds: &[Kind], daily: bool) -> String {
    Kind::ALL
        .into_iter()
        .filter(|k| k.mailed_by_default() != kinds.contains(k))
        .map(|k| {
            format!(
                "{}{}",
                if kinds.contains(&k) { '+' } else { '-' },
                k.as_str()
            )
        })
        .chain(daily.then(|| format!("+{DIGEST}")))
        .collect::<Vec<_>>()
        .join(",")
}

/// Who is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// The person who asked for the release.
    Requester,
    /// Everyone who may decide at `stage` now: members of `teams`, but never the requester
    /// (unless the policy lets them approve) nor anyone who already decided on the request.
    Approvers { stage: usize, teams: Vec<String> },
    /// Every member of a team.
    Team(String),
    /// Every member of an operations team.
    Operations,
}

impl Audience {
    /// How a notice waiting to be told stores it (team ids are lowercase letters, digits, `-`
    /// and `_`, so neither separator can occur in one).
    pub fn encode(&self) -> String {
        match self {
            Audience::Requester => "requester".to_owned(),
            Audience::Approvers { stage, teams } => {
                format!("approvers:{stage}:{}", teams.join(","))
            }
            Audience::Team(team) => format!("team:{team}"),
            Audience::Operations => "operations".to_owned(),
        }
    }

    /// The audience `encode` wrote.
    pub fn decode(s: &str) -> Option<Audience> {
        match s.split_once(':') {
            None if s == "requester" => Some(Audience::Requester),
            None if s == "operations" => Some(Audience::Operations),
            Some(("team", team)) if !team.is_empty() => Some(Audience::Team(team.to_owned())),
            Some(("approvers", rest)) => {
                let (stage, teams) = rest.split_once(':')?;
                Some(Audience::Approvers {
                    stage: stage.parse().ok()?,
                    teams: teams
                        .split(',')
                        .filter(|t| !t.is_empty())
                        .map(str::to_owned)
                        .collect(),
                })
            }
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub kind: Kind,
    pub audience: Audience,
    /// What the message adds to its subject: a comment, a reason, the CI's message.
    pub detail: String,
    /// Who caused it: never told of their own act.
    pub actor: Option<i64>,
}

/// The notices of a transition from `request` to `state` with `effects`, the approvals standing
/// as `approvals` after it.
pub fn notices(
    request: &Subject,
    policy: &Policy,
    approvals: &[Approval],
    state: State,
    effects: &[Effect],
    now: i64,
) -> Vec<Effect> {
    let mut out = Vec::new();
    let mut tell = |kind, audience, detail: &str, actor| {
        out.push(Effect::Notify(Notice {
            kind,
            audience,
            detail: detail.to_owned(),
            actor,
        }))
    };
    for effect in effects {
        let Effect::Audit { actor, event } = effect else {
            continue;
        };
        let actor = *actor;
        match event {
            AuditEvent::Approved { .. } if request.state.is_some() => {
                tell(Kind::Approved, Audience::Requester, "", actor)
            }
            AuditEvent::Rejected { comment, .. } => {
                tell(Kind::Rejected, Audience::Requester, comment, actor)
            }
            AuditEvent::Cancelled { reason, .. } => {
                tell(Kind::Cancelled, Audience::Requester, reason, actor)
            }
            AuditEvent::ApprovalsVoided { reason, .. } => {
                tell(Kind::ApprovalsVoided, Audience::Requester, reason, actor)
            }
            AuditEvent::ApprovalsLapsed { reason } => {
                tell(Kind::ApprovalsLapsed, Audience::Requester, reason, actor)
            }
            AuditEvent::StepStarted { step, .. }
                if matches!(request.state, Some(State::Approved | State::Scheduled)) =>
            {
                tell(Kind::DeployStarted, Audience::Requester, step, actor)
            }
            AuditEvent::Deployed { .. } => tell(Kind::Deployed, Audience::Requester, "", actor),
            AuditEvent::StepFailed {
                step,
                message,
                target_id,
                ..
            } => {
                let detail = if target_id.is_empty() {
                    format!("{step}: {message}")
                } else {
                    format!("{step} of {target_id}: {message}")
                };
                tell(Kind::DeployFailed, Audience::Requester, &detail, actor);
                tell(Kind::DeployFailed, Audience::Operations, &detail, actor);
            }
            _ => {}
        }
    }
    if let Some((stage, teams)) = reached_stage(request, policy, approvals, state, now) {
        let actor = effects.iter().find_map(|e| match e {
            Effect::Audit { actor, .. } => *actor,
            _ => None,
        });
        tell(
            Kind::ApprovalNeeded,
            Audience::Approvers { stage, teams },
            "",
            actor,
        );
    }
    out
}

/// The stage a request waits at now, with the teams to ask, when it did not wait there before:
/// it was just submitted, a stage was satisfied, or an edit sent it back to the first one.
fn reached_stage(
    request: &Subject,
    policy: &Policy,
    approvals: &[Approval],
    state: State,
    now: i64,
) -> Option<(usize, Vec<String>)> {
    if state != State::PendingApproval {
        return None;
    }
    let after = approval::evaluate(policy, request.requester_id, approvals, now);
    let stage = after.current?;
    let waited_there = request.state == Some(State::PendingApproval)
        && approval::evaluate(policy, request.requester_id, &request.approvals, now).current
            == Some(stage)
        && live_count(policy, approvals, now) >= live_count(policy, &request.approvals, now);
    if waited_there {
        return None;
    }
    let teams = after.stages[stage]
        .rules
        .iter()
        .filter(|r| !r.satisfied())
        .map(|r| r.team.clone())
        .collect();
    Some((stage, teams))
}

/// The approvals that still count: fewer after an edit voided them.
fn live_count(policy: &Policy, approvals: &[Approval], now: i64) -> usize {
    approvals
        .iter()
        .filter(|a| approval::is_live(policy, a, now))
        .count()
}

#[cfg(test)]
#[path = "notice_tests.rs"]
mod tests;
