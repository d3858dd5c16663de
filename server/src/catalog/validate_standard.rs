//! Checks of an environment's standard-change rules: a name, known risks, a version rule the
//! portal reads, the application's own fields with values of their kind, CI stages and metrics.

use super::raw::*;
use super::validate::Checker;
use super::validate_policy::Known;
use crate::domain::request::Risk;
use crate::domain::standard::{StandardRule, VersionRule};

pub(super) fn rule(
    c: &mut Checker<'_>,
    field: &str,
    r: &RawStandard,
    known: &Known<'_>,
) -> StandardRule {
    let name = c.name(&r.name, &format!("{field}.name"));
    let risks = r
        .risk
        .as_ref()
        .map(|listed| {
            listed
                .get_ref()
                .iter()
                .filter_map(|risk| {
                    let parsed = Risk::parse(risk.get_ref());
                    if parsed.is_none() {
                        c.issue(
                            risk,
                            format!("{field}.risk"),
                            format!(
                                "\"{}\" is not a risk (write low, medium or high)",
                                risk.get_ref()
                            ),
                        );
                    }
                    parsed
                })
                .collect()
        })
        .unwrap_or_default();
    let version = r.version.as_ref().and_then(|v| match v.get_ref().as_str() {
        "patch" => Some(VersionRule::Patch),
        other => {
            c.issue(
                v,
                format!("{field}.version"),
                format!("\"{other}\" is not a version rule (write \"patch\": a patch release of the version deployed here)"),
            );
            None
        }
    });
    let mut fields = std::collections::BTreeMap::new();
    for (id, value) in &r.fields {
        let at = format!("{field}.fields.{}", id.get_ref());
        let Some(kind) = known.fields.get(id.get_ref()) else {
            c.issue(
                id,
                at,
                format!("the application has no field \"{}\"", id.get_ref()),
            );
            continue;
        };
        let json = match (kind.as_str(), value.get_ref()) {
            ("checkbox", toml::Value::Boolean(b)) => Some(serde_json::Value::Bool(*b)),
            ("number", toml::Value::Integer(n)) => Some((*n).into()),
            ("number", toml::Value::Float(f)) => serde_json::Number::from_f64(*f).map(Into::into),
            ("text" | "select", toml::Value::String(s)) => Some(s.clone().into()),
            _ => None,
        };
        match json {
            Some(json) => {
                fields.insert(id.get_ref().clone(), json);
            }
            None => c.issue(
                value,
                at,
                format!(
                    "a {kind} field takes {}",
                    match kind.as_str() {
                        "checkbox" => "true or false",
                        "number" => "a number",
                        _ => "a text in quotes",
                    }
                ),
            ),
        }
    }
    let stages = r
        .stages
        .iter()
        .map(|s| {
            if s.get_ref().trim().is_empty() {
                c.issue(s, format!("{field}.stages"), "name the CI stage");
            }
            s.get_ref().clone()
        })
        .collect();
    let metrics = r
        .metrics
        .iter()
        .map(|(name, min)| {
            if !min.get_ref().is_finite() {
                c.issue(
                    min,
                    format!("{field}.metrics.{}", name.get_ref()),
                    "must be a number",
                );
            }
            (name.get_ref().clone(), *min.get_ref())
        })
        .collect();
    let rule = StandardRule {
        name,
        risks,
        version,
        fields,
        stages,
        metrics,
    };
    let conditions = !(rule.risks.is_empty()
        && rule.version.is_none()
        && rule.fields.is_empty()
        && rule.stages.is_empty()
        && rule.metrics.is_empty());
    if !conditions && r.risk.is_none() && r.version.is_none() && r.fields.is_empty() {
        // A rule without conditions would approve every request at once.
        c.issue(
            &r.name,
            format!("{field}.name"),
            "a standard rule needs at least one condition (risk, version, fields, stages or metrics)",
        );
    }
    rule
}
