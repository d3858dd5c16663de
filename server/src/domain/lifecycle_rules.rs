//! The rule of each lifecycle event (see `lifecycle`): which states it leaves, where it leads,
//! what it writes. Pure.

use super::approval::{self, Approval};
use super::audit::{self, AuditEvent};
use super::change::Change;
use super::lifecycle::{
    approve, audit, audit_by, finish, Effect, Event, Refusal, Subject, Transition, Viewer,
};
use super::request::{self, Draft, State};
use super::{text, Policy};

/// The longest reason a cancellation takes, and the longest comment on a decision.
pub const MAX_REASON: usize = 2000;
pub const MAX_COMMENT: usize = 10_000;

pub const CHANGED_MEANWHILE: &str = "This request changed while you were looking at it (someone \
     decided, edited or cancelled it). Your decision was not counted; reload to see where it stands.";

pub(super) struct Rules<'a> {
    pub request: &'a Subject,
    pub policy: &'a Policy,
    pub now: i64,
}

pub(super) fn words(state: State) -> String {
    state.as_str().replace('_', " ")
}

pub(super) fn invalid(field: &str, problem: String) -> Refusal {
    Refusal::Invalid([(field.to_owned(), problem)].into())
}

pub(super) fn step_words(step: &str) -> &'static str {
    if step == "provision" {
        "Provisioning"
    } else {
        "Deployment"
    }
}

impl Rules<'_> {
    pub(super) fn state(&self) -> Result<State, Refusal> {
        self.request
            .state
            .ok_or_else(|| Refusal::Conflict("This request is not stored yet.".into()))
    }

    pub(super) fn done(
        &self,
        approvals: &[Approval],
        state: State,
        effects: Vec<Effect>,
    ) -> Transition {
        finish(
            self.request,
            self.policy,
            approvals,
            state,
            effects,
            self.now,
        )
    }

    /// The same state, with `effects`.
    pub(super) fn stay(&self, effects: Vec<Effect>) -> Result<Transition, Refusal> {
        let state = self.state()?;
        Ok(self.done(&self.request.approvals, state, effects))
    }

    pub(super) fn approvals_complete(&self, approvals: &[Approval]) -> bool {
        approval::evaluate(self.policy, self.request.requester_id, approvals, self.now).complete()
    }

    pub fn apply(&self, event: &Event) -> Result<Transition, Refusal> {
        match event {
            Event::Submitted {
                by,
                version,
                origin,
                on_behalf,
                change,
                standard_unmet,
            } => self.submitted(
                *by,
                version,
                origin,
                on_behalf.as_ref(),
                (change, standard_unmet.as_deref()),
            ),
            Event::Decided {
                by,
                verdict,
                comment,
            } => self.decided(by, *verdict, comment.trim()),
            Event::DecidedFor {
                by,
                seat,
                seat_name,
                verdict,
                comment,
            } => self.decided_for(by, seat, seat_name, *verdict, comment.trim()),
            Event::Cancelled { by, reason } => self.cancelled(by, reason.trim()),
            Event::Edited { by, before, after } => self.edited(by, before, after),
            Event::ApprovalsLapsed => self.lapsed(),
            Event::WaitingForWindow { note } => {
                self.stay(vec![audit(AuditEvent::WaitingForWindow {
                    note: note.clone(),
                })])
            }
            Event::WaitingForTurn { note } => self.stay(vec![audit(AuditEvent::WaitingForTurn {
                note: note.clone(),
            })]),
            Event::CiUnreachable {
                step,
                attempt,
                next_at,
                error,
            } => self.stay(vec![audit(AuditEvent::CiRetry {
                step: step.clone(),
                attempt: *attempt,
                next_at: next_at.clone(),
                error: error.clone(),
            })]),
            Event::StepStarted {
                step,
                connector,
                target,
                target_id,
            } => self.step_started(step, connector, target, target_id),
            Event::StepSucceeded { step, target_id } => {
                self.deploying()?;
                self.stay(vec![audit(AuditEvent::StepSucceeded {
                    step: step.clone(),
                    target_id: target_id.clone(),
                })])
            }
            Event::Deployed => {
                self.deploying()?;
                let effects = vec![audit(AuditEvent::Deployed {
                    reason: audit::EVERY_STEP_SUCCEEDED.into(),
                })];
                Ok(self.done(&self.request.approvals, State::Succeeded, effects))
            }
            Event::StepFailed {
                step,
                message,
                target_id,
                ends,
            } => self.step_failed(step, message, target_id, *ends),
            Event::TargetsFailed { failed } => self.targets_failed(failed),
            Event::StageResultPosted { .. } => self.stage_result(event),
            Event::Retried { by, retries } => self.retried(by, retries),
            Event::Overdue {
                remind_at,
                escalate_at,
            } => self.overdue(*remind_at, *escalate_at),
            Event::CancelledByOps { by, reason, step } => {
                self.cancelled_by_ops(by, reason.trim(), step)
            }
        }
    }

    fn submitted(
        &self,
        by: i64,
        version: &str,
        origin: &str,
        on_behalf: Option<&(String, String)>,
        (change, standard_unmet): (&Change, Option<&str>),
    ) -> Result<Transition, Refusal> {
        if self.request.state.is_some() {
            return Err(Refusal::Conflict(
                "This request was submitted already.".into(),
            ));
        }
        let mut effects = vec![audit_by(
            by,
            AuditEvent::Submitted {
                version: version.to_owned(),
                origin: origin.to_owned(),
                token: on_behalf.map(|(token, _)| token.clone()),
                on_behalf_by: on_behalf.map(|(_, user)| user.clone()),
            },
        )];
        match change {
            Change::Normal => {}
            Change::Emergency { justification } => effects.push(audit_by(
                by,
                AuditEvent::EmergencyRaised {
                    justification: justification.clone(),
                    bypasses_windows: self.policy.ignores_freezes,
                },
            )),
            Change::Rollback { of } => effects.push(audit_by(
                by,
                AuditEvent::RollbackRaised {
                    of: *of,
                    bypasses_windows: self.policy.ignores_freezes,
                },
            )),
            Change::Standard { .. } => {}
        }
        if let Some(detail) = standard_unmet {
            effects.push(audit(AuditEvent::StandardNotMet {
                detail: detail.to_owned(),
            }));
        }
        let state = if self.policy.stages.is_empty() {
            let reason = match change {
                Change::Standard { rule } => format!("the standard change rule “{rule}” is met"),
                _ => audit::NO_APPROVAL_NEEDED.to_owned(),
            };
            let (state, approved) = approve(self.request, &reason, self.now);
            effects.extend(approved);
            state
        } else {
            State::PendingApproval
        };
        Ok(self.done(&[], state, effects))
    }

    fn cancelled(&self, by: &Viewer, reason: &str) -> Result<Transition, Refusal> {
        if let Some(p) = text::line_problem(reason, MAX_REASON) {
            return Err(invalid("reason", p));
        }
        let state = self.state()?;
        if self.request.requester_id != by.user_id && !by.ops {
            return Err(Refusal::Forbidden(
                "Only the requester or operations may cancel a request.".into(),
            ));
        }
        if !state.is_open() {
            return Err(Refusal::Conflict(format!(
                "This request is {} and can no longer be cancelled.",
                words(state)
            )));
        }
        let effects = vec![
            audit_by(
                by.user_id,
                AuditEvent::Cancelled {
                    reason: reason.to_owned(),
                    step: None,
                },
            ),
            Effect::Withdraw,
        ];
        Ok(self.done(&self.request.approvals, State::Cancelled, effects))
    }

    fn edited(&self, by: &Viewer, before: &Draft, after: &Draft) -> Result<Transition, Refusal> {
        let state = self.state()?;
        if let Some(why) = &self.policy.no_edit {
            return Err(Refusal::Conflict(why.clone()));
        }
        if let Some(refused) = edit_refusal(self.request, by) {
            return Err(refused);
        }
        let changed = request::changed_fields(before, after);
        if changed.is_empty() {
            return Err(Refusal::Unchanged);
        }
        let mut effects = vec![
            Effect::Rewrite(Box::new(after.clone())),
            audit_by(
                by.user_id,
                AuditEvent::Edited {
                    fields: changed.iter().map(|f| (*f).to_owned()).collect(),
                    from_version: before.version.clone(),
                    to_version: after.version.clone(),
                },
            ),
        ];
        let material = request::material_changes(self.policy, before, after);
        let live = self.request.approvals.iter().filter(|a| !a.voided).count();
        let count = if material.is_empty() { 0 } else { live as u64 };
        let mut approvals = self.request.approvals.clone();
        if count > 0 {
            approvals.iter_mut().for_each(|a| a.voided = true);
            effects.push(Effect::VoidApprovals {
                count,
                material: material.clone(),
            });
            effects.push(audit(AuditEvent::ApprovalsVoided {
                count,
                reason: voided_reason(&material),
                fields: material,
            }));
        }
        let next = if state == State::PendingApproval {
            State::PendingApproval
        } else if !self.policy.stages.is_empty() && count > 0 {
            effects.push(Effect::Withdraw);
            State::PendingApproval
        } else {
            effects.push(Effect::Reschedule {
                at: after.scheduled_at.unwrap_or(self.now),
            });
            request::approved_state(after.scheduled_at, self.now)
        };
        Ok(self.done(&approvals, next, effects))
    }

    fn lapsed(&self) -> Result<Transition, Refusal> {
        let state = self.state()?;
        let has_lifetime =
            !self.policy.stages.is_empty() && self.policy.approval_lifetime_secs.is_some();
        if !matches!(state, State::Approved | State::Scheduled)
            || !has_lifetime
            || self.approvals_complete(&self.request.approvals)
        {
            return Err(Refusal::Unchanged);
        }
        let effects = vec![
            Effect::Withdraw,
            audit(AuditEvent::ApprovalsLapsed {
                reason: audit::APPROVALS_EXPIRED.into(),
            }),
        ];
        Ok(self.done(&self.request.approvals, State::PendingApproval, effects))
    }
}

/// Why `by` may not edit `request` now, if they may not: asked before the form is read.
pub fn edit_refusal(request: &Subject, by: &Viewer) -> Option<Refusal> {
    if request.requester_id != by.user_id {
        return Some(Refusal::Forbidden(
            "Only the requester may edit a request.".into(),
        ));
    }
    match request.state {
        Some(state) if !state.is_open() => Some(Refusal::Conflict(format!(
            "This request is {} and can no longer be edited.",
            words(state)
        ))),
        _ => None,
    }
}

/// "the risk and the customer impact changed", in the words of the form.
pub fn voided_reason(material: &[String]) -> String {
    let names: Vec<String> = material
        .iter()
        .map(|m| format!("the {}", m.trim_start_matches("fields.").replace('_', " ")))
        .collect();
    format!("{} changed", text::list_words(&names, "and"))
}
