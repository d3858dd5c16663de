//! Turns the raw file into the domain's catalog, collecting every mistake with its line.

use super::raw::*;
use super::{line_of, CatalogIssue};
use crate::domain::*;
use std::collections::{BTreeMap, HashSet};

/// Placeholders a CI parameter template may use.
pub const TEMPLATE_VARIABLES: [&str; 7] = [
    "application",
    "environment",
    "version",
    "artifact",
    "request_id",
    "requester",
    "title",
];

struct Checker<'a> {
    source: &'a str,
    issues: Vec<CatalogIssue>,
}

impl Checker<'_> {
    fn issue<T>(&mut self, at: &S<T>, field: impl Into<String>, message: impl Into<String>) {
        self.issues.push(CatalogIssue {
            line: Some(line_of(self.source, at.span().start)),
            field: field.into(),
            message: message.into(),
        });
    }

    fn id(
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

    fn name(&mut self, name: &S<String>, field: &str) -> String {
        let value = name.get_ref().trim();
        if value.is_empty() {
            self.issue(name, field, "must not be empty");
        }
        value.to_owned()
    }

    fn team_ref(&mut self, team: &S<String>, field: &str, teams: &HashSet<String>) -> String {
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
                                fields: &a.fields.iter().map(|f| f.id.get_ref().clone()).collect(),
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

/// The ids a policy may name.
struct Known<'a> {
    teams: &'a HashSet<String>,
    windows: &'a HashSet<String>,
    /// The application's own form fields.
    fields: &'a HashSet<String>,
}

fn material_fields(
    c: &mut Checker<'_>,
    field: &str,
    listed: Option<&S<Vec<S<String>>>>,
    known: &Known<'_>,
) -> Option<Vec<String>> {
    let listed = listed?;
    let field = format!("{field}.material_fields");
    let names = listed
        .get_ref()
        .iter()
        .map(|name| {
            let n = name.get_ref();
            let own = n
                .strip_prefix("fields.")
                .is_some_and(|id| known.fields.contains(id));
            if !(MATERIAL_FIELDS.contains(&n.as_str()) || n == "fields" || own) {
                c.issue(
                    name,
                    field.clone(),
                    format!(
                        "\"{n}\" is not a field of the request; name {}, fields or fields.<id> of the application's own",
                        MATERIAL_FIELDS.join(", ")
                    ),
                );
            }
            n.clone()
        })
        .collect();
    Some(names)
}

fn policy(c: &mut Checker<'_>, field: &str, p: &RawPolicy, known: &Known<'_>) -> Policy {
    let (teams, windows) = (known.teams, known.windows);
    let field = format!("{field}.policy");
    if p.requesters.get_ref().is_empty() {
        c.issue(
            &p.requesters,
            format!("{field}.requesters"),
            "name at least one team that may request",
        );
    }
    let requesters = p
        .requesters
        .get_ref()
        .iter()
        .map(|t| c.team_ref(t, &format!("{field}.requesters"), teams))
        .collect();
    let stages = p
        .stages
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let field = format!("{field}.stages[{i}]");
            if s.rules.get_ref().is_empty() {
                c.issue(
                    &s.rules,
                    format!("{field}.rules"),
                    "a stage needs at least one rule",
                );
            }
            let rules = s
                .rules
                .get_ref()
                .iter()
                .enumerate()
                .map(|(j, r)| {
                    let field = format!("{field}.rules[{j}]");
                    let count = *r.count.get_ref();
                    if !(1..=100).contains(&count) {
                        c.issue(
                            &r.count,
                            format!("{field}.count"),
                            "must be between 1 and 100",
                        );
                    }
                    Rule {
                        team: c.team_ref(&r.team, &format!("{field}.team"), teams),
                        count: u32::try_from(count.clamp(1, 100)).unwrap_or(1),
                    }
                })
                .collect();
            Stage {
                name: s.name.clone().unwrap_or_else(|| format!("Stage {}", i + 1)),
                rules,
            }
        })
        .collect();
    let approval_lifetime_secs =
        p.approval_lifetime
            .as_ref()
            .and_then(|l| match parse_duration(l.get_ref()) {
                Ok(d) if d.as_secs() >= 60 => Some(d.as_secs()),
                Ok(_) => {
                    c.issue(
                        l,
                        format!("{field}.approval_lifetime"),
                        "must be at least one minute",
                    );
                    None
                }
                Err(_) => {
                    c.issue(
                        l,
                        format!("{field}.approval_lifetime"),
                        format!(
                            "\"{}\" is not a duration (write e.g. \"72h\" or \"3 days\")",
                            l.get_ref()
                        ),
                    );
                    None
                }
            });
    let windows = p
        .windows
        .iter()
        .map(|w| {
            if !windows.contains(w.get_ref()) {
                c.issue(
                    w,
                    format!("{field}.windows"),
                    format!("unknown window \"{}\"", w.get_ref()),
                );
            }
            w.get_ref().clone()
        })
        .collect();
    Policy {
        requesters,
        stages,
        requester_can_approve: p.requester_can_approve,
        approver_may_count_twice: p.approver_may_count_twice,
        approval_lifetime_secs,
        windows,
        material_fields: material_fields(c, &field, p.material_fields.as_ref(), known),
    }
}

fn window(c: &mut Checker<'_>, i: usize, w: &RawWindow, seen: &mut HashSet<String>) -> Window {
    let field = format!("windows[{i}]");
    let id = c.id(&w.id, &format!("{field}.id"), seen, "window");
    if jiff::tz::TimeZone::get(w.timezone.get_ref()).is_err() {
        c.issue(
            &w.timezone,
            format!("{field}.timezone"),
            format!("unknown time zone \"{}\"", w.timezone.get_ref()),
        );
    }
    let mut days = Vec::new();
    for d in w.days.get_ref() {
        match parse_days(d) {
            Some(range) => days.extend(range),
            None => c.issue(
                &w.days,
                format!("{field}.days"),
                format!("\"{d}\" is not a day (use mon … sun, or a range like \"mon-fri\")"),
            ),
        }
    }
    days.sort_unstable();
    days.dedup();
    if w.days.get_ref().is_empty() {
        c.issue(&w.days, format!("{field}.days"), "name at least one day");
    }
    let start = clock(c, &w.from, &format!("{field}.from"));
    let end = clock(c, &w.to, &format!("{field}.to"));
    if start >= end && end != 0 {
        c.issue(
            &w.to,
            format!("{field}.to"),
            "must be later than `from` (split a window that crosses midnight in two)",
        );
    }
    Window {
        name: w.name.clone().unwrap_or_else(|| capitalise(&id)),
        id,
        timezone: w.timezone.get_ref().clone(),
        days,
        start_minute: start,
        end_minute: if end == 0 { 24 * 60 } else { end },
    }
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn parse_days(text: &str) -> Option<Vec<u8>> {
    let day = |s: &str| {
        let s = s.trim().to_ascii_lowercase();
        DAYS.iter()
            .position(|d| s.starts_with(d))
            .and_then(|p| u8::try_from(p + 1).ok())
    };
    match text.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (day(a)?, day(b)?);
            (a <= b).then(|| (a..=b).collect())
        }
        None => day(text).map(|d| vec![d]),
    }
}

fn clock(c: &mut Checker<'_>, at: &S<String>, field: &str) -> u16 {
    let parsed = at.get_ref().split_once(':').and_then(|(h, m)| {
        let (h, m) = (h.parse::<u16>().ok()?, m.parse::<u16>().ok()?);
        (h < 24 && m < 60 && m.to_string().len() <= 2).then_some(h * 60 + m)
    });
    parsed.unwrap_or_else(|| {
        c.issue(
            at,
            field,
            format!("\"{}\" is not a time of day (write HH:MM)", at.get_ref()),
        );
        0
    })
}

fn freeze(
    c: &mut Checker<'_>,
    i: usize,
    f: &RawFreeze,
    seen: &mut HashSet<String>,
    apps: &HashSet<String>,
    envs: &HashSet<String>,
) -> Freeze {
    let field = format!("freezes[{i}]");
    let id = c.id(&f.id, &format!("{field}.id"), seen, "freeze");
    let mut instant = |at: &S<String>, name: &str| match at.get_ref().parse::<jiff::Timestamp>() {
        Ok(t) => t.as_millisecond(),
        Err(_) => {
            c.issue(
                at,
                format!("{field}.{name}"),
                format!(
                    "\"{}\" is not a date-time with a zone (write e.g. 2026-12-20T00:00:00Z)",
                    at.get_ref()
                ),
            );
            0
        }
    };
    let (start_ms, end_ms) = (instant(&f.from, "from"), instant(&f.to, "to"));
    if end_ms <= start_ms && end_ms != 0 {
        c.issue(&f.to, format!("{field}.to"), "must be later than `from`");
    }
    for a in &f.applications {
        if !apps.contains(a.get_ref()) {
            c.issue(
                a,
                format!("{field}.applications"),
                format!("unknown application \"{}\"", a.get_ref()),
            );
        }
    }
    for e in &f.environments {
        if !envs.contains(e.get_ref()) {
            c.issue(
                e,
                format!("{field}.environments"),
                format!("no application has an environment \"{}\"", e.get_ref()),
            );
        }
    }
    Freeze {
        id,
        reason: c.name(&f.reason, &format!("{field}.reason")),
        start_ms,
        end_ms,
        applications: f.applications.iter().map(|a| a.get_ref().clone()).collect(),
        environments: f.environments.iter().map(|e| e.get_ref().clone()).collect(),
    }
}

fn ticket_rule(
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

fn ci_binding(c: &mut Checker<'_>, field: &str, ci: &RawCi) -> CiBinding {
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
    let provision = ci
        .provision
        .as_ref()
        .map(|j| job(c, &format!("{field}.provision"), j));
    let deploy = job(c, &format!("{field}.deploy"), ci.deploy.get_ref());
    CiBinding {
        connector: kind,
        settings,
        provision,
        deploy,
    }
}

fn secret_rule(c: &mut Checker<'_>, key: &S<String>, value: &S<String>, field: &str) {
    let lower = key.get_ref().to_ascii_lowercase();
    if let Some(stem) = lower.strip_suffix("_env") {
        let valid = value
            .get_ref()
            .starts_with(|ch: char| ch.is_ascii_uppercase() || ch == '_')
            && value
                .get_ref()
                .chars()
                .all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit() || ch == '_');
        if !valid {
            c.issue(
                value,
                field,
                format!(
                    "must name an environment variable holding the {stem} (e.g. BUILDBOT_PASSWORD)"
                ),
            );
        } else if value.get_ref().starts_with("RUNWAY_") {
            c.issue(
                value,
                field,
                "RUNWAY_ names are the portal's own settings (an unknown one stops start-up): choose another name, e.g. BUILDBOT_PASSWORD",
            );
        }
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

fn job(c: &mut Checker<'_>, field: &str, j: &RawJob) -> CiJob {
    if j.job.get_ref().trim().is_empty() {
        c.issue(&j.job, format!("{field}.job"), "must not be empty");
    }
    let mut params = BTreeMap::new();
    for (key, value) in &j.params {
        for var in placeholders(value.get_ref()) {
            if !TEMPLATE_VARIABLES.contains(&var) && !var.starts_with("fields.") {
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

/// "72h", "3 days", "1 day 12h" or ISO 8601 "P3D"; a day counts as 24 hours.
fn parse_duration(text: &str) -> Result<jiff::SignedDuration, jiff::Error> {
    text.parse::<jiff::SignedDuration>().or_else(|_| {
        text.parse::<jiff::Span>()?
            .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
    })
}
