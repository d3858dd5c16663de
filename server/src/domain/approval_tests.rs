//! Tests of `approval`.
use super::*;
use crate::domain::{Rule, Stage};
use proptest::prelude::*;

const TEAMS: [&str; 3] = ["owners", "cab", "ops"];

fn policy(
    stages: Vec<Vec<(u32, &str)>>,
    requester_can_approve: bool,
    twice: bool,
    lifetime: Option<i64>,
) -> Policy {
    Policy {
        requesters: vec!["dev".into()],
        stages: stages
            .into_iter()
            .enumerate()
            .map(|(i, rules)| Stage {
                name: format!("stage {i}"),
                rules: rules
                    .into_iter()
                    .map(|(count, team)| Rule {
                        team: team.into(),
                        count,
                    })
                    .collect(),
            })
            .collect(),
        requester_can_approve,
        approver_may_count_twice: twice,
        approval_lifetime_secs: lifetime,
        windows: vec![],
        material_fields: None,
        chasing: Default::default(),
        delegation: true,
        ..crate::domain::fixtures::policy(&[])
    }
}

fn approval(user: i64, teams: &[&str], stage: usize, at_ms: i64) -> Approval {
    Approval {
        user_id: user,
        teams: teams.iter().map(|t| (*t).to_owned()).collect(),
        stage,
        at_ms,
        voided: false,
        acted_by: None,
    }
}

fn seed_policy() -> Policy {
    policy(
        vec![vec![(1, "owners")], vec![(2, "cab")]],
        false,
        false,
        Some(3600),
    )
}

#[test]
fn the_seed_policy_needs_one_owner_then_two_cab_members() {
    let p = seed_policy();
    let mut approvals = vec![];
    assert_eq!(evaluate(&p, 1, &approvals, 0).current, Some(0));
    approvals.push(approval(2, &["owners"], 0, 0));
    assert_eq!(evaluate(&p, 1, &approvals, 0).current, Some(1));
    approvals.push(approval(3, &["cab"], 1, 0));
    assert_eq!(evaluate(&p, 1, &approvals, 0).current, Some(1));
    approvals.push(approval(4, &["cab"], 1, 0));
    assert!(evaluate(&p, 1, &approvals, 0).complete());
}

#[test]
fn the_requester_does_not_count_unless_the_policy_says_so() {
    let strict = seed_policy();
    let own = vec![approval(1, &["owners"], 0, 0)];
    assert_eq!(evaluate(&strict, 1, &own, 0).current, Some(0));
    assert!(!can_approve(&strict, 1, &[], 0, 1, &["owners".into()]));
    let relaxed = policy(vec![vec![(1, "owners")]], true, false, None);
    assert!(evaluate(&relaxed, 1, &own, 0).complete());
}

#[test]
fn one_person_counts_once_per_request_unless_allowed() {
    let p = policy(
        vec![vec![(1, "owners")], vec![(1, "cab")]],
        false,
        false,
        None,
    );
    let both = &["owners", "cab"];
    let approvals = vec![approval(2, both, 0, 0), approval(2, both, 1, 0)];
    assert_eq!(evaluate(&p, 1, &approvals, 0).current, Some(1));
    assert!(!can_approve(&p, 1, &approvals[..1], 0, 2, &["cab".into()]));
    let twice = policy(
        vec![vec![(1, "owners")], vec![(1, "cab")]],
        false,
        true,
        None,
    );
    assert!(evaluate(&twice, 1, &approvals, 0).complete());
}

#[test]
fn a_person_in_two_teams_is_placed_where_needed() {
    let p = policy(vec![vec![(1, "owners"), (1, "cab")]], false, false, None);
    let approvals = vec![
        approval(2, &["owners", "cab"], 0, 0),
        approval(3, &["owners"], 0, 0),
    ];
    assert!(evaluate(&p, 1, &approvals, 0).complete());
}

#[test]
fn approvals_lapse_after_the_lifetime_and_voided_ones_never_count() {
    let p = seed_policy();
    let approvals = vec![
        approval(2, &["owners"], 0, 0),
        approval(3, &["cab"], 1, 0),
        approval(4, &["cab"], 1, 0),
    ];
    assert!(evaluate(&p, 1, &approvals, 3_599_999).complete());
    assert_eq!(evaluate(&p, 1, &approvals, 3_600_000).current, Some(0));
    let mut voided = approvals.clone();
    voided[0].voided = true;
    assert_eq!(evaluate(&p, 1, &voided, 0).current, Some(0));
}

#[test]
fn a_policy_without_stages_is_complete_at_once() {
    let p = policy(vec![], false, false, None);
    assert!(evaluate(&p, 1, &[], 0).complete());
    assert!(!can_approve(&p, 1, &[], 0, 2, &["cab".into()]));
}

fn arb_policy() -> impl Strategy<Value = Policy> {
    let rule = (1u32..=3, 0usize..TEAMS.len()).prop_map(|(c, t)| (c, TEAMS[t]));
    let stage = proptest::collection::vec(rule, 1..=2);
    (
        proptest::collection::vec(stage, 0..=3),
        any::<bool>(),
        any::<bool>(),
        proptest::option::of(1i64..100),
    )
        .prop_map(|(stages, own, twice, life)| policy(stages, own, twice, life))
}

/// A decision attempt: user (0 is the requester), their teams, when.
fn arb_attempts() -> impl Strategy<Value = Vec<(i64, Vec<usize>, i64, bool)>> {
    proptest::collection::vec(
        (
            0i64..6,
            proptest::collection::vec(0usize..TEAMS.len(), 0..=2),
            0i64..200_000,
            any::<bool>(),
        ),
        0..20,
    )
}

proptest! {
    /// Approvals are only recorded when `can_approve` allows them, as the service does.
    #[test]
    fn no_sequence_breaks_the_rules(p in arb_policy(), attempts in arb_attempts()) {
        let requester = 0;
        let mut approvals: Vec<Approval> = Vec::new();
        let mut now = 0;
        for (user, teams, step, void) in attempts {
            now += step;
            if void {
                // An edit voids every approval so far.
                approvals.iter_mut().for_each(|a| a.voided = true);
                continue;
            }
            let teams: Vec<String> = teams.iter().map(|t| TEAMS[*t].to_owned()).collect();
            if can_approve(&p, requester, &approvals, now, user, &teams) {
                let stage = evaluate(&p, requester, &approvals, now).current.expect("open stage");
                approvals.push(Approval { user_id: user, teams, stage, at_ms: now, voided: false, acted_by: None });
            }
            let eval = evaluate(&p, requester, &approvals, now);
            let mut seen = Vec::new();
            for (s, stage) in eval.stages.iter().enumerate() {
                for rule in &stage.rules {
                    for u in &rule.counted {
                        prop_assert!(p.requester_can_approve || *u != requester, "the requester counted");
                        let a = approvals.iter().find(|a| a.user_id == *u && a.stage == s && is_live(&p, a, now));
                        prop_assert!(a.is_some_and(|a| a.teams.contains(&rule.team)), "someone outside the team counted");
                        if !p.approver_may_count_twice {
                            prop_assert!(!seen.contains(u), "one person counted twice");
                        }
                        seen.push(*u);
                    }
                }
            }
            if eval.complete() {
                prop_assert!(eval.stages.iter().all(StageProgress::satisfied), "complete with a stage unsatisfied");
                prop_assert_eq!(eval.stages.len(), p.stages.len());
            } else {
                let current = eval.current.expect("current");
                prop_assert!(eval.stages[..current].iter().all(StageProgress::satisfied));
                prop_assert!(!eval.stages[current].satisfied());
            }
        }
    }

    /// Whoever may decide at any time after the last change belongs to a team it asked,
    /// however many approvals expired since.
    #[test]
    fn the_teams_asked_cover_every_possible_approver(p in arb_policy(), attempts in arb_attempts()) {
        let requester = 0;
        let mut approvals: Vec<Approval> = Vec::new();
        let mut now = 0;
        for (user, teams, step, _) in attempts {
            now += step;
            let teams: Vec<String> = teams.iter().map(|t| TEAMS[*t].to_owned()).collect();
            if can_approve(&p, requester, &approvals, now, user, &teams) {
                let stage = evaluate(&p, requester, &approvals, now).current.expect("open stage");
                approvals.push(Approval { user_id: user, teams, stage, at_ms: now, voided: false, acted_by: None });
            }
            let eval = evaluate(&p, requester, &approvals, now);
            if eval.complete() {
                // The request leaves approval here; if its approvals lapse before dispatch,
                // sending it back is a change of its own, which asks again.
                continue;
            }
            let asked = teams_to_ask(&p, &eval);
            for later in [now, now + 1_000, now + 50_000, now + 500_000] {
                for who in 0..6 {
                    for team in TEAMS {
                        if can_approve(&p, requester, &approvals, later, who, &[team.to_owned()]) {
                            prop_assert!(asked.iter().any(|t| t == team), "{team} may decide but was not asked");
                        }
                    }
                }
            }
        }
    }
}
