//! Tests of `gate`.
use super::*;
use crate::domain::{Application, Environment, Rule, Stage, Team};
use proptest::prelude::*;

fn team(id: &str, name: &str) -> Team {
    Team {
        id: id.into(),
        name: name.into(),
        description: String::new(),
        ops: false,
        chat_webhook_env: None,
        idp_groups: Vec::new(),
    }
}

fn policy() -> Policy {
    Policy {
        requesters: vec!["fintech".into()],
        stages: vec![Stage {
            name: "Owner review".into(),
            rules: vec![Rule {
                team: "owners".into(),
                count: 1,
            }],
        }],
        requester_can_approve: false,
        approver_may_count_twice: false,
        approval_lifetime_secs: Some(3600),
        windows: vec![],
        material_fields: None,
        chasing: Default::default(),
        delegation: true,
        emergency: None,
        rollback: None,
        standard: Vec::new(),
        standard_rule: None,
        ignores_freezes: false,
        review_within_secs: None,
    }
}

fn catalog() -> Catalog {
    Catalog {
        teams: vec![
            team("fintech", "Fintech"),
            team("owners", "Owners"),
            team("web", "Web"),
        ],
        applications: vec![Application {
            id: "banking".into(),
            name: "Banking".into(),
            owner: "owners".into(),
            description: String::new(),
            environments: vec![Environment {
                id: "staging".into(),
                name: "Staging".into(),
                policy: policy(),
                ci: None,
            }],
            fields: vec![],
            readers: None,
            chat_webhook_env: None,
        }],
        ..Catalog::default()
    }
}

const STATES: [State; 6] = [
    State::PendingApproval,
    State::Approved,
    State::Deploying,
    State::Succeeded,
    State::Rejected,
    State::Cancelled,
];
const DIGEST: &str = "sha256:00000000000000000000000000000000";

prop_compose! {
    fn candidate()(id in 1..1000_i64, state in 0..6_usize, approved in any::<bool>(),
                   age_min in 0..120_i64, digest in any::<bool>()) -> Candidate {
        Candidate {
            id,
            state: STATES[state],
            artifact: if digest { DIGEST.into() } else { String::new() },
            requester_id: 1,
            scheduled_at: None,
            policy: policy(),
            approvals: if approved {
                vec![Approval {
                    user_id: 2,
                    teams: vec!["owners".into()],
                    stage: 0,
                    at_ms: 10_000_000 - age_min * 60_000,
                    voided: false,
                    acted_by: None,
                }]
            } else {
                vec![]
            },
            emergency: None,
        }
    }
}

proptest! {
    /// Allowed exactly when the actor may deploy and the newest covering request is approved
    /// now (approvals not lapsed) for the artifact asked about; every other answer says why.
    #[test]
    fn the_gate_allows_only_what_a_live_approval_covers(
        mut candidates in proptest::collection::vec(candidate(), 0..4),
        actor in 0..4_usize,
        with_digest in any::<bool>(),
    ) {
        candidates.sort_by_key(|c| std::cmp::Reverse(c.id));
        let catalog = catalog();
        let app = &catalog.applications[0];
        let actor = [
            Actor::Unnamed,
            Actor::Team("fintech".into()),
            Actor::Team("web".into()),
            Actor::Unknown("mallory".into()),
        ][actor].clone();
        let at_ms = 10_000_000;
        let answer = decide(
            &Query {
                catalog: &catalog,
                app,
                env: &app.environments[0],
                version: "1.0",
                artifact: with_digest.then_some(DIGEST),
                actor: &actor,
                at_ms,
            },
            &candidates,
        );
        let actor_ok = matches!(&actor, Actor::Unnamed)
            || matches!(&actor, Actor::Team(t) if t == "fintech");
        let covering = candidates.iter().find(|c| {
            matches!(c.state, State::Approved | State::Deploying)
                && c.approvals.iter().any(|a| at_ms < a.at_ms + 3_600_000)
        });
        let expected_allow = actor_ok
            && covering.is_some_and(|c| !with_digest || c.artifact == DIGEST);
        prop_assert_eq!(answer.decision == Decision::Allow, expected_allow, "{:?}", answer);
        prop_assert!(!answer.reasons.is_empty());
        match answer.decision {
            Decision::Allow => prop_assert_eq!(answer.rule, "allow"),
            Decision::Pending => {
                prop_assert_eq!(answer.rule, "approvals");
                prop_assert!(answer.request_id.is_some());
            }
            Decision::Deny => prop_assert!(
                ["actor", "request", "artifact", "window"].contains(&answer.rule)
            ),
        }
        if !actor_ok {
            prop_assert_eq!(answer.rule, "actor");
        }
    }
}
