//! Decisions: an approver's in their own name, and a delegate's in an away approver's place
//! (their teams count, their approval is recorded, the timeline names both) unless the policy
//! forbids it, the delegate asked for the release, or the delegate already counted. Pure.

use super::approval::{self, Approval};
use super::audit::{self, AuditEvent};
use super::lifecycle::{approve, audit_by, Effect, Refusal, Transition, Verdict, Viewer};
use super::lifecycle_rules::{invalid, Rules, CHANGED_MEANWHILE, MAX_COMMENT};
use super::request::State;
use super::text;

impl Rules<'_> {
    pub(super) fn decided(
        &self,
        by: &Viewer,
        verdict: Verdict,
        comment: &str,
    ) -> Result<Transition, Refusal> {
        let r = self.request;
        let acted_for_another = !self.policy.approver_may_count_twice
            && r.approvals.iter().any(|a| {
                a.acted_by == Some(by.user_id) && approval::is_live(self.policy, a, self.now)
            });
        if acted_for_another {
            return Err(Refusal::Forbidden(
                "You have already decided on this request in an away approver's place.".into(),
            ));
        }
        self.decide(by.user_id, by, None, verdict, comment)
    }

    /// `actor` decides in the place of `seat` (themselves, or the away person named by
    /// `for_whom`), whose teams count.
    pub(super) fn decide(
        &self,
        actor: i64,
        by: &Viewer,
        for_whom: Option<&str>,
        verdict: Verdict,
        comment: &str,
    ) -> Result<Transition, Refusal> {
        if verdict == Verdict::Reject && comment.is_empty() {
            return Err(invalid(
                "comment",
                "Say why you reject this request.".into(),
            ));
        }
        if let Some(p) = text::block_problem(comment, MAX_COMMENT) {
            return Err(invalid("comment", p));
        }
        if self.request.state != Some(State::PendingApproval) {
            return Err(Refusal::Conflict(CHANGED_MEANWHILE.into()));
        }
        let r = self.request;
        let eval = approval::evaluate(self.policy, r.requester_id, &r.approvals, self.now);
        if !approval::can_approve_in(
            self.policy,
            r.requester_id,
            &r.approvals,
            self.now,
            by.user_id,
            &by.teams,
            &eval,
        ) {
            let why = if by.user_id == r.requester_id && !self.policy.requester_can_approve {
                "You cannot decide on your own request."
            } else {
                "None of your teams is needed at this stage of the request, or you have already decided."
            };
            return Err(Refusal::Forbidden(why.into()));
        }
        let stage = eval.current.unwrap_or_default();
        let stage_name = eval
            .stages
            .get(stage)
            .map(|s| s.name.clone())
            .unwrap_or_default();
        let acted_by = (actor != by.user_id).then_some(actor);
        let for_whom = for_whom.map(str::to_owned);
        let mut effects = vec![Effect::Decision {
            user_id: by.user_id,
            acted_by,
            teams: by.teams.clone(),
            stage,
            verdict,
            comment: comment.to_owned(),
        }];
        let (stage, comment) = (stage_name, comment.to_owned());
        if verdict == Verdict::Reject {
            effects.push(audit_by(
                actor,
                AuditEvent::Rejected {
                    stage,
                    comment,
                    for_whom,
                },
            ));
            return Ok(self.done(&r.approvals, State::Rejected, effects));
        }
        effects.push(audit_by(
            actor,
            AuditEvent::Approval {
                stage,
                comment,
                for_whom,
            },
        ));
        // Only a lapsed decision of theirs can be at this stage: it gives way to the new one.
        let current = eval.current.unwrap_or_default();
        let mut approvals: Vec<Approval> = r
            .approvals
            .iter()
            .cloned()
            .map(|mut a| {
                a.voided |= a.user_id == by.user_id && a.stage == current;
                a
            })
            .collect();
        approvals.push(Approval {
            user_id: by.user_id,
            teams: by.teams.clone(),
            stage: current,
            at_ms: self.now,
            voided: false,
            acted_by,
        });
        let state = if self.approvals_complete(&approvals) {
            let (state, approved) = approve(r, audit::EVERY_STAGE_SATISFIED, self.now);
            effects.extend(approved);
            state
        } else {
            State::PendingApproval
        };
        Ok(self.done(&approvals, state, effects))
    }

    pub(super) fn decided_for(
        &self,
        by: &Viewer,
        seat: &Viewer,
        seat_name: &str,
        verdict: Verdict,
        comment: &str,
    ) -> Result<Transition, Refusal> {
        let r = self.request;
        let refuse = |why: &str| Err(Refusal::Forbidden(why.to_owned()));
        if !self.policy.delegation {
            return refuse("This policy does not let a delegate decide in an approver's place.");
        }
        if by.user_id == r.requester_id {
            return refuse("You cannot decide on your own request, in anyone's place.");
        }
        if seat.user_id == by.user_id {
            return refuse("Decide in your own name.");
        }
        if approval::acted(self.policy, &r.approvals, self.now, by.user_id) {
            return refuse("You have already decided on this request: you count once.");
        }
        self.decide(by.user_id, seat, Some(seat_name), verdict, comment)
    }
}

#[cfg(test)]
#[path = "delegate_tests.rs"]
mod tests;
