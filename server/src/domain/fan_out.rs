//! Where each target of a deployment stands, from the CI runs started for it: what the dispatch
//! does next, and what the request page shows. One target for most environments; several for a
//! fan-out to components or regions, run in order or in parallel. Pure.

use super::{CiBinding, CiTarget};

/// What is known of one CI run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunFact<'a> {
    pub target_id: &'a str,
    pub step: &'a str,
    pub attempt: i64,
    /// retry, triggering, queued, running, succeeded, failed, cancelled.
    pub state: &'a str,
}

/// Where one target stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Every step succeeded.
    Done,
    /// A step failed or was cancelled; operations may retry it.
    Failed { step: &'static str },
    /// A step's run is being started or followed.
    Busy { step: &'static str },
    /// A step is to start: its first run, or the retry operations asked for.
    Ready { step: &'static str, attempt: i64 },
    /// In order: waits for the targets before it.
    Waiting,
    /// In order: a target before it failed, so it does not start.
    Skipped,
}

impl Progress {
    /// In words, for the request page.
    pub fn words(self) -> &'static str {
        match self {
            Progress::Done => "succeeded",
            Progress::Failed { .. } => "failed",
            Progress::Busy { .. } => "running",
            Progress::Ready { .. } | Progress::Waiting => "waiting",
            Progress::Skipped => "skipped",
        }
    }

    /// The dispatch has something to do for it now.
    pub fn active(self) -> bool {
        matches!(self, Progress::Busy { .. } | Progress::Ready { .. })
    }
}

/// The latest run of a target's step.
pub fn latest<'a>(runs: &[RunFact<'a>], target_id: &str, step: &str) -> Option<RunFact<'a>> {
    runs.iter()
        .filter(|r| r.target_id == target_id && r.step == step)
        .max_by_key(|r| r.attempt)
        .copied()
}

/// Where `target` stands on its own, its steps taken in order.
pub fn progress(target: &CiTarget, runs: &[RunFact<'_>]) -> Progress {
    for (step, _) in target.steps() {
        match latest(runs, &target.id, step) {
            Some(r) if r.state == "succeeded" => {}
            Some(r) if r.state == "failed" || r.state == "cancelled" => {
                return Progress::Failed { step }
            }
            Some(r) if r.state == "retry" => {
                return Progress::Ready {
                    step,
                    attempt: r.attempt,
                }
            }
            Some(_) => return Progress::Busy { step },
            None => return Progress::Ready { step, attempt: 1 },
        }
    }
    Progress::Done
}

/// Where every target of `binding` stands, its order applied: in order, a target waits for those
/// before it and is skipped after a failure; in parallel, each goes its own way.
pub fn plan<'b>(binding: &'b CiBinding, runs: &[RunFact<'_>]) -> Vec<(&'b CiTarget, Progress)> {
    let mut blocked: Option<Progress> = None;
    binding
        .targets
        .iter()
        .map(|target| {
            let own = progress(target, runs);
            let shown = match blocked {
                Some(Progress::Failed { .. } | Progress::Skipped) if own != Progress::Done => {
                    Progress::Skipped
                }
                Some(_) if own != Progress::Done => Progress::Waiting,
                _ => own,
            };
            if !binding.parallel && blocked.is_none() && own != Progress::Done {
                blocked = Some(own);
            }
            (target, shown)
        })
        .collect()
}

/// How the deployment as a whole stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every target succeeded.
    Succeeded,
    /// Nothing is left to run, and these targets failed.
    Failed(Vec<String>),
    /// Some targets are running or about to start.
    Running,
}

pub fn outcome(plan: &[(&CiTarget, Progress)]) -> Outcome {
    if plan.iter().any(|(_, p)| p.active()) {
        return Outcome::Running;
    }
    let failed: Vec<String> = plan
        .iter()
        .filter(|(_, p)| matches!(p, Progress::Failed { .. }))
        .map(|(t, _)| t.id.clone())
        .collect();
    if failed.is_empty() && plan.iter().all(|(_, p)| *p == Progress::Done) {
        Outcome::Succeeded
    } else {
        Outcome::Failed(failed)
    }
}

#[cfg(test)]
#[path = "fan_out_tests.rs"]
mod tests;
