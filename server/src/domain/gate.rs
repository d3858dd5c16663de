//! The gate a pipeline consults before it deploys: allow, deny or pending, and why. Pure: the
//! caller reads the catalog, the requests for the release and their approvals; the answer
//! depends on nothing else, so a dry run at any moment gets the same explanation.

use super::approval::{self, Approval};
use super::request::State;
use super::schedule::{self, Gate};
use super::{Application, Catalog, Environment, Policy};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Allow,
    Deny,
    Pending,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Deny => "deny",
            Decision::Pending => "pending",
        }
    }
}

/// Who triggered the pipeline, as the gate was told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// Nobody was named: only the request and the schedule decide.
    Unnamed,
    /// A portal user and the teams they belong to.
    User {
        username: String,
        teams: Vec<String>,
    },
    /// A team of the catalog.
    Team(String),
    /// A name that is neither.
    Unknown(String),
}

/// A request for the release asked about, with what decides whether it covers it.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: i64,
    pub state: State,
    pub artifact: String,
    pub requester_id: i64,
    pub scheduled_at: Option<i64>,
    pub policy: Policy,
    pub approvals: Vec<Approval>,
    /// The justification of an emergency change, whose policy is its emergency path's.
    pub emergency: Option<String>,
    /// The request a rollback undoes; its policy is the rollback path's.
    pub rollback_of: Option<i64>,
}

/// "1 more of CAB in stage Change board".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Waiting {
    pub stage: String,
    pub team: String,
    pub team_name: String,
    pub needed: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Answer {
    pub decision: Decision,
    /// The request the answer is about, when one matched.
    pub request_id: Option<i64>,
    /// The rule that decided: `actor`, `request`, `artifact`, `approvals`, `window` or `allow`.
    #[schema(value_type = String)]
    pub rule: &'static str,
    /// Every reason, the deciding one first.
    pub reasons: Vec<String>,
    /// When the schedule next lets this release deploy (now, when it already does); `None`
    /// when no window ever opens.
    pub next_window_ms: Option<i64>,
    /// Who can still approve the matched request.
    pub waiting_for: Vec<Waiting>,
}

pub struct Query<'a> {
    pub catalog: &'a Catalog,
    pub app: &'a Application,
    pub env: &'a Environment,
    pub version: &'a str,
    /// The artifact digest the pipeline is about to deploy, when it says.
    pub artifact: Option<&'a str>,
    pub actor: &'a Actor,
    /// The moment asked about.
    pub at_ms: i64,
}

/// States in which an approved request lets its release through.
fn covers(state: State) -> bool {
    matches!(
        state,
        State::Approved | State::Scheduled | State::Provisioning | State::Deploying
    )
}

/// Why the actor may not deploy, if they may not: they must be allowed to request here, or to
/// open the emergency change or the rollback that covers the release (`own`: its policy).
fn actor_reason(q: &Query<'_>, own: Option<&Policy>) -> Option<String> {
    let may = |teams: &[String]| {
        q.env.policy.may_request(teams) || own.is_some_and(|p| p.may_request(teams))
    };
    let allowed = || {
        let names: Vec<&str> = q
            .env
            .policy
            .requesters
            .iter()
            .chain(own.iter().flat_map(|p| p.requesters.iter()))
            .map(|t| q.catalog.team_name(t))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        if names.is_empty() {
            "no team may".to_owned()
        } else {
            format!("only {} may", names.join(", "))
        }
    };
    let target = format!("{} to {}", q.app.name, q.env.name);
    match q.actor {
        Actor::Unnamed => None,
        Actor::Unknown(name) => Some(format!(
            "{name} is neither a portal user nor a team, so it may not deploy {target}"
        )),
        Actor::Team(team) if !may(std::slice::from_ref(team)) => Some(format!(
            "team {} may not deploy {target} ({})",
            q.catalog.team_name(team),
            allowed()
        )),
        Actor::User { username, teams } if !may(teams) => {
            let theirs: Vec<&str> = teams.iter().map(|t| q.catalog.team_name(t)).collect();
            Some(format!(
                "{username} ({}) may not deploy {target} ({})",
                if theirs.is_empty() {
                    "in no team".to_owned()
                } else {
                    format!("team {}", theirs.join(", "))
                },
                allowed()
            ))
        }
        Actor::Team(_) | Actor::User { .. } => None,
    }
}

pub fn waiting(catalog: &Catalog, candidate: &Candidate, at_ms: i64) -> Vec<Waiting> {
    let eval = approval::evaluate(
        &candidate.policy,
        candidate.requester_id,
        &candidate.approvals,
        at_ms,
    );
    eval.current
        .and_then(|c| eval.stages.get(c))
        .map(|stage| {
            stage
                .rules
                .iter()
                .filter(|r| !r.satisfied())
                .map(|r| Waiting {
                    stage: stage.name.clone(),
                    team: r.team.clone(),
                    team_name: catalog.team_name(&r.team).to_owned(),
                    needed: r.needed - u32::try_from(r.counted.len()).unwrap_or(r.needed),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn describe_waiting(waiting: &[Waiting]) -> String {
    waiting
        .iter()
        .map(|w| format!("{} more of {} ({})", w.needed, w.team_name, w.stage))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Decides. `candidates` are the requests for this application, environment and version,
/// newest first.
pub fn decide(q: &Query<'_>, candidates: &[Candidate]) -> Answer {
    let release = format!("{} {} to {}", q.app.name, q.version, q.env.name);
    // (rule, reason) of everything that stands in the way, in the order rules are checked.
    let mut denials: Vec<(&'static str, String)> = Vec::new();
    let mut pending: Option<String> = None;
    let mut request_id = None;
    let mut waiting_for = Vec::new();

    // The newest request that covers the release wins; otherwise the newest open one; otherwise
    // the newest of any kind explains the denial.
    let approved = candidates.iter().find(|c| {
        covers(c.state)
            && approval::evaluate(&c.policy, c.requester_id, &c.approvals, q.at_ms).complete()
    });

    let open = candidates.iter().find(|c| {
        matches!(
            c.state,
            State::PendingApproval | State::Approved | State::Scheduled
        )
    });
    // An emergency change or a rollback that covers the release, or waits for its approval, is
    // judged by its own path: who may open it, and the schedule it keeps.
    let own = approved
        .or(open)
        .filter(|c| c.emergency.is_some() || c.rollback_of.is_some());
    if let Some(reason) = actor_reason(q, own.map(|c| &c.policy)) {
        denials.push(("actor", reason));
    }
    match (approved, open, candidates.first()) {
        (Some(c), _, _) => {
            request_id = Some(c.id);
            match q.artifact {
                Some(digest) if c.artifact.is_empty() => denials.push((
                    "artifact",
                    format!(
                        "request #{} names no artifact digest, so it does not cover {digest}",
                        c.id
                    ),
                )),
                Some(digest) if c.artifact != digest => denials.push((
                    "artifact",
                    format!(
                        "request #{} approved artifact {}, not {digest}",
                        c.id, c.artifact
                    ),
                )),
                _ => {}
            }
            if let (State::Scheduled, Some(at)) = (c.state, c.scheduled_at) {
                if q.at_ms < at {
                    denials.push((
                        "request",
                        format!(
                            "request #{} is scheduled for {}",
                            c.id,
                            super::format_ms(at)
                        ),
                    ));
                }
            }
        }
        (None, Some(c), _) => {
            request_id = Some(c.id);
            waiting_for = waiting(q.catalog, c, q.at_ms);
            let lapsed = c.state != State::PendingApproval;
            pending = Some(if lapsed {
                format!(
                    "the approvals of request #{} will have lapsed by then; it needs {}",
                    c.id,
                    describe_waiting(&waiting_for)
                )
            } else if waiting_for.is_empty() {
                format!("request #{} waits for approval", c.id)
            } else {
                format!(
                    "request #{} waits for approval: {}",
                    c.id,
                    describe_waiting(&waiting_for)
                )
            });
        }
        (None, None, Some(c)) => {
            request_id = Some(c.id);
            denials.push((
                "request",
                format!(
                    "the latest request for {release}, #{}, is {}; no approved request covers it",
                    c.id,
                    c.state.as_str().replace('_', " ")
                ),
            ));
        }
        (None, None, None) => denials.push(("request", format!("no request asks for {release}"))),
    }

    // Its own path's schedule may ignore windows and freezes.
    let policy = own.map_or(&q.env.policy, |c| &c.policy);
    let next_window_ms =
        match schedule::dispatch_gate(q.catalog, policy, &q.app.id, &q.env.id, q.at_ms) {
            Gate::Open => Some(q.at_ms),
            Gate::WaitUntil { at_ms, reason } => {
                denials.push((
                    "window",
                    format!(
                        "{reason}: the next time {} may deploy is {}",
                        q.app.name,
                        super::format_ms(at_ms)
                    ),
                ));
                Some(at_ms)
            }
            Gate::Never { reason } => {
                denials.push(("window", reason));
                None
            }
        };

    let mut reasons: Vec<String> = denials.iter().map(|(_, r)| r.clone()).collect();
    let (decision, rule) = match (denials.first(), &pending) {
        (Some((rule, _)), _) => (Decision::Deny, *rule),
        (None, Some(_)) => (Decision::Pending, "approvals"),
        (None, None) => (Decision::Allow, "allow"),
    };
    if let Some(p) = pending {
        // Pending alone, or after the denial that stands first.
        reasons.push(p);
    }
    if decision == Decision::Allow {
        reasons.push(format!(
            "request #{} is approved for {release}{}",
            request_id.unwrap_or_default(),
            q.artifact
                .map(|d| format!(" (artifact {d})"))
                .unwrap_or_default()
        ));
    }
    if let Some(c) = own.filter(|_| decision == Decision::Allow) {
        let bypass = if c.policy.ignores_freezes {
            "; change windows and freezes do not hold it"
        } else {
            ""
        };
        reasons.push(match (&c.emergency, c.rollback_of) {
            (Some(why), _) => format!("request #{} is an emergency change{bypass}: {why}", c.id),
            (None, of) => format!(
                "request #{} rolls back request #{}{bypass}",
                c.id,
                of.unwrap_or_default()
            ),
        });
    }
    Answer {
        decision,
        request_id,
        rule,
        reasons,
        next_window_ms,
        waiting_for,
    }
}

#[cfg(test)]
#[path = "gate_tests.rs"]
mod tests;
