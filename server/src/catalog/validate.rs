//! Turns the raw file into the domain's catalog, collecting every mistake with its line.

use super::bindings::*;
use super::raw::*;
use super::validate_policy::{policy, Known};
use super::windows::*;
use super::{line_of, CatalogIssue};
use crate::domain::*;
use std::collections::HashSet;

pub(super) struct Checker<'a> {
    source: &'a str,
    issues: Vec<CatalogIssue>,
}

impl Checker<'_> {
    pub(super) fn issue<T>(
        &mut self,
        at: &S<T>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.issues.push(CatalogIssue {
            line: Some(line_of(self.source, at.span().start)),
            field: field.into(),
            message: message.into(),
        });
    }

    pub(super) fn id(
        &mut self,
        id: &S<String>,
        field: &str,
        seen: &mut HashSet<String>,
        what: &str,
    ) -> String {
        let value = id.get_ref();
        let valid = !value.is_empty()
            && value.len() <= 64
            && value.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && value
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if !valid {
            self.issue(
                id,
                field,
                format!(
                    "\"{value}\" is not a valid id: use lowercase letters, digits, '-' and '_'"
                ),
            );
        } else if !seen.insert(value.clone()) {
            self.issue(id, field, format!("{what} \"{value}\" is defined twice"));
        }
        value.clone()
    }

    pub(super) fn name(&mut self, name: &S<String>, field: &str) -> String {
        let value = name.get_ref().trim();
        if value.is_empty() {
            self.issue(name, field, "must not be empty");
        }
        value.to_owned()
    }

    pub(super) fn team_ref(
        &mut self,
        team: &S<String>,
        field: &str,
        teams: &HashSet<String>,
    ) -> String {
        if !teams.contains(team.get_ref()) {
            self.issue(team, field, format!("unknown team \"{}\"", team.get_ref()));
        }
        team.get_ref().clone()
    }
}

pub fn validate(source: &str, raw: RawCatalog) -> Result<Catalog, Vec<CatalogIssue>> {
    let mut c = Checker {
        source,
        issues: Vec::new(),
    };

    let mut team_ids = HashSet::new();
    let teams: Vec<Team> = raw
        .teams
        .iter()
        .enumerate()
        .map(|(i, t)| Team {
            id: c.id(&t.id, &format!("teams[{i}].id"), &mut team_ids, "team"),
            name: c.name(&t.name, &format!("teams[{i}].name")),
            description: t.description.trim().to_owned(),
            ops: t.ops,
            chat_webhook_env: chat_webhook(&mut c, &format!("teams[{i}]"), &t.chat_webhook_env),
            idp_groups: idp_groups(&mut c, &format!("teams[{i}].idp_groups"), &t.idp_groups),
        })
        .collect();

    let mut window_ids = HashSet::new();
    let windows: Vec<Window> = raw
        .windows
        .iter()
        .enumerate()
        .map(|(i, w)| window(&mut c, i, w, &mut window_ids))
        .collect();

    let mut app_ids = HashSet::new();
    let mut env_ids = HashSet::new();
    let applications: Vec<Application> = raw
        .applications
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let field = format!("applications[{i}]");
            let mut seen_envs = HashSet::new();
            let mut seen_fields = HashSet::new();
            if a.environments.get_ref().is_empty() {
                c.issue(
                    &a.environments,
                    format!("{field}.environments"),
                    "needs at least one environment",
                );
            }
            let environments = a
                .environments
                .get_ref()
                .iter()
                .enumerate()
                .map(|(j, e)| {
                    let field = format!("{field}.environments[{j}]");
                    let id = c.id(&e.id, &format!("{field}.id"), &mut seen_envs, "environment");
                    env_ids.insert(id.clone());
                    Environment {
                        name: e.name.clone().unwrap_or_else(|| capitalise(&id)),
                        id,
                        policy: policy(
                            &mut c,
                            &field,
                            &e.policy,
                            &Known {
                                teams: &team_ids,
                                windows: &window_ids,
                                fields: &a
                                    .fields
                                    .iter()
                                    .map(|f| (f.id.get_ref().clone(), f.kind.get_ref().clone()))
                                    .collect(),
                            },
                        ),
                        ci: e.ci.as_ref().map(|ci| ci_binding(&mut c, &field, ci)),
                    }
                })
                .collect();
            Application {
                id: c.id(&a.id, &format!("{field}.id"), &mut app_ids, "application"),
                name: c.name(&a.name, &format!("{field}.name")),
                owner: c.team_ref(&a.owner, &format!("{field}.owner"), &team_ids),
                description: a.description.trim().to_owned(),
                environments,
                chat_webhook_env: chat_webhook(&mut c, &field, &a.chat_webhook_env),
                readers: a.readers.as_ref().map(|teams| {
                    teams
                        .iter()
                        .map(|t| c.team_ref(t, &format!("{field}.readers"), &team_ids))
                        .collect()
                }),
                fields: a
                    .fields
                    .iter()
                    .enumerate()
                    .map(|(j, f)| {
                        form_field(&mut c, &format!("{field}.fields[{j}]"), f, &mut seen_fields)
                    })
                    .collect(),
            }
        })
        .collect();

    let mut freeze_ids = HashSet::new();
    let freezes: Vec<Freeze> = raw
        .freezes
        .iter()
        .enumerate()
        .map(|(i, f)| freeze(&mut c, i, f, &mut freeze_ids, &app_ids, &env_ids))
        .collect();

    let mut rule_ids = HashSet::new();
    let ticket_rules: Vec<TicketRule> = raw
        .tickets
        .iter()
        .enumerate()
        .map(|(i, t)| ticket_rule(&mut c, i, t, &mut rule_ids, &team_ids, &app_ids, &env_ids))
        .collect();

    if c.issues.is_empty() {
        Ok(Catalog {
            teams,
            applications,
            windows,
            freezes,
            ticket_rules,
        })
    } else {
        c.issues.sort_by_key(|i| i.line);
        Err(c.issues)
    }
}

fn form_field(
    c: &mut Checker<'_>,
    field: &str,
    f: &RawField,
    seen: &mut HashSet<String>,
) -> FormField {
    let kind = FieldKind::parse(f.kind.get_ref()).unwrap_or_else(|| {
        c.issue(
            &f.kind,
            format!("{field}.kind"),
            format!(
                "unknown field kind \"{}\" (expected text, select, checkbox or number)",
                f.kind.get_ref()
            ),
        );
        FieldKind::Text
    });
    let options = f
        .options
        .as_ref()
        .map(|o| o.get_ref().clone())
        .unwrap_or_default();
    if kind == FieldKind::Select && options.is_empty() {
        c.issue(
            &f.kind,
            format!("{field}.options"),
            "a select field needs options",
        );
    }
    if let Some(o) = f.options.as_ref().filter(|_| kind != FieldKind::Select) {
        c.issue(
            o,
            format!("{field}.options"),
            "only a select field has options",
        );
    }
    FormField {
        id: c.id(&f.id, &format!("{field}.id"), seen, "field"),
        label: c.name(&f.label, &format!("{field}.label")),
        kind,
        required: f.required,
        options,
        help: f.help.trim().to_owned(),
    }
}

use crate::domain::text::capitalise;

/// The name of the environment variable holding a chat webhook address.
/// Provider group names: any text a provider may use, but no blanks or control characters.
fn idp_groups(c: &mut Checker<'_>, field: &str, groups: &[S<String>]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, g) in groups.iter().enumerate() {
        let name = g.get_ref().trim();
        if name.is_empty() || name.len() > 200 || name.chars().any(char::is_control) {
            c.issue(
                g,
                format!("{field}[{i}]"),
                "a group name, 1 to 200 printable characters",
            );
        } else if !out.iter().any(|o| o == name) {
            out.push(name.to_owned());
        }
    }
    out
}

fn chat_webhook(c: &mut Checker<'_>, field: &str, name: &Option<S<String>>) -> Option<String> {
    let name = name.as_ref()?;
    let field = format!("{field}.chat_webhook_env");
    env_name(c, name, &field, "chat webhook address", "CHAT_WEBHOOK_CAB");
    Some(name.get_ref().clone())
}
