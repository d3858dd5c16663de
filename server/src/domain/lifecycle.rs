//! A request's lifecycle: one pure function from the request, an event, its policy and the time
//! to the next state and the effects that go with it, or the reason the event is refused.
//! Every change of a request's state goes through [`transition`]; the one apply step in
//! `db::apply` writes the state and every effect in the caller's transaction. A new capability
//! is a new event or a new effect here, never a state written somewhere else.

use super::approval::{self, Approval};
use super::audit::AuditEvent;
use super::notice::Notice;
use super::request::{self, Draft, FieldErrors, State};
use super::{Policy, TicketTrigger};

pub use super::lifecycle_actions::{allowed_actions, Actions};

/// A failed step to run again: of which target (empty for a single one), and its new attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry {
    pub target_id: String,
    pub step: String,
    pub attempt: i64,
}

/// The request as its lifecycle sees it.
#[derive(Debug, Clone)]
pub struct Subject {
    /// `None` before it is stored: the only event it takes then is [`Event::Submitted`].
    pub state: Option<State>,
    pub requester_id: i64,
    pub scheduled_at: Option<i64>,
    /// Its pipeline deploys it: approval does not queue a dispatch.
    pub self_deploy: bool,
    /// Every approval given so far, voided ones included.
    pub approvals: Vec<Approval>,
    /// A CI step of it failed or was cancelled, so operations may run it again.
    pub retryable: bool,
}

/// Who acts.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user_id: i64,
    pub teams: Vec<String>,
    /// Operations or an administrator.
    pub ops: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Approve,
    Reject,
}

/// A CI step's stage result as a pipeline reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageStatus {
    Started,
    Succeeded,
    Failed,
}

impl StageStatus {
    pub fn parse(s: &str) -> Option<StageStatus> {
        match s {
            "started" => Some(StageStatus::Started),
            "succeeded" => Some(StageStatus::Succeeded),
            "failed" => Some(StageStatus::Failed),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            StageStatus::Started => "started",
            StageStatus::Succeeded => "succeeded",
            StageStatus::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone)]
pub enum Event {
    Submitted {
        by: i64,
        version: String,
        origin: String,
        /// The pipeline token that opened it in `by`'s name, and that token's own user.
        on_behalf: Option<(String, String)>,
        /// Normal, an emergency (its policy is the emergency path's) or a rollback (its policy is
        /// the rollback path's).
        change: super::change::Change,
        /// Why it is no standard change, when the environment has rules it did not meet.
        standard_unmet: Option<String>,
    },
    Decided {
        by: Viewer,
        verdict: Verdict,
        comment: String,
    },
    /// `by` decides in the place of `seat`, who is away and named them their delegate.
    DecidedFor {
        by: Viewer,
        seat: Viewer,
        seat_name: String,
        verdict: Verdict,
        comment: String,
    },
    Cancelled {
        by: Viewer,
        reason: String,
    },
    Edited {
        by: Viewer,
        before: Box<Draft>,
        after: Box<Draft>,
    },
    /// The approvals' lifetime ran out before the deployment started.
    ApprovalsLapsed,
    /// The dispatch waits for a window or a freeze to end.
    WaitingForWindow {
        note: String,
    },
    /// The dispatch waits for another deployment of the same application and environment to end.
    WaitingForTurn {
        note: String,
    },
    StepStarted {
        step: String,
        connector: String,
        /// The connector's name for the job.
        target: String,
        /// The fan-out target (component or region); empty for a single target.
        target_id: String,
    },
    /// The CI could not be reached; the dispatch tries again later.
    CiUnreachable {
        step: String,
        attempt: i64,
        next_at: String,
        error: String,
    },
    StepSucceeded {
        step: String,
        target_id: String,
    },
    /// Every CI step succeeded.
    Deployed,
    StepFailed {
        step: String,
        message: String,
        target_id: String,
        /// The deployment ends with it: no other target is still running or left to start
        /// (a parallel fan-out lets the others finish first).
        ends: bool,
    },
    /// The last target of a parallel fan-out ended, and these failed before it.
    TargetsFailed {
        failed: Vec<String>,
    },
    StageResultPosted {
        stage: String,
        status: StageStatus,
        duration_ms: Option<i64>,
        metrics: serde_json::Map<String, serde_json::Value>,
        /// The pipeline token's name.
        by: String,
        /// The stage is the deploy stage of a request whose pipeline deploys it.
        deploys: bool,
        /// When the change was committed, if the pipeline said.
        commit_at: Option<i64>,
    },
    /// Operations run failed steps again: the one of a single target, or of one or more
    /// targets of a fan-out (the others keep what they did).
    Retried {
        by: Viewer,
        retries: Vec<Retry>,
    },
    CancelledByOps {
        by: Viewer,
        reason: String,
        step: Option<String>,
    },
    /// A sweep found the request waiting past a due time it stored (see [`Effect::Chase`]):
    /// the approvers are reminded, the escalation team told. A person's form stays current.
    Overdue {
        remind_at: Option<i64>,
        escalate_at: Option<i64>,
    },
}

/// When a reminder or an escalation falls due, as [`Effect::Chase`] sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// As it was.
    Keep,
    /// Never: the request no longer waits, or it was told already.
    Stop,
    /// After this many seconds of counted time from now.
    After(i64),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Audit {
        actor: Option<i64>,
        event: AuditEvent,
    },
    /// Records a decision at `stage`, voiding the decider's lapsed ones there first; `acted_by`
    /// is the delegate who decided in `user_id`'s place.
    Decision {
        user_id: i64,
        acted_by: Option<i64>,
        teams: Vec<String>,
        stage: usize,
        verdict: Verdict,
        comment: String,
    },
    /// Voids every approval so far: `count` of them, because `material` fields changed.
    VoidApprovals { count: u64, material: Vec<String> },
    /// Stores the edited request.
    Rewrite(Box<Draft>),
    /// Queues the dispatch, due at `at`.
    Enqueue { at: i64 },
    /// Moves the queued dispatch to `at`.
    Reschedule { at: i64 },
    /// Takes back a dispatch that has not started.
    Withdraw,
    /// The teams the approver queue finds the request under (none once it no longer waits).
    Reindex { teams: Vec<String> },
    /// Opens a ticket for each catalog rule the failure matches, telling its team unless
    /// `quiet` (the demo's made-up past).
    RaiseTicket {
        on: Vec<TicketTrigger>,
        what: String,
        detail: String,
        quiet: bool,
    },
    /// Tells people of the change: an inbox entry each, and a mail if they receive that kind.
    Notify(Notice),
    /// Sets when the approvers are reminded next and when the escalation team is told;
    /// `in_windows` names the windows whose open hours alone count (empty: the whole clock).
    Chase {
        remind: Due,
        escalate: Due,
        in_windows: Vec<String>,
    },
    /// Live pages and the dispatch worker hear of the change once it is committed.
    Announce,
    /// A deployment ended: the delivery metrics keep it, with where its lead time went.
    RecordDeployment { succeeded: bool },
    /// The pipeline said when the change was committed: the earliest time said is kept.
    CommitTime { at: i64 },
    /// The deployment that held its application and environment ended: the next one waiting
    /// for its turn there may start.
    NextInLine,
    /// Opens the post-implementation review of an emergency change for the application's owner
    /// team, due `due_in_secs` from now, unless the request has one already (a retried one).
    OpenReview { due_in_secs: i64 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub state: State,
    pub effects: Vec<Effect>,
}

/// Why an event is refused; nothing is written.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refusal {
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    #[error("some fields are not valid")]
    Invalid(FieldErrors),
    /// The event changes nothing now (approvals that still hold cannot lapse).
    #[error("nothing to change")]
    Unchanged,
}

/// The next state of `request` after `event`, with its effects; or why the event is refused.
pub fn transition(
    request: &Subject,
    event: &Event,
    policy: &Policy,
    now: i64,
) -> Result<Transition, Refusal> {
    let rules = super::lifecycle_rules::Rules {
        request,
        policy,
        now,
    };
    rules.apply(event)
}

/// A state change's usual companions: the teams to ask when it waits for approval, and the news.
pub(super) fn finish(
    request: &Subject,
    policy: &Policy,
    approvals: &[Approval],
    state: State,
    mut effects: Vec<Effect>,
    now: i64,
) -> Transition {
    let waits = state == State::PendingApproval;
    if waits || request.state == Some(State::PendingApproval) {
        let teams = if waits {
            let eval = approval::evaluate(policy, request.requester_id, approvals, now);
            approval::teams_to_ask(policy, &eval)
        } else {
            Vec::new()
        };
        effects.push(Effect::Reindex { teams });
    }
    let in_flight = |s: Option<State>| matches!(s, Some(State::Provisioning | State::Deploying));
    if in_flight(request.state) && !in_flight(Some(state)) {
        effects.push(Effect::NextInLine);
    }
    if request.state != Some(state) && matches!(state, State::Succeeded | State::Failed) {
        effects.push(Effect::RecordDeployment {
            succeeded: state == State::Succeeded,
        });
    }
    // An emergency change is reviewed once its deployment has ended, whatever the outcome
    // (succeeded, failed, or stopped by operations); the apply step opens one review at most.
    if in_flight(request.state) && !in_flight(Some(state)) {
        if let Some(due_in_secs) = policy.review_within_secs {
            effects.push(Effect::OpenReview { due_in_secs });
        }
    }
    let told = super::notice::notices(request, policy, approvals, state, &effects, now);
    if let Some(chase) = super::lifecycle_chase::restart(request, policy, state, &told) {
        effects.push(chase);
    }
    effects.extend(told);
    effects.push(Effect::Announce);
    Transition { state, effects }
}

/// An audit entry by nobody in particular (the policy, the dispatch, the pipeline).
pub(super) fn audit(event: AuditEvent) -> Effect {
    Effect::Audit { actor: None, event }
}

/// An audit entry by a person.
pub(super) fn audit_by(actor: i64, event: AuditEvent) -> Effect {
    Effect::Audit {
        actor: Some(actor),
        event,
    }
}

/// The state an approved request takes and the dispatch it queues.
pub(super) fn approve(request: &Subject, reason: &str, now: i64) -> (State, Vec<Effect>) {
    let mut effects = vec![audit(AuditEvent::Approved {
        reason: reason.to_owned(),
    })];
    // A pipeline that deploys itself passes the gate instead.
    if !request.self_deploy {
        effects.push(Effect::Enqueue {
            at: request.scheduled_at.unwrap_or(now),
        });
    }
    (request::approved_state(request.scheduled_at, now), effects)
}

pub use super::lifecycle_rules::{
    edit_refusal, voided_reason, CHANGED_MEANWHILE, MAX_COMMENT, MAX_REASON,
};

#[cfg(test)]
#[path = "lifecycle_tests.rs"]
mod tests;
