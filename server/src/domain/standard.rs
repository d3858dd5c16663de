//! Standard (pre-approved) changes: an environment's rules, each a set of conditions on the
//! request (its risk, its fields, its version against the one deployed there) and on the CI's
//! evidence for its version (stages that succeeded, metrics at or above a threshold). A request
//! that meets a rule is approved as it is opened; one that meets none says which conditions
//! failed. Pure: the caller reads the evidence.

use super::request::{Draft, Risk};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StandardRule {
    pub name: String,
    /// The risks it accepts; empty means any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub risks: Vec<Risk>,
    /// What the version must be, against the version last deployed there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<VersionRule>,
    /// Extra fields and the value each must have.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, serde_json::Value>,
    /// CI stages that must have succeeded for this version.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<String>,
    /// Metrics the CI posted for this version, each at or above its threshold.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metrics: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionRule {
    /// MAJOR.MINOR.PATCH with the same major and minor as the version last deployed there and a
    /// higher patch.
    Patch,
}

/// What the portal knows of a release when it is opened.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evidence {
    /// The version last deployed successfully to the same application and environment.
    pub deployed: Option<String>,
    /// The latest result of each CI stage posted for this version (of any of its requests):
    /// whether it succeeded.
    pub stages: BTreeMap<String, bool>,
    /// The latest value of each metric posted for this version.
    pub metrics: BTreeMap<String, f64>,
}

/// The conditions of `rule` that `draft` does not meet, in words; none when it is met.
pub fn unmet(rule: &StandardRule, draft: &Draft, evidence: &Evidence) -> Vec<String> {
    let mut unmet = Vec::new();
    if !rule.risks.is_empty() && !rule.risks.contains(&draft.risk) {
        let risks: Vec<&str> = rule.risks.iter().map(|r| r.as_str()).collect();
        unmet.push(format!(
            "the risk is {}, not {}",
            draft.risk.as_str(),
            risks.join(" or ")
        ));
    }
    if let Some(VersionRule::Patch) = rule.version {
        match &evidence.deployed {
            Some(deployed) if is_patch_of(&draft.version, deployed) => {}
            Some(deployed) => unmet.push(format!(
                "{} is not a patch release of {deployed}, the version deployed here",
                draft.version
            )),
            None => unmet.push("no version has been deployed here yet".to_owned()),
        }
    }
    for (field, wanted) in &rule.fields {
        let given = draft.fields.get(field);
        // An unticked checkbox is stored as false, an empty optional field not at all.
        // Numbers compare by value: the catalog writes 5 where a form gives 5.0.
        let same = given == Some(wanted)
            || (given.is_none() && *wanted == serde_json::Value::Bool(false))
            || given
                .and_then(serde_json::Value::as_f64)
                .zip(wanted.as_f64())
                .is_some_and(|(a, b)| a == b);
        if !same {
            unmet.push(match wanted {
                serde_json::Value::Bool(true) => format!("{field} is not ticked"),
                serde_json::Value::Bool(false) => format!("{field} is ticked"),
                _ => format!(
                    "{field} is {}, not {}",
                    given.map_or_else(|| "empty".to_owned(), words),
                    words(wanted)
                ),
            });
        }
    }
    for stage in &rule.stages {
        match evidence.stages.get(stage) {
            Some(true) => {}
            Some(false) => unmet.push(format!("the CI stage {stage} failed for this version")),
            None => unmet.push(format!("the CI posted no {stage} stage for this version")),
        }
    }
    for (metric, min) in &rule.metrics {
        match evidence.metrics.get(metric) {
            Some(value) if value >= min => {}
            Some(value) => unmet.push(format!("{metric} is {value}, below {min}")),
            None => unmet.push(format!("the CI posted no {metric} for this version")),
        }
    }
    unmet
}

/// The first rule `draft` meets, or else each rule with the conditions it failed.
pub fn first_met<'a>(
    rules: &'a [StandardRule],
    draft: &Draft,
    evidence: &Evidence,
) -> Result<&'a StandardRule, Vec<(String, Vec<String>)>> {
    let mut failed = Vec::new();
    for rule in rules {
        let unmet = unmet(rule, draft, evidence);
        if unmet.is_empty() {
            return Ok(rule);
        }
        failed.push((rule.name.clone(), unmet));
    }
    Err(failed)
}

/// "“Low-risk patch”: the risk is medium, not low; the CI posted no test stage for this version".
pub fn describe_failures(failed: &[(String, Vec<String>)]) -> String {
    failed
        .iter()
        .map(|(name, unmet)| format!("“{name}”: {}", unmet.join("; ")))
        .collect::<Vec<_>>()
        .join(". ")
}

fn words(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => format!("“{s}”"),
        other => other.to_string(),
    }
}

/// Whether `version` is MAJOR.MINOR.PATCH with the major and minor of `deployed` and a higher
/// patch (a pre-release or build suffix is no patch release).
fn is_patch_of(version: &str, deployed: &str) -> bool {
    let parts = |v: &str| -> Option<(u64, u64, u64)> {
        let v = v.strip_prefix('v').unwrap_or(v);
        let mut it = v.split('.');
        let parsed = (
            it.next()?.parse().ok()?,
            it.next()?.parse().ok()?,
            it.next()?.parse().ok()?,
        );
        it.next().is_none().then_some(parsed)
    };
    match (parts(version), parts(deployed)) {
        (Some((a, b, c)), Some((x, y, z))) => a == x && b == y && c > z,
        _ => false,
    }
}

#[cfg(test)]
#[path = "standard_tests.rs"]
mod tests;
