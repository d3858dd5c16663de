//! Standard (pre-approved) changes at submission: the evidence the portal holds for the release,
//! and the first of the environment's rules it meets.

use super::error::Result;
use crate::db::requests as q;
use crate::db::stage_results;
use crate::db::Write;
use crate::domain::request::Draft;
use crate::domain::standard::{describe_failures, first_met, Evidence};
use crate::domain::Environment;

/// The rule `draft` meets (its name), or why it meets none (in words); `None` when the
/// environment has no standard-change rules.
pub(super) async fn evaluate(
    tx: &mut Write,
    application: &str,
    env: &Environment,
    draft: &Draft,
) -> Result<Option<std::result::Result<String, String>>> {
    let rules = &env.policy.standard;
    if rules.is_empty() {
        return Ok(None);
    }
    let mut evidence = Evidence {
        deployed: q::last_success(&mut ***tx, application, &env.id, None)
            .await?
            .map(|(version, _, _)| version),
        ..Evidence::default()
    };
    // The latest result of each stage, and the latest value of each metric, win.
    // Evidence counts for the artifact the request names (the gate lets through that one
    // alone), or for the version when it names none.
    let artifact = (!draft.artifact.is_empty()).then_some(draft.artifact.as_str());
    for (stage, status, metrics) in
        stage_results::of_version(&mut ***tx, application, &draft.version, artifact).await?
    {
        if status != "started" {
            evidence.stages.insert(stage, status == "succeeded");
        }
        let metrics: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&metrics).unwrap_or_default();
        for (name, value) in metrics {
            if let Some(n) = value.as_f64() {
                evidence.metrics.insert(name, n);
            }
        }
    }
    Ok(Some(match first_met(rules, draft, &evidence) {
        Ok(rule) => Ok(rule.name.clone()),
        Err(failed) => Err(describe_failures(&failed)),
    }))
}
