//! Checks of the catalog's CI bindings, their secrets, and its ticket rules.

use super::raw::*;
use super::validate::Checker;
use crate::domain::*;
use std::collections::{BTreeMap, HashSet};

/// Placeholders a CI parameter template may use.
pub const TEMPLATE_VARIABLES: [&str; 9] = [
    "application",
    "environment",
    "version",
    "artifact",
    "request_id",
    "requester",
    "title",
    "step",
    "target",
];

pub(super) fn ticket_rule(
    c: &mut Checker<'_>,
    i: usize,
    t: &RawTicketRule,
    seen: &mut HashSet<String>,
    teams: &HashSet<String>,
    apps: &HashSet<String>,
    envs: &HashSet<String>,
) -> TicketRule {
    let field = format!("tickets[{i}]");
    let id = c.id(&t.id, &format!("{field}.id"), seen, "ticket rule");
    let on = TicketTrigger::ALL
        .into_iter()
        .find(|k| k.as_str() == t.on.get_ref())
        .unwrap_or_else(|| {
            c.issue(
                &t.on,
                format!("{field}.on"),
                format!(
                    "\"{}\" is not a trigger (deploy_failed or stage_failed)",
                    t.on.get_ref()
                ),
            );
            TicketTrigger::DeployFailed
        });
    let kind = match t.kind.get_ref().as_str() {
        "incident" => TicketKind::Incident,
        "task" => TicketKind::Task,
        other => {
            c.issue(
                &t.kind,
                format!("{field}.kind"),
                format!("\"{other}\" is not a ticket kind (incident or task)"),
            );
            TicketKind::Task
        }
    };
    let team = c.team_ref(&t.team, &format!("{field}.team"), teams);
    for a in &t.applications {
        if !apps.contains(a.get_ref()) {
            c.issue(
                a,
                format!("{field}.applications"),
                format!("unknown application \"{}\"", a.get_ref()),
            );
        }
    }
    for e in &t.environments {
        if !envs.contains(e.get_ref()) {
            c.issue(
                e,
                format!("{field}.environments"),
                format!("no application has an environment \"{}\"", e.get_ref()),
            );
        }
    }
    let webhook = t.webhook.as_ref().map(|w| {
        let url = w.get_ref().trim();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            c.issue(
                w,
                format!("{field}.webhook"),
                format!("\"{url}\" is not an http(s) address"),
            );
        }
        url.to_owned()
    });
    TicketRule {
        id,
        on,
        applications: t.applications.iter().map(|a| a.get_ref().clone()).collect(),
        environments: t.environments.iter().map(|e| e.get_ref().clone()).collect(),
        kind,
        team,
        webhook,
    }
}

pub(super) fn ci_binding(c: &mut Checker<'_>, field: &str, ci: &RawCi) -> CiBinding {
    let field = format!("{field}.ci");
    let kind = ConnectorKind::parse(ci.connector.get_ref()).unwrap_or_else(|| {
        let known: Vec<&str> = ConnectorKind::ALL.iter().map(|k| k.as_str()).collect();
        c.issue(
            &ci.connector,
            format!("{field}.connector"),
            format!(
                "unknown connector \"{}\" (expected one of {})",
                ci.connector.get_ref(),
                known.join(", ")
            ),
        );
        ConnectorKind::Shell
    });
    let mut settings = BTreeMap::new();
    for (key, value) in &ci.settings {
        let name = format!("{field}.settings.{}", key.get_ref());
        secret_rule(c, key, value, &name);
        settings.insert(key.get_ref().clone(), value.get_ref().clone());
    }
    for required in kind.required_settings() {
        if !settings.contains_key(*required) {
            c.issue(
                &ci.connector,
                format!("{field}.settings.{required}"),
                format!("the {} connector needs this setting", kind.as_str()),
            );
        }
    }
    let targets = targets(c, &field, ci);
    let parallel = match ci.run.as_ref().map(|r| (r, r.get_ref().as_str())) {
        None | Some((_, "in_order")) => false,
        Some((_, "parallel")) => true,
        Some((r, other)) => {
            c.issue(
                r,
                format!("{field}.run"),
                format!("\"{other}\" is not a way to run targets (in_order or parallel)"),
            );
            false
        }
    };
    if let Some(run) = ci.run.as_ref().filter(|_| ci.targets.is_empty()) {
        c.issue(
            run,
            format!("{field}.run"),
            "only a binding with `targets` runs them in an order",
        );
    }
    CiBinding {
        connector: kind,
        settings,
        targets,
        parallel,
    }
}

/// The binding's targets: its one `provision`/`deploy` pair, or its `[[…ci.targets]]`.
fn targets(c: &mut Checker<'_>, field: &str, ci: &RawCi) -> Vec<CiTarget> {
    if ci.targets.is_empty() {
        let Some(deploy) = &ci.deploy else {
            c.issue(
                &ci.connector,
                format!("{field}.deploy"),
                "a CI binding needs a deploy job, or targets each with one",
            );
            return Vec::new();
        };
        return vec![CiTarget {
            id: String::new(),
            name: String::new(),
            provision: ci
                .provision
                .as_ref()
                .map(|j| job(c, &format!("{field}.provision"), j, false)),
            deploy: job(c, &format!("{field}.deploy"), deploy.get_ref(), false),
        }];
    }
    if let Some(deploy) = &ci.deploy {
        c.issue(
            deploy,
            format!("{field}.deploy"),
            "a binding with targets gives each target its own jobs: move this into them",
        );
    }
    if ci.provision.is_some() {
        c.issue(
            &ci.targets[0],
            format!("{field}.provision"),
            "a binding with targets gives each target its own jobs: move the provision job into them",
        );
    }
    let (mut seen, mut names) = (HashSet::new(), HashSet::new());
    ci.targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let at = format!("{field}.targets[{i}]");
            let raw = t.get_ref();
            let id = c.id(&raw.id, &format!("{at}.id"), &mut seen, "target");
            let name = match &raw.name {
                Some(name) => c.name(name, &format!("{at}.name")),
                None => id.clone(),
            };
            // People retry a target by its name: two alike could not be told apart.
            if !names.insert(name.clone()) {
                let span = raw.name.as_ref().unwrap_or(&raw.id);
                let what = format!("another target is named \"{name}\"");
                c.issue(span, format!("{at}.name"), what);
            }
            CiTarget {
                id,
                name,
                provision: raw
                    .provision
                    .as_ref()
                    .map(|j| job(c, &format!("{at}.provision"), j, true)),
                deploy: job(c, &format!("{at}.deploy"), raw.deploy.get_ref(), true),
            }
        })
        .collect()
}

pub(super) fn secret_rule(c: &mut Checker<'_>, key: &S<String>, value: &S<String>, field: &str) {
    let lower = key.get_ref().to_ascii_lowercase();
    if let Some(stem) = lower.strip_suffix("_env") {
        env_name(c, value, field, stem, "BUILDBOT_PASSWORD");
    } else if ["password", "token", "secret", "key"]
        .iter()
        .any(|s| lower.contains(s))
    {
        c.issue(
            key,
            field,
            format!(
                "secrets are never written in the catalog: put it in an environment variable and name it with `{}_env`",
                key.get_ref()
            ),
        );
    }
}

/// `value` names an environment variable (holding the `what`) the portal may read: upper case,
/// and not one of its own `RUNWAY_` settings.
pub(super) fn env_name(c: &mut Checker<'_>, value: &S<String>, field: &str, what: &str, e_g: &str) {
    let name = value.get_ref();
    let valid = name.starts_with(|ch: char| ch.is_ascii_uppercase() || ch == '_')
        && name
            .chars()
            .all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit() || ch == '_');
    if !valid {
        c.issue(
            value,
            field,
            format!("must name an environment variable holding the {what} (e.g. {e_g})"),
        );
    } else if name.starts_with("RUNWAY_") {
        c.issue(
            value,
            field,
            format!("RUNWAY_ names are the portal's own settings (an unknown one stops start-up): choose another name, e.g. {e_g}"),
        );
    }
}

/// A job's checks; `fans_out`: its binding has targets, so `{target}` is filled.
pub(super) fn job(c: &mut Checker<'_>, field: &str, j: &RawJob, fans_out: bool) -> CiJob {
    if j.job.get_ref().trim().is_empty() {
        c.issue(&j.job, format!("{field}.job"), "must not be empty");
    }
    let mut params = BTreeMap::new();
    for (key, value) in &j.params {
        for var in placeholders(value.get_ref()) {
            if var == "target" && !fans_out {
                c.issue(
                    value,
                    format!("{field}.params.{}", key.get_ref()),
                    "{target} is only filled for a binding with targets",
                );
            } else if !TEMPLATE_VARIABLES.contains(&var) && !var.starts_with("fields.") {
                c.issue(
                    value,
                    format!("{field}.params.{}", key.get_ref()),
                    format!(
                        "unknown placeholder {{{var}}} (known: {})",
                        TEMPLATE_VARIABLES.join(", ")
                    ),
                );
            }
        }
        params.insert(key.get_ref().clone(), value.get_ref().clone());
    }
    CiJob {
        target: j.job.get_ref().trim().to_owned(),
        params,
    }
}

/// The `{name}` placeholders of a template.
pub fn placeholders(template: &str) -> impl Iterator<Item = &str> {
    template
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.trim()))
}
