//! Where a deployment's lead time went, read from its request's timeline: waiting for approvals
//! (and, within that, each stage and each approver team), waiting for the schedule or a change
//! window, provisioning and deploying; and those segments summed up over many deployments. Pure.
//!
//! The segments follow one another without gaps, so they add up to the time from the request
//! being opened to the deployment ending:
//! - **approvals**: from the request being opened to the last `approved` entry before the end;
//! - **schedule or window**: from there to the first CI step (or the pipeline's own deploy
//!   stage) starting;
//! - **provisioning**: from there to the deploy step starting;
//! - **deploying**: from there to the end (a failed attempt retried into a success included).
//!
//! Before them, when the pipeline said when the change was committed, comes **commit to
//! request**. A stage waits from the moment it could be decided (the request opened, approvals
//! voided, or the stage before it satisfied) to its last live approval; a team answers in the time
//! from then to its member's decision.

use super::audit::AuditEvent;
use super::dora::Deployment;
use super::Stage;
use std::collections::{BTreeMap, HashMap};

/// A decision still standing on the request (not voided).
#[derive(Debug, Clone, PartialEq)]
pub struct Decided {
    pub stage: usize,
    /// The approver's teams when they decided.
    pub teams: Vec<String>,
    pub approve: bool,
    pub at: i64,
}

/// One deployment's lead time, in milliseconds from the request being opened.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Breakdown {
    pub approval_ms: i64,
    pub waiting_ms: i64,
    pub provision_ms: i64,
    pub deploy_ms: i64,
    /// Each approval stage's wait, in the policy's order.
    pub stages: Vec<(String, i64)>,
    /// Each approving team's answer time (one per decision).
    pub teams: Vec<(String, i64)>,
}

/// The breakdown of the deployment of a request opened at `opened` that ended at `end`, from the
/// audit entries of its timeline up to the end (oldest first) and its standing decisions.
pub fn breakdown(
    opened: i64,
    end: i64,
    events: &[(AuditEvent, i64)],
    decisions: &[Decided],
    stages: &[Stage],
) -> Breakdown {
    let end = end.max(opened);
    let upto: Vec<&(AuditEvent, i64)> = events.iter().filter(|(_, at)| *at <= end).collect();
    let clamp = |at: i64, from: i64| at.clamp(from, end);
    let approved = upto
        .iter()
        .rev()
        .find(|(e, _)| matches!(e, AuditEvent::Approved { .. }))
        .map_or(opened, |(_, at)| clamp(*at, opened));
    let first_after = |from: i64, starts: fn(&AuditEvent) -> bool| {
        upto.iter()
            .find(|(e, at)| *at >= from && starts(e))
            .map_or(end, |(_, at)| clamp(*at, from))
    };
    let started = first_after(approved, |e| {
        matches!(
            e,
            AuditEvent::StepStarted { .. } | AuditEvent::PipelineState { .. }
        )
    });
    let deploying = first_after(started, |e| match e {
        AuditEvent::StepStarted { step, .. } => step != "provision",
        AuditEvent::PipelineState { .. } => true,
        _ => false,
    });
    // Approvals collected before a void no longer count: the stages start again from it.
    let restart = upto
        .iter()
        .rev()
        .find(|(e, at)| {
            *at <= approved
                && matches!(
                    e,
                    AuditEvent::ApprovalsVoided { .. } | AuditEvent::ApprovalsLapsed { .. }
                )
        })
        .map_or(opened, |(_, at)| clamp(*at, opened));
    let mut out = Breakdown {
        approval_ms: approved - opened,
        waiting_ms: started - approved,
        provision_ms: deploying - started,
        deploy_ms: end - deploying,
        ..Breakdown::default()
    };
    let mut from = restart.min(approved);
    for (k, stage) in stages.iter().enumerate() {
        let here: Vec<&Decided> = decisions
            .iter()
            .filter(|d| d.stage == k && d.approve && d.at <= approved)
            .collect();
        let satisfied = here
            .iter()
            .map(|d| d.at)
            .max()
            .map_or(from, |at| at.clamp(from, approved));
        out.stages.push((stage.name.clone(), satisfied - from));
        for d in here {
            if let Some(rule) = stage.rules.iter().find(|r| d.teams.contains(&r.team)) {
                out.teams.push((rule.team.clone(), (d.at - from).max(0)));
            }
        }
        from = satisfied;
    }
    out
}

/// The nearest-rank percentile `p` (0–100) of `values`, which it sorts; `None` for none.
pub fn percentile(values: &mut [i64], p: u32) -> Option<i64> {
    values.sort_unstable();
    let n = values.len();
    (n > 0).then(|| {
        let rank = (n * p as usize).div_ceil(100).max(1);
        values[rank - 1]
    })
}

/// The median and the 90th percentile of some durations, and how many there were.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Spread {
    pub count: usize,
    pub median_ms: i64,
    pub p90_ms: i64,
}

impl Spread {
    pub fn of(mut values: Vec<i64>) -> Spread {
        Spread {
            count: values.len(),
            median_ms: percentile(&mut values, 50).unwrap_or_default(),
            p90_ms: percentile(&mut values, 90).unwrap_or_default(),
        }
    }
}

/// Where the lead time of one application's successful deployments went.
#[derive(Debug, Clone, PartialEq)]
pub struct ByApplication {
    pub application: String,
    /// Commit to request (only deployments whose pipeline said when), approvals, schedule or
    /// window, provisioning, deploying.
    pub segments: [Spread; 5],
}

/// The segment names, in the order of [`ByApplication::segments`].
pub const SEGMENTS: [&str; 5] = [
    "commit to request",
    "approvals",
    "schedule or window",
    "provisioning",
    "deploying",
];

/// The lead time of some successful deployments, taken apart.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Summary {
    pub applications: Vec<ByApplication>,
    /// Each application's approval stages, slowest (by p90) first.
    pub stages: Vec<(String, String, Spread)>,
    /// Each approver team's answer time, slowest (by p90) first.
    pub teams: Vec<(String, Spread)>,
    /// The share of the whole lead time spent waiting for approvals.
    pub people_share: Option<f64>,
}

/// Takes apart the lead time of `successes`, given the stage and team waits kept for them
/// (`(deployment, kind, name, ms)`; those of other deployments are left out).
pub fn summary(successes: &[&Deployment], waits: &[(i64, String, String, i64)]) -> Summary {
    let mut by_app: BTreeMap<&str, [Vec<i64>; 5]> = BTreeMap::new();
    let (mut people, mut total) = (0i64, 0i64);
    for d in successes {
        let lists = by_app.entry(d.application.as_str()).or_default();
        if let Some(commit) = d.commit_at {
            lists[0].push((d.requested_at - commit).max(0));
        }
        for (list, ms) in lists[1..].iter_mut().zip(d.segments) {
            list.push(ms);
        }
        people += d.segments[0];
        total += d.finished_at - d.lead_start();
    }
    let app_of: HashMap<i64, &str> = successes
        .iter()
        .map(|d| (d.id, d.application.as_str()))
        .collect();
    let mut stages: BTreeMap<(&str, &str), Vec<i64>> = BTreeMap::new();
    let mut teams: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for (id, kind, name, ms) in waits {
        let Some(app) = app_of.get(id) else { continue };
        match kind.as_str() {
            "stage" => stages.entry((*app, name.as_str())).or_default().push(*ms),
            _ => teams.entry(name.as_str()).or_default().push(*ms),
        }
    }
    let slowest =
        |a: &Spread, b: &Spread| b.p90_ms.cmp(&a.p90_ms).then(b.median_ms.cmp(&a.median_ms));
    let mut stages: Vec<(String, String, Spread)> = stages
        .into_iter()
        .map(|((app, stage), ms)| (app.to_owned(), stage.to_owned(), Spread::of(ms)))
        .collect();
    stages.sort_by(|a, b| slowest(&a.2, &b.2));
    let mut teams: Vec<(String, Spread)> = teams
        .into_iter()
        .map(|(team, ms)| (team.to_owned(), Spread::of(ms)))
        .collect();
    teams.sort_by(|a, b| slowest(&a.1, &b.1));
    Summary {
        applications: by_app
            .into_iter()
            .map(|(app, lists)| ByApplication {
                application: app.to_owned(),
                segments: lists.map(Spread::of),
            })
            .collect(),
        stages,
        teams,
        people_share: (total > 0).then(|| people as f64 / total as f64),
    }
}

/// Where deployments ended in a request's timeline, read back from it: each ending's index in
/// `events` and whether it succeeded. A target of a parallel fan-out that fails while others run
/// does not end the deployment (the `targets_failed` entry after them does), so it counts once.
pub fn endings(events: &[(AuditEvent, i64)]) -> Vec<(usize, bool)> {
    let ending = |event: &AuditEvent| match event {
        AuditEvent::Deployed { .. } => Some(true),
        AuditEvent::TargetsFailed { .. } => Some(false),
        AuditEvent::StepFailed { others_running, .. } => (!others_running).then_some(false),
        AuditEvent::PipelineState { state, .. } if state == "succeeded" => Some(true),
        AuditEvent::PipelineState { state, .. } if state == "failed" => Some(false),
        _ => None,
    };
    events
        .iter()
        .enumerate()
        .filter_map(|(i, (event, _))| ending(event).map(|succeeded| (i, succeeded)))
        .collect()
}

#[cfg(test)]
#[path = "lead_time_tests.rs"]
mod tests;
