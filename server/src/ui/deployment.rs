//! A request's deployment as its page shows it: the CI runs of each step, grouped by target when
//! the environment fans out to several components or regions, with where each target stands and
//! which one operations may retry.

use super::views::format_ms;
use crate::db::dispatch::RunRow;
use crate::db::requests::RequestRow;
use crate::domain::fan_out::{self, Progress};
use crate::domain::Catalog;
use app::model::{DeploymentView, StepView, TargetView};

pub(super) fn step_name(step: &str) -> String {
    match step {
        "provision" => "Provision".to_owned(),
        "deploy" => "Deploy".to_owned(),
        other => other.to_owned(),
    }
}

/// "Deploy", or "Deploy of eu" for a target of a fan-out.
pub(super) fn step_of(step: &str, target_id: &str) -> String {
    if target_id.is_empty() {
        step_name(step)
    } else {
        format!("{} of {target_id}", step_name(step))
    }
}

fn step_view(r: &RunRow) -> StepView {
    let name = if r.attempt > 1 {
        format!("{} (attempt {})", step_name(&r.step), r.attempt)
    } else {
        step_name(&r.step)
    };
    StepView {
        name,
        state: r.state.clone(),
        job: format!("{}: {}", r.connector, r.target),
        started_at: format_ms(r.started_at),
        finished_at: r.finished_at.map(format_ms),
        url: r.url.clone(),
        log_tail: r.log_tail.clone(),
        message: r.message.clone(),
    }
}

/// The deployment of `row` from its runs; `may_retry`: the lifecycle would take a retry from the
/// viewer now (each failed target then offers its own).
pub(super) fn view(
    catalog: &Catalog,
    row: &RequestRow,
    runs: &[RunRow],
    may_retry: bool,
) -> DeploymentView {
    let binding = catalog
        .application(&row.application_id)
        .and_then(|a| a.environment(&row.environment_id))
        .and_then(|e| e.ci.as_ref())
        .filter(|b| b.fans_out());
    let steps_of = |id: &str| -> Vec<StepView> {
        runs.iter()
            .filter(|r| r.target_id == id)
            .map(step_view)
            .collect()
    };
    let Some(binding) = binding else {
        // One target (or a fan-out no longer in the catalog: its runs in the order they ran).
        return DeploymentView {
            steps: runs.iter().map(step_view).collect(),
            can_retry: may_retry,
            ..DeploymentView::default()
        };
    };
    let facts: Vec<_> = runs.iter().map(RunRow::fact).collect();
    let started = !runs.is_empty();
    let targets: Vec<TargetView> = fan_out::plan(binding, &facts)
        .into_iter()
        .map(|(target, progress)| TargetView {
            id: target.id.clone(),
            name: target.name.clone(),
            status: if started {
                progress.words().to_owned()
            } else {
                "not started".to_owned()
            },
            steps: steps_of(&target.id),
            can_retry: may_retry && matches!(progress, Progress::Failed { .. }),
        })
        .collect();
    // Runs of targets the catalog no longer lists stay in sight.
    let mut gone: Vec<&str> = runs
        .iter()
        .map(|r| r.target_id.as_str())
        .filter(|id| binding.target(id).is_none())
        .collect();
    gone.sort_unstable();
    gone.dedup();
    let targets: Vec<TargetView> = targets
        .into_iter()
        .chain(gone.into_iter().map(|id| TargetView {
            id: id.to_owned(),
            name: if id.is_empty() { "earlier runs" } else { id }.to_owned(),
            status: "no longer in the catalog".to_owned(),
            steps: steps_of(id),
            can_retry: false,
        }))
        .collect();
    let failed = targets.iter().filter(|t| t.can_retry).count();
    DeploymentView {
        steps: Vec::new(),
        can_retry_every: failed > 1,
        targets,
        order: format!(
            "Deploys to {} targets {}",
            binding.targets.len(),
            binding.order_words()
        ),
        can_retry: may_retry,
    }
}
