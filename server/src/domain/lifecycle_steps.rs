//! The rules of the lifecycle events that come from the deployment itself: the dispatch's CI
//! steps, a pipeline's stage results, and what operations do to a deployment. Pure.

use super::audit::AuditEvent;
use super::lifecycle::{
    audit, audit_by, Effect, Event, Refusal, Retry, StageStatus, Transition, Viewer,
};
use super::lifecycle_rules::{invalid, step_words, words, Rules, MAX_REASON};
use super::request::State;
use super::{text, TicketTrigger};

impl Rules<'_> {
    pub(super) fn deploying(&self) -> Result<State, Refusal> {
        match self.state()? {
            s @ (State::Provisioning | State::Deploying) => Ok(s),
            s => Err(Refusal::Conflict(format!(
                "This request is {}, not deploying.",
                words(s)
            ))),
        }
    }

    pub(super) fn step_started(
        &self,
        step: &str,
        connector: &str,
        target: &str,
        target_id: &str,
    ) -> Result<Transition, Refusal> {
        let now = match self.state()? {
            State::Approved | State::Scheduled
                if self.approvals_complete(&self.request.approvals) =>
            {
                None
            }
            State::Approved | State::Scheduled => {
                return Err(Refusal::Conflict(
                    "The approvals of this request no longer hold.".into(),
                ))
            }
            _ => Some(self.deploying()?),
        };
        // A fan-out target still provisioning while another deploys leaves the request deploying.
        let next = if step == "provision" && now != Some(State::Deploying) {
            State::Provisioning
        } else {
            State::Deploying
        };
        let effects = vec![audit(AuditEvent::StepStarted {
            step: step.to_owned(),
            connector: connector.to_owned(),
            target: target.to_owned(),
            target_id: target_id.to_owned(),
        })];
        Ok(self.done(&self.request.approvals, next, effects))
    }

    pub(super) fn step_failed(
        &self,
        step: &str,
        message: &str,
        target_id: &str,
        ends: bool,
    ) -> Result<Transition, Refusal> {
        let state = match self.state()? {
            s @ (State::Approved | State::Scheduled | State::Provisioning | State::Deploying) => s,
            s => {
                return Err(Refusal::Conflict(format!(
                    "This request is {}; it has no step to fail.",
                    words(s)
                )))
            }
        };
        let of = if target_id.is_empty() {
            String::new()
        } else {
            format!(" of {target_id}")
        };
        let effects = vec![
            audit(AuditEvent::StepFailed {
                step: step.to_owned(),
                message: message.to_owned(),
                target_id: target_id.to_owned(),
                others_running: !ends,
            }),
            Effect::RaiseTicket {
                on: vec![TicketTrigger::DeployFailed, TicketTrigger::StageFailed],
                what: format!("{}{of} failed", step_words(step)),
                detail: message.to_owned(),
                quiet: false,
            },
        ];
        // The other targets of a parallel fan-out finish first (`targets_failed` ends it).
        let next = if ends { State::Failed } else { state };
        Ok(self.done(&self.request.approvals, next, effects))
    }

    /// A parallel fan-out whose last running target ended, some having failed before it.
    pub(super) fn targets_failed(&self, failed: &[String]) -> Result<Transition, Refusal> {
        match self.state()? {
            State::Approved | State::Scheduled | State::Provisioning | State::Deploying => {}
            s => {
                return Err(Refusal::Conflict(format!(
                    "This request is {}; it has no deployment to end.",
                    words(s)
                )))
            }
        }
        let effects = vec![audit(AuditEvent::TargetsFailed {
            failed: failed.to_vec(),
        })];
        Ok(self.done(&self.request.approvals, State::Failed, effects))
    }

    pub(super) fn stage_result(&self, event: &Event) -> Result<Transition, Refusal> {
        let Event::StageResultPosted {
            stage,
            status,
            duration_ms,
            metrics,
            by,
            deploys,
            commit_at,
        } = event
        else {
            return Err(Refusal::Unchanged);
        };
        let state = self.state()?;
        let mut effects = vec![audit(AuditEvent::StageResult {
            stage: stage.clone(),
            status: status.as_str().to_owned(),
            duration_ms: *duration_ms,
            metrics: metrics.clone(),
            by: by.clone(),
        })];
        if let Some(at) = commit_at {
            effects.push(Effect::CommitTime { at: *at });
        }
        // A request that deploys itself follows what its pipeline says of the deploy stage;
        // it starts deploying only while its approvals hold.
        let approved = matches!(state, State::Approved | State::Scheduled);
        let holds = !approved || self.approvals_complete(&self.request.approvals);
        let next = match (state, status) {
            (State::Approved | State::Scheduled, StageStatus::Started) if holds => {
                Some(State::Deploying)
            }
            (State::Approved | State::Scheduled | State::Deploying, StageStatus::Succeeded)
                if holds =>
            {
                Some(State::Succeeded)
            }
            (State::Approved | State::Scheduled | State::Deploying, StageStatus::Failed) => {
                Some(State::Failed)
            }
            _ => None,
        }
        .filter(|_| *deploys && self.request.self_deploy);
        if let Some(next) = next {
            effects.push(audit(AuditEvent::PipelineState {
                state: next.as_str().to_owned(),
                stage: stage.clone(),
            }));
        }
        if *status == StageStatus::Failed {
            let on = if *deploys && self.request.self_deploy {
                vec![TicketTrigger::DeployFailed, TicketTrigger::StageFailed]
            } else {
                vec![TicketTrigger::StageFailed]
            };
            effects.push(Effect::RaiseTicket {
                on,
                what: format!("{stage} failed"),
                detail: format!("The pipeline reported the {stage} stage failed ({by})."),
                quiet: false,
            });
        }
        Ok(self.done(&self.request.approvals, next.unwrap_or(state), effects))
    }

    fn ops_only(by: &Viewer) -> Result<(), Refusal> {
        if by.ops {
            Ok(())
        } else {
            Err(Refusal::Forbidden(
                "Only operations may retry or cancel a deployment.".into(),
            ))
        }
    }

    /// Operations run failed steps again: of one target, or of several of a fan-out, the
    /// others keeping what they did.
    pub(super) fn retried(&self, by: &Viewer, retries: &[Retry]) -> Result<Transition, Refusal> {
        Self::ops_only(by)?;
        if self.request.state != Some(State::Failed) || !self.request.retryable {
            return Err(Refusal::Conflict(
                "Only a request whose CI step failed can be retried.".into(),
            ));
        }
        let mut effects: Vec<Effect> = retries
            .iter()
            .map(|r| {
                audit_by(
                    by.user_id,
                    AuditEvent::RetryRequested {
                        step: r.step.clone(),
                        attempt: r.attempt,
                        target_id: r.target_id.clone(),
                    },
                )
            })
            .collect();
        effects.push(Effect::Enqueue { at: self.now });
        Ok(self.done(&self.request.approvals, State::Approved, effects))
    }

    pub(super) fn cancelled_by_ops(
        &self,
        by: &Viewer,
        reason: &str,
        step: &Option<String>,
    ) -> Result<Transition, Refusal> {
        if let Some(p) = text::line_problem(reason, MAX_REASON) {
            return Err(invalid("reason", p));
        }
        Self::ops_only(by)?;
        if !matches!(
            self.request.state,
            Some(State::Provisioning | State::Deploying)
        ) {
            return Err(Refusal::Conflict(
                "Only a deployment in progress can be cancelled.".into(),
            ));
        }
        let effects = vec![audit_by(
            by.user_id,
            AuditEvent::Cancelled {
                reason: reason.to_owned(),
                step: step.clone(),
            },
        )];
        Ok(self.done(&self.request.approvals, State::Cancelled, effects))
    }
}
