//! Reminders and escalation while a request waits for approval (the policy's `chasing`): when
//! a stage is reached the due times start again; when the sweep finds one past, the approvers of
//! the stage are reminded (and the next reminder set) or the escalation team told (once per
//! stage). Pure.

use super::approval;
use super::audit::AuditEvent;
use super::lifecycle::{audit, Due, Effect, Refusal, Subject, Transition};
use super::lifecycle_rules::Rules;
use super::notice::{Audience, Kind, Notice};
use super::request::State;
use super::Policy;

/// The due times a transition sets: started again when the request reaches a stage (its
/// approvers are asked, `told` holds that notice), stopped when it stops waiting.
pub(super) fn restart(
    request: &Subject,
    policy: &Policy,
    state: State,
    told: &[Effect],
) -> Option<Effect> {
    let chasing = &policy.chasing;
    if chasing.is_off() {
        return None;
    }
    let asked = told
        .iter()
        .any(|e| matches!(e, Effect::Notify(n) if n.kind == Kind::ApprovalNeeded));
    let after = |secs: Option<i64>| secs.map_or(Due::Stop, Due::After);
    if asked {
        let escalate = chasing
            .escalate_to
            .as_ref()
            .and(chasing.escalate_after_secs);
        Some(chase(
            policy,
            after(chasing.remind_after_secs),
            after(escalate),
        ))
    } else if request.state == Some(State::PendingApproval) && state != State::PendingApproval {
        Some(chase(policy, Due::Stop, Due::Stop))
    } else {
        None
    }
}

fn chase(policy: &Policy, remind: Due, escalate: Due) -> Effect {
    Effect::Chase {
        remind,
        escalate,
        in_windows: if policy.chasing.in_windows {
            policy.windows.clone()
        } else {
            Vec::new()
        },
    }
}

impl Rules<'_> {
    /// The sweep found `remind_at` or `escalate_at` (as stored) past.
    pub(super) fn overdue(
        &self,
        remind_at: Option<i64>,
        escalate_at: Option<i64>,
    ) -> Result<Transition, Refusal> {
        let state = self.state()?;
        let only = |remind, escalate| {
            Ok(Transition {
                state,
                effects: vec![chase(self.policy, remind, escalate)],
            })
        };
        // It no longer waits: nothing more is due.
        if state != State::PendingApproval {
            return only(Due::Stop, Due::Stop);
        }
        let due = |at: Option<i64>| at.is_some_and(|t| t <= self.now);
        let (remind_due, escalate_due) = (due(remind_at), due(escalate_at));
        if !remind_due && !escalate_due {
            return Err(Refusal::Unchanged);
        }
        let chasing = &self.policy.chasing;
        let remind = chasing.remind_after_secs.filter(|_| remind_due);
        let escalate_to = chasing.escalate_to.as_ref().filter(|_| escalate_due);
        let eval = approval::evaluate(
            self.policy,
            self.request.requester_id,
            &self.request.approvals,
            self.now,
        );
        let Some(stage) = eval.current else {
            return only(Due::Stop, Due::Stop);
        };
        let stop_if = |was_due: bool| if was_due { Due::Stop } else { Due::Keep };
        if remind.is_none() && escalate_to.is_none() {
            return only(stop_if(remind_due), stop_if(escalate_due));
        }
        let name = self.policy.stages[stage].name.clone();
        let detail = format!("Waiting at stage {name}");
        let mut effects = vec![audit(AuditEvent::Reminded {
            stage: name,
            reminded: remind.is_some(),
            escalated_to: escalate_to.cloned(),
        })];
        if remind.is_some() {
            let teams = eval.stages[stage]
                .rules
                .iter()
                .filter(|r| !r.satisfied())
                .map(|r| r.team.clone())
                .collect();
            effects.push(tell(
                Kind::Reminder,
                Audience::Approvers { stage, teams },
                &detail,
            ));
        }
        if let Some(team) = escalate_to {
            effects.push(tell(
                Kind::Escalation,
                Audience::Team(team.clone()),
                &detail,
            ));
        }
        effects.push(chase(
            self.policy,
            remind.map_or(Due::Keep, Due::After),
            stop_if(escalate_due),
        ));
        effects.push(Effect::Announce);
        Ok(Transition { state, effects })
    }
}

fn tell(kind: Kind, audience: Audience, detail: &str) -> Effect {
    Effect::Notify(Notice {
        kind,
        audience,
        detail: detail.to_owned(),
        actor: None,
    })
}

#[cfg(test)]
#[path = "chase_tests.rs"]
mod tests;
