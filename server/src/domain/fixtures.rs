//! Building blocks of the domain's tests: a policy of one-rule stages, a request waiting for
//! approval.

use crate::domain::approval::Approval;
use crate::domain::lifecycle::Subject;
use crate::domain::request::State;
use crate::domain::{Policy, Rule, Stage};

/// The requester of every request built here.
pub const REQUESTER: i64 = 1;

/// A policy that Dev's team requests under, one stage per `(name, team, count)`, with every
/// other setting at its default.
pub fn policy(stages: &[(&str, &str, u32)]) -> Policy {
    Policy {
        requesters: vec!["dev".into()],
        stages: stages
            .iter()
            .map(|(name, team, count)| Stage {
                name: (*name).into(),
                rules: vec![Rule {
                    team: (*team).into(),
                    count: *count,
                }],
            })
            .collect(),
        requester_can_approve: false,
        approver_may_count_twice: false,
        approval_lifetime_secs: None,
        windows: vec![],
        material_fields: None,
        chasing: Default::default(),
        delegation: true,
        emergency: None,
        rollback: None,
        standard: Vec::new(),
        no_edit: None,
        ignores_freezes: false,
        review_within_secs: None,
    }
}

/// A stored request waiting for approval, with `approvals` given so far.
pub fn waiting(approvals: Vec<Approval>) -> Subject {
    Subject {
        state: Some(State::PendingApproval),
        requester_id: REQUESTER,
        scheduled_at: None,
        self_deploy: false,
        approvals,
        retryable: false,
    }
}
