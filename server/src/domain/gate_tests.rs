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
        ..crate::domain::fixtures::policy(&[])
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
            rollback_of: None,
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

#[test]
fn a_rollback_is_judged_by_its_own_path_through_a_freeze() {
    let mut catalog = catalog();
    catalog.freezes.push(crate::domain::Freeze {
        id: "move".into(),
        reason: "Data centre move".into(),
        period: crate::domain::FreezePeriod::Once {
            start_ms: 0,
            end_ms: i64::MAX,
        },
        applications: Vec::new(),
        environments: Vec::new(),
    });
    let app = &catalog.applications[0];
    let path = Policy {
        rollback: Some(crate::domain::RollbackPath {
            requesters: Some(vec!["web".into()]),
            stages: Vec::new(),
            bypass_windows: true,
        }),
        ..policy()
    };
    let rollback = Candidate {
        id: 9,
        state: State::Approved,
        artifact: String::new(),
        requester_id: 1,
        scheduled_at: None,
        policy: path.for_rollback(),
        approvals: Vec::new(),
        emergency: None,
        rollback_of: Some(8),
    };
    let ask = |actor: Actor, candidate: &Candidate| {
        decide(
            &Query {
                catalog: &catalog,
                app,
                env: &app.environments[0],
                version: "1.0",
                artifact: None,
                actor: &actor,
                at_ms: 10_000_000,
            },
            std::slice::from_ref(candidate),
        )
    };
    // The rollback path's own requesters may deploy it, through the freeze, and the gate says so.
    let answer = ask(Actor::Team("web".into()), &rollback);
    assert_eq!(answer.decision, Decision::Allow, "{answer:?}");
    assert!(answer.reasons.iter().any(
        |r| r == "request #9 rolls back request #8; change windows and freezes do not hold it"
    ));
    // A plain request under the environment's policy is held by the freeze.
    let plain = Candidate {
        policy: policy(),
        rollback_of: None,
        approvals: vec![Approval {
            user_id: 2,
            teams: vec!["owners".into()],
            stage: 0,
            at_ms: 10_000_000,
            voided: false,
            acted_by: None,
        }],
        ..rollback.clone()
    };
    let answer = ask(Actor::Unnamed, &plain);
    assert_eq!(answer.rule, "window", "{answer:?}");
}
