//! Policy evaluation: which approvals count, which stage a request is at, and who may still
//! approve. Pure functions over a request's frozen policy and its approvals.

use super::Policy;
use serde::{Deserialize, Serialize};

/// One approval as recorded, with the approver's teams at the time they decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub user_id: i64,
    pub teams: Vec<String>,
    /// The stage that was current when the approval was given.
    pub stage: usize,
    pub at_ms: i64,
    /// Voided approvals (the request was edited afterwards) never count.
    pub voided: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleProgress {
    pub team: String,
    pub needed: u32,
    /// Users whose approvals count for this rule.
    pub counted: Vec<i64>,
}

impl RuleProgress {
    pub fn satisfied(&self) -> bool {
        self.counted.len() >= self.needed as usize
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageProgress {
    pub name: String,
    pub rules: Vec<RuleProgress>,
}

impl StageProgress {
    pub fn satisfied(&self) -> bool {
        self.rules.iter().all(RuleProgress::satisfied)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evaluation {
    pub stages: Vec<StageProgress>,
    /// The first unsatisfied stage; `None` once every stage is satisfied.
    pub current: Option<usize>,
}

impl Evaluation {
    pub fn complete(&self) -> bool {
        self.current.is_none()
    }
}

/// Whether an approval still counts at `now_ms`.
pub fn is_live(policy: &Policy, approval: &Approval, now_ms: i64) -> bool {
    !approval.voided
        && policy
            .approval_lifetime_secs
            .is_none_or(|secs| now_ms < approval.at_ms.saturating_add(secs.saturating_mul(1000)))
}

/// Evaluates the approvals against the policy. Stages are satisfied in order; within a stage,
/// approvals are matched to rules so that as many rules as possible are satisfied (a person in
/// two teams is placed where they are needed). The requester never counts unless the policy
/// allows it, and a person counts once per request unless the policy allows otherwise.
pub fn evaluate(
    policy: &Policy,
    requester: i64,
    approvals: &[Approval],
    now_ms: i64,
) -> Evaluation {
    let mut used: Vec<i64> = Vec::new();
    let mut stages = Vec::with_capacity(policy.stages.len());
    let mut current = None;
    for (index, stage) in policy.stages.iter().enumerate() {
        let mut rules: Vec<RuleProgress> = stage
            .rules
            .iter()
            .map(|r| RuleProgress {
                team: r.team.clone(),
                needed: r.count,
                counted: Vec::new(),
            })
            .collect();
        if current.is_none() {
            // One live approval per person for this stage (the earliest).
            let mut people: Vec<&Approval> = Vec::new();
            for a in approvals
                .iter()
                .filter(|a| a.stage == index && is_live(policy, a, now_ms))
            {
                let eligible = policy.requester_can_approve || a.user_id != requester;
                let fresh = policy.approver_may_count_twice || !used.contains(&a.user_id);
                if eligible && fresh && !people.iter().any(|p| p.user_id == a.user_id) {
                    people.push(a);
                }
            }
            if policy.approver_may_count_twice {
                for rule in &mut rules {
                    rule.counted = people
                        .iter()
                        .filter(|p| p.teams.contains(&rule.team))
                        .map(|p| p.user_id)
                        .collect();
                }
            } else {
                assign(&mut rules, &people);
            }
            used.extend(rules.iter().flat_map(|r| r.counted.iter().copied()));
            let progress = StageProgress {
                name: stage.name.clone(),
                rules,
            };
            if !progress.satisfied() {
                current = Some(index);
            }
            stages.push(progress);
        } else {
            stages.push(StageProgress {
                name: stage.name.clone(),
                rules,
            });
        }
    }
    Evaluation { stages, current }
}

/// Maximum matching of people to rule seats (each rule has `needed` seats), so no person fills
/// two seats. Kuhn's augmenting paths: requests have a handful of approvers.
fn assign(rules: &mut [RuleProgress], people: &[&Approval]) {
    let seats: Vec<usize> = rules
        .iter()
        .enumerate()
        .flat_map(|(i, r)| std::iter::repeat_n(i, r.needed as usize))
        .collect();
    let mut seat_of_person: Vec<Option<usize>> = vec![None; people.len()];
    let mut person_in_seat: Vec<Option<usize>> = vec![None; seats.len()];
    for p in 0..people.len() {
        let mut visited = vec![false; seats.len()];
        augment(
            p,
            people,
            rules,
            &seats,
            &mut visited,
            &mut seat_of_person,
            &mut person_in_seat,
        );
    }
    for (p, seat) in seat_of_person.iter().enumerate() {
        if let Some(seat) = seat {
            rules[seats[*seat]].counted.push(people[p].user_id);
        }
    }
}

fn augment(
    p: usize,
    people: &[&Approval],
    rules: &[RuleProgress],
    seats: &[usize],
    visited: &mut [bool],
    seat_of_person: &mut [Option<usize>],
    person_in_seat: &mut [Option<usize>],
) -> bool {
    for (s, rule) in seats.iter().enumerate() {
        if visited[s] || !people[p].teams.contains(&rules[*rule].team) {
            continue;
        }
        visited[s] = true;
        let free = match person_in_seat[s] {
            None => true,
            Some(other) => augment(
                other,
                people,
                rules,
                seats,
                visited,
                seat_of_person,
                person_in_seat,
            ),
        };
        if free {
            seat_of_person[p] = Some(s);
            person_in_seat[s] = Some(p);
            return true;
        }
    }
    false
}

/// Whether `user` (with `teams`) may approve now: the request is at a stage with a rule that
/// still needs one of their teams, they are not the requester (unless allowed), and they have
/// not already counted.
pub fn can_approve(
    policy: &Policy,
    requester: i64,
    approvals: &[Approval],
    now_ms: i64,
    user: i64,
    teams: &[String],
) -> bool {
    let eval = evaluate(policy, requester, approvals, now_ms);
    can_approve_in(policy, requester, approvals, now_ms, user, teams, &eval)
}

/// [`can_approve`] with the evaluation already made.
pub fn can_approve_in(
    policy: &Policy,
    requester: i64,
    approvals: &[Approval],
    now_ms: i64,
    user: i64,
    teams: &[String],
    eval: &Evaluation,
) -> bool {
    if user == requester && !policy.requester_can_approve {
        return false;
    }
    let Some(current) = eval.current else {
        return false;
    };
    let already = approvals
        .iter()
        .any(|a| a.user_id == user && a.stage == current && is_live(policy, a, now_ms));
    let counted_before = !policy.approver_may_count_twice
        && eval.stages[..current]
            .iter()
            .any(|s| s.rules.iter().any(|r| r.counted.contains(&user)));
    !already
        && !counted_before
        && eval.stages[current]
            .rules
            .iter()
            .any(|r| !r.satisfied() && teams.contains(&r.team))
}

/// The teams whose members may be asked to decide on a request now, or whose approvals may be
/// needed again before anything else changes it: the unsatisfied rules of the current stage and,
/// when approvals expire with time, every rule of the stages up to it (an expiry can reopen them
/// with no write at all). A superset of the teams `can_approve_in` accepts, so the approver queue
/// can look a request up by team and leave the exact answer to the evaluation.
pub fn teams_to_ask(policy: &Policy, eval: &Evaluation) -> Vec<String> {
    let Some(current) = eval.current else {
        return Vec::new();
    };
    let mut teams: Vec<String> = if policy.approval_lifetime_secs.is_some() {
        eval.stages[..=current]
            .iter()
            .flat_map(|s| s.rules.iter().map(|r| r.team.clone()))
            .collect()
    } else {
        eval.stages[current]
            .rules
            .iter()
            .filter(|r| !r.satisfied())
            .map(|r| r.team.clone())
            .collect()
    };
    teams.sort();
    teams.dedup();
    teams
}

#[cfg(test)]
mod tests {
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
        }
    }

    fn approval(user: i64, teams: &[&str], stage: usize, at_ms: i64) -> Approval {
        Approval {
            user_id: user,
            teams: teams.iter().map(|t| (*t).to_owned()).collect(),
            stage,
            at_ms,
            voided: false,
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
                    approvals.push(Approval { user_id: user, teams, stage, at_ms: now, voided: false });
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
                    approvals.push(Approval { user_id: user, teams, stage, at_ms: now, voided: false });
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
}
