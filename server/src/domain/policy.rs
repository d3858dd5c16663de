//! Policies in plain words, as the home and catalog pages show them.

use super::{Catalog, Environment, Policy};

/// "1 of Banking owners, then 2 of CAB; you cannot approve your own request".
pub fn describe(catalog: &Catalog, policy: &Policy) -> String {
    let mut text = describe_stages(catalog, policy);
    if !policy.stages.is_empty() && !policy.requester_can_approve {
        text.push_str("; you cannot approve your own request");
    }
    text
}

/// "Production: 1 of Banking owners, then 2 of CAB; you cannot approve your own request".
pub fn describe_environment(catalog: &Catalog, env: &Environment) -> String {
    format!("{}: {}", env.name, describe(catalog, &env.policy))
}

fn describe_stages(catalog: &Catalog, policy: &Policy) -> String {
    if policy.stages.is_empty() {
        return "no approval needed".to_owned();
    }
    policy
        .stages
        .iter()
        .map(|stage| {
            stage
                .rules
                .iter()
                .map(|r| format!("{} of {}", r.count, catalog.team_name(&r.team)))
                .collect::<Vec<_>>()
                .join(" and ")
        })
        .collect::<Vec<_>>()
        .join(", then ")
}

/// "Fintech" or "Fintech and Payments" or "Fintech, Payments or Web".
pub fn describe_teams(catalog: &Catalog, teams: &[String], last: &str) -> String {
    let names: Vec<&str> = teams.iter().map(|t| catalog.team_name(t)).collect();
    match names.split_last() {
        None => "nobody".to_owned(),
        Some((only, [])) => (*only).to_owned(),
        Some((tail, head)) => format!("{} {last} {tail}", head.join(", ")),
    }
}

/// Approval lifetime in words: "approvals last 3 days".
pub fn describe_lifetime(secs: Option<i64>) -> Option<String> {
    Some(format!("approvals last {}", duration_words(secs?)))
}

/// Reminders and escalation in words: "approvers reminded every 4 hours of Business hours;
/// escalated to CAB after 1 day".
pub fn describe_chasing(catalog: &Catalog, policy: &Policy) -> Option<String> {
    let c = &policy.chasing;
    let counted = if c.in_windows {
        let names: Vec<&str> = catalog
            .windows
            .iter()
            .filter(|w| policy.windows.contains(&w.id))
            .map(|w| w.name.as_str())
            .collect();
        format!(" of {}", names.join(" or "))
    } else {
        String::new()
    };
    let parts: Vec<String> = [
        c.remind_after_secs
            .map(|s| format!("approvers reminded every {}{counted}", duration_words(s))),
        c.escalate_after_secs
            .zip(c.escalate_to.as_ref())
            .map(|(s, team)| {
                format!(
                    "escalated to {} after {}{counted}",
                    catalog.team_name(team),
                    duration_words(s)
                )
            }),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// The emergency path in words: "Emergency changes: Operations or Fintech may raise one; 1 of
/// Banking owners; deploys outside the windows and through freezes; reviewed within 2 days".
pub fn describe_emergency(catalog: &Catalog, policy: &Policy) -> Option<String> {
    let e = policy.emergency.as_ref()?;
    let approval = Policy {
        stages: e.stages.clone(),
        ..policy.clone()
    };
    let bypass = bypass_words(e.bypass_windows);
    Some(format!(
        "Emergency changes: {} may raise one; {}{bypass}; reviewed within {}",
        describe_teams(catalog, &e.requesters, "or"),
        describe_stages(catalog, &approval),
        duration_words(e.review_within_secs)
    ))
}

fn bypass_words(bypass: bool) -> &'static str {
    if bypass {
        "; deploys outside the windows and through freezes"
    } else {
        ""
    }
}

/// The rollback path in words: "Rollbacks: 1 of Banking owners; deploys outside the windows and
/// through freezes", or the environment's own approval when it has no such path.
pub fn describe_rollback(catalog: &Catalog, policy: &Policy) -> String {
    let rollback = policy.for_rollback();
    let bypass = bypass_words(rollback.ignores_freezes);
    let who = match policy.rollback.as_ref().and_then(|r| r.requesters.as_ref()) {
        Some(teams) => format!("{} may roll back; ", describe_teams(catalog, teams, "or")),
        None => String::new(),
    };
    format!(
        "Rollbacks: {who}{}{bypass}",
        describe_stages(catalog, &rollback)
    )
}

/// A standard-change rule in words: "Low-risk patch: risk low; a patch release of the version
/// deployed here; customer_impact “none”; the CI's test stage succeeded; coverage at least 80".
pub fn describe_standard(rule: &super::standard::StandardRule) -> String {
    let mut parts = Vec::new();
    if !rule.risks.is_empty() {
        let risks: Vec<&str> = rule.risks.iter().map(|r| r.as_str()).collect();
        parts.push(format!("risk {}", risks.join(" or ")));
    }
    if rule.version.is_some() {
        parts.push("a patch release of the version deployed here".to_owned());
    }
    for (field, value) in &rule.fields {
        parts.push(match value {
            serde_json::Value::Bool(true) => format!("{field} ticked"),
            serde_json::Value::Bool(false) => format!("{field} not ticked"),
            serde_json::Value::String(s) => format!("{field} “{s}”"),
            other => format!("{field} {other}"),
        });
    }
    for stage in &rule.stages {
        parts.push(format!("the CI's {stage} stage succeeded for this version"));
    }
    for (metric, min) in &rule.metrics {
        parts.push(format!("{metric} at least {min}"));
    }
    format!("{}: {}", rule.name, parts.join("; "))
}

/// "3 days", "1 hour", "5 minutes": the largest whole unit.
fn duration_words(secs: i64) -> String {
    let (n, unit) = if secs % 86_400 == 0 {
        (secs / 86_400, "day")
    } else if secs % 3_600 == 0 {
        (secs / 3_600, "hour")
    } else {
        ((secs + 59) / 60, "minute")
    };
    let plural = if n == 1 { "" } else { "s" };
    format!("{n} {unit}{plural}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Rule, Stage, Team};

    fn team(id: &str, name: &str) -> Team {
        Team {
            id: id.into(),
            name: name.into(),
            description: String::new(),
            ops: false,
            chat_webhook_env: None,
            idp_groups: Vec::new(),
        }
    }

    fn policy(stages: Vec<Stage>, requester_can_approve: bool) -> Policy {
        Policy {
            requesters: vec!["fintech".into()],
            stages,
            requester_can_approve,
            approver_may_count_twice: false,
            approval_lifetime_secs: None,
            windows: vec![],
            material_fields: None,
            chasing: Default::default(),
            delegation: true,
            ..crate::domain::fixtures::policy(&[])
        }
    }

    fn catalog() -> Catalog {
        Catalog {
            teams: vec![team("owners", "Banking owners"), team("cab", "CAB")],
            ..Catalog::default()
        }
    }

    fn stage(rules: &[(u32, &str)]) -> Stage {
        Stage {
            name: "s".into(),
            rules: rules
                .iter()
                .map(|(count, team)| Rule {
                    team: (*team).into(),
                    count: *count,
                })
                .collect(),
        }
    }

    #[test]
    fn two_stages_read_in_order_with_separation_of_duties() {
        let p = policy(vec![stage(&[(1, "owners")]), stage(&[(2, "cab")])], false);
        assert_eq!(
            describe(&catalog(), &p),
            "1 of Banking owners, then 2 of CAB; you cannot approve your own request"
        );
    }

    #[test]
    fn rules_of_one_stage_are_joined_with_and() {
        let p = policy(vec![stage(&[(1, "owners"), (1, "cab")])], true);
        assert_eq!(describe(&catalog(), &p), "1 of Banking owners and 1 of CAB");
    }

    #[test]
    fn a_policy_without_stages_needs_no_approval() {
        let p = policy(vec![], false);
        assert_eq!(describe(&catalog(), &p), "no approval needed");
    }

    #[test]
    fn team_lists_read_naturally() {
        let c = catalog();
        assert_eq!(describe_teams(&c, &[], "or"), "nobody");
        assert_eq!(describe_teams(&c, &["cab".into()], "or"), "CAB");
        assert_eq!(
            describe_teams(&c, &["cab".into(), "owners".into(), "x".into()], "or"),
            "CAB, Banking owners or x"
        );
    }

    #[test]
    fn lifetimes_use_the_largest_whole_unit() {
        assert_eq!(
            describe_lifetime(Some(3 * 86_400)).as_deref(),
            Some("approvals last 3 days")
        );
        assert_eq!(
            describe_lifetime(Some(3_600)).as_deref(),
            Some("approvals last 1 hour")
        );
        assert_eq!(describe_lifetime(None), None);
    }

    #[test]
    fn reminders_and_escalation_read_in_words() {
        let mut p = policy(vec![stage(&[(1, "cab")])], false);
        assert_eq!(describe_chasing(&catalog(), &p), None);
        p.chasing.remind_after_secs = Some(4 * 3_600);
        p.chasing.escalate_after_secs = Some(86_400);
        p.chasing.escalate_to = Some("owners".into());
        assert_eq!(
            describe_chasing(&catalog(), &p).as_deref(),
            Some("approvers reminded every 4 hours; escalated to Banking owners after 1 day")
        );
    }

    #[test]
    fn a_rollback_and_an_emergency_keep_their_paths_approval_and_schedule() {
        let mut p = policy(vec![stage(&[(1, "owners")]), stage(&[(2, "cab")])], false);
        p.windows = vec!["business-hours".into()];
        // Without a path, a rollback follows the policy itself.
        assert_eq!(p.for_rollback().stages, p.stages);
        assert_eq!(
            describe_rollback(&catalog(), &p),
            "Rollbacks: 1 of Banking owners, then 2 of CAB"
        );
        p.rollback = Some(crate::domain::RollbackPath {
            requesters: None,
            stages: vec![stage(&[(1, "owners")])],
            bypass_windows: true,
        });
        let r = p.for_rollback();
        assert_eq!(
            (r.stages.len(), r.windows.len(), r.ignores_freezes),
            (1, 0, true)
        );
        assert_eq!(r.requesters, p.requesters);
        assert!(r.rollback.is_none() && r.emergency.is_none());
        assert_eq!(
            describe_rollback(&catalog(), &p),
            "Rollbacks: 1 of Banking owners; deploys outside the windows and through freezes"
        );
        assert!(p.for_emergency().is_none(), "no emergency path");
        p.emergency = Some(crate::domain::EmergencyPath {
            requesters: vec!["ops".into()],
            stages: Vec::new(),
            bypass_windows: false,
            review_within_secs: 86_400,
        });
        let e = p.for_emergency().expect("a path");
        assert_eq!(e.windows, p.windows, "it does not bypass the windows");
        assert_eq!((e.stages.len(), e.review_within_secs), (0, Some(86_400)));
        assert!(!e.ignores_freezes);
    }
}
