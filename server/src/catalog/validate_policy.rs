//! A policy's part of the catalog: who requests, the approval stages, how long approvals last,
//! the windows, what voids approvals, and who is reminded while a request waits.

use super::raw::*;
use super::validate::Checker;
use super::windows::parse_duration;
use crate::domain::*;
use std::collections::{HashMap, HashSet};

/// The ids a policy may name.
pub(super) struct Known<'a> {
    pub teams: &'a HashSet<String>,
    pub windows: &'a HashSet<String>,
    /// The application's own form fields, with their kinds as written.
    pub fields: &'a HashMap<String, String>,
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
                .is_some_and(|id| known.fields.contains_key(id));
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

pub(super) fn policy(c: &mut Checker<'_>, field: &str, p: &RawPolicy, known: &Known<'_>) -> Policy {
    let windows = known.windows;
    let field = format!("{field}.policy");
    let requesters = requesters(c, &field, &p.requesters, known.teams);
    let stages = stages(c, &field, &p.stages, known.teams);
    let emergency = p
        .emergency
        .as_ref()
        .map(|e| emergency(c, &format!("{field}.emergency"), e, known.teams));
    let rollback = p
        .rollback
        .as_ref()
        .map(|r| rollback(c, &format!("{field}.rollback"), r, known.teams));
    let standard = p
        .standard
        .iter()
        .enumerate()
        .map(|(i, r)| {
            super::validate_standard::rule(c, &format!("{field}.standard[{i}]"), r, known)
        })
        .collect();
    let approval_lifetime_secs =
        duration(c, &field, "approval_lifetime", p.approval_lifetime.as_ref());
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
        chasing: chasing(c, &field, p, known),
        delegation: p.delegation.unwrap_or(true),
        emergency,
        rollback,
        standard,
        no_edit: None,
        ignores_freezes: false,
        review_within_secs: None,
    }
}

/// The teams that may request: at least one, each known.
fn requesters(
    c: &mut Checker<'_>,
    field: &str,
    listed: &S<Vec<S<String>>>,
    teams: &HashSet<String>,
) -> Vec<String> {
    if listed.get_ref().is_empty() {
        c.issue(
            listed,
            format!("{field}.requesters"),
            "name at least one team that may request",
        );
    }
    listed
        .get_ref()
        .iter()
        .map(|t| c.team_ref(t, &format!("{field}.requesters"), teams))
        .collect()
}

/// Approval stages: each with at least one rule of 1 to 100 members of a known team.
fn stages(
    c: &mut Checker<'_>,
    field: &str,
    raw: &[RawStage],
    teams: &HashSet<String>,
) -> Vec<Stage> {
    raw.iter()
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
        .collect()
}

/// The break-glass path: who raises it, its reduced approval, and a review limit it must name.
fn emergency(
    c: &mut Checker<'_>,
    field: &str,
    e: &RawEmergency,
    teams: &HashSet<String>,
) -> EmergencyPath {
    let requesters = requesters(c, field, &e.requesters, teams);
    let stages = stages(c, field, &e.stages, teams);
    let review_within_secs = duration(c, field, "review_within", Some(&e.review_within));
    EmergencyPath {
        requesters,
        stages,
        bypass_windows: e.bypass_windows,
        review_within_secs: review_within_secs.unwrap_or(0),
    }
}

/// The rollback path: its own requesters when it names them, its approval and schedule.
fn rollback(
    c: &mut Checker<'_>,
    field: &str,
    r: &RawRollback,
    teams: &HashSet<String>,
) -> RollbackPath {
    RollbackPath {
        requesters: r
            .requesters
            .as_ref()
            .map(|listed| requesters(c, field, listed, teams)),
        stages: stages(c, field, &r.stages, teams),
        bypass_windows: r.bypass_windows,
    }
}

/// Reminders and escalation: durations of at least a minute, a known team to escalate to, and
/// windows to count in when only their hours count.
fn chasing(c: &mut Checker<'_>, field: &str, p: &RawPolicy, known: &Known<'_>) -> Chasing {
    let remind_after_secs = duration(c, field, "remind_after", p.remind_after.as_ref());
    let escalate_after_secs = duration(c, field, "escalate_after", p.escalate_after.as_ref());
    let escalate_to = p
        .escalate_to
        .as_ref()
        .map(|t| c.team_ref(t, &format!("{field}.escalate_to"), known.teams));
    match (&p.escalate_after, &p.escalate_to) {
        (Some(after), None) => c.issue(
            after,
            format!("{field}.escalate_to"),
            "name the team to escalate to (escalate_to) with escalate_after",
        ),
        (None, Some(to)) => c.issue(
            to,
            format!("{field}.escalate_after"),
            "say after how long to escalate (escalate_after, e.g. \"1 day\")",
        ),
        _ => {}
    }
    if let Some(flag) = p.remind_in_windows.as_ref().filter(|f| *f.get_ref()) {
        if p.windows.is_empty() {
            c.issue(
                flag,
                format!("{field}.remind_in_windows"),
                "counts only the hours of the policy's windows, and it names none",
            );
        }
    }
    Chasing {
        remind_after_secs,
        escalate_after_secs,
        escalate_to,
        in_windows: p.remind_in_windows.as_ref().is_some_and(|f| *f.get_ref()),
    }
}

/// A duration of at least a minute, in seconds, from `raw` (the policy's `name`).
fn duration(c: &mut Checker<'_>, field: &str, name: &str, raw: Option<&S<String>>) -> Option<i64> {
    let raw = raw?;
    let field = format!("{field}.{name}");
    match parse_duration(raw.get_ref()) {
        Ok(d) if d.as_secs() >= 60 => Some(d.as_secs()),
        Ok(_) => {
            c.issue(raw, field, "must be at least one minute");
            None
        }
        Err(_) => {
            c.issue(
                raw,
                field,
                format!(
                    "\"{}\" is not a duration (write e.g. \"72h\" or \"3 days\")",
                    raw.get_ref()
                ),
            );
            None
        }
    }
}
