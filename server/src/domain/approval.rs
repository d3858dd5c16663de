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
    /// The delegate who decided in this person's place while they were away.
    #[serde(default)]
    pub acted_by: Option<i64>,
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

/// Whether `person` has acted on the request already, in their own place or in someone else's,
/// with an approval that still counts: they count once per request unless the policy lets one
/// person count several times.
pub fn acted(policy: &Policy, approvals: &[Approval], now_ms: i64, person: i64) -> bool {
    !policy.approver_may_count_twice
        && approvals.iter().any(|a| {
            (a.user_id == person || a.acted_by == Some(person)) && is_live(policy, a, now_ms)
        })
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
#[path = "approval_tests.rs"]
mod tests;
