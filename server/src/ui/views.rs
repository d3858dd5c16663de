//! Builds what pages show from the catalog in force.

use crate::db::catalog_versions::CatalogVersion;
use crate::db::users::User;
use crate::domain::policy::{
    describe_chasing, describe_emergency, describe_environment, describe_lifetime,
    describe_rollback, describe_teams,
};
use crate::domain::recurrence::DAY_NAMES;
use crate::domain::{Application, Catalog, Environment, Freeze, FreezePeriod, Recurring};
use app::model::*;

pub fn viewer(user: &User, catalog: &Catalog) -> Viewer {
    let teams = &user.teams;
    let policies = || {
        catalog
            .applications
            .iter()
            .flat_map(|a| a.environments.iter().map(|e| &e.policy))
    };
    Viewer {
        id: user.id,
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        teams: teams
            .iter()
            .map(|t| TeamRef {
                id: t.clone(),
                name: catalog.team_name(t).to_owned(),
            })
            .collect(),
        time_zone: String::new(),
        roles: Roles {
            requester: policies().any(|p| p.may_open(teams)),
            // A delegate approves in an away approver's place.
            approver: user.stands_in
                || policies().any(|p| p.approver_teams().any(|t| teams.iter().any(|m| m == t))),
            ops: teams.iter().any(|t| catalog.is_ops_team(t)),
            admin: user.is_admin,
        },
    }
}

pub fn version(v: &CatalogVersion) -> CatalogVersionView {
    CatalogVersionView {
        id: v.id,
        checksum: v.checksum.clone(),
        origin: v.origin.clone(),
        applied_at: format_ms(v.applied_at),
    }
}

pub use crate::domain::format_ms;

fn environment(catalog: &Catalog, app: &Application, env: &Environment) -> EnvSummary {
    let p = &env.policy;
    let mut constraints = Vec::new();
    for id in &p.windows {
        if let Some(w) = catalog.windows.iter().find(|w| &w.id == id) {
            constraints.push(format!(
                "Only during {}: {}",
                w.name,
                recurring_text(&w.when)
            ));
        }
    }
    constraints.extend(describe_lifetime(p.approval_lifetime_secs).map(|s| capitalise(&s)));
    constraints.extend(describe_chasing(catalog, p).map(|s| capitalise(&s)));
    constraints.extend(describe_emergency(catalog, p));
    if p.rollback.is_some() {
        constraints.push(describe_rollback(catalog, p));
    }
    if !p.delegation && !p.stages.is_empty() {
        constraints.push("No delegate decides in an away approver's place".to_owned());
    }
    if p.approver_may_count_twice && !p.stages.is_empty() {
        constraints.push("One person may count for several rules".to_owned());
    }
    for f in &catalog.freezes {
        if f.applies(&app.id, &env.id) {
            constraints.push(format!("Frozen {}: {}", freeze_text(f), f.reason));
        }
    }
    EnvSummary {
        id: env.id.clone(),
        name: env.name.clone(),
        policy: describe_environment(catalog, env),
        constraints,
        requesters: describe_teams(catalog, &p.requesters, "or"),
        ci: env.ci.as_ref().map(|ci| ci.connector.as_str().to_owned()),
    }
}

use crate::domain::text::capitalise;

/// "Mon–Thu 09:00–17:00 Europe/Paris", "last business day, all day Europe/Paris".
pub fn recurring_text(r: &Recurring) -> String {
    let name = |d: u8| {
        DAY_NAMES
            .get(usize::from(d).saturating_sub(1))
            .copied()
            .unwrap_or("?")
    };
    let contiguous = r.days.windows(2).all(|p| p[1] == p[0] + 1);
    let mut days: Vec<String> = match (r.days.first(), r.days.last()) {
        (Some(a), Some(b)) if contiguous && a != b => vec![format!("{}–{}", name(*a), name(*b))],
        _ => r.days.iter().map(|d| name(*d).to_owned()).collect(),
    };
    days.extend(r.month_days.iter().map(ToString::to_string));
    let clock = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
    let hours = if r.start_minute == 0 && r.end_minute == 24 * 60 {
        "all day".to_owned()
    } else {
        format!("{}–{}", clock(r.start_minute), clock(r.end_minute))
    };
    format!("{} {hours} {}", days.join(", "), r.timezone)
}

/// "from 2026-12-21 00:00 UTC to 2027-01-04 00:00 UTC", "every last business day, all day …".
pub fn freeze_text(f: &Freeze) -> String {
    match &f.period {
        FreezePeriod::Once { start_ms, end_ms } => {
            format!("from {} to {}", format_ms(*start_ms), format_ms(*end_ms))
        }
        FreezePeriod::Recurring(r) => format!("every {}", recurring_text(r)),
    }
}

/// An application with only the environments `keep` accepts, or `None` when none remain.
pub fn application(
    catalog: &Catalog,
    app: &Application,
    keep: impl Fn(&Environment) -> bool,
) -> Option<AppSummary> {
    let environments: Vec<EnvSummary> = app
        .environments
        .iter()
        .filter(|e| keep(e))
        .map(|e| environment(catalog, app, e))
        .collect();
    (!environments.is_empty()).then(|| AppSummary {
        id: app.id.clone(),
        name: app.name.clone(),
        description: app.description.clone(),
        owner: catalog.team_name(&app.owner).to_owned(),
        environments,
    })
}

pub fn home(catalog: &Catalog, teams: &[String]) -> HomeView {
    HomeView {
        mine: Vec::new(),
        catalog_empty: catalog.applications.is_empty(),
        applications: catalog
            .applications
            .iter()
            .filter_map(|a| application(catalog, a, |e| e.policy.may_open(teams)))
            .collect(),
    }
}

pub fn catalog_view(
    catalog: &Catalog,
    version: Option<&CatalogVersion>,
    members: &[(String, i64, String)],
    history: &[CatalogVersion],
    is_admin: bool,
) -> CatalogView {
    CatalogView {
        version: version.map(self::version),
        teams: catalog
            .teams
            .iter()
            .map(|t| TeamView {
                id: t.id.clone(),
                name: t.name.clone(),
                description: t.description.clone(),
                ops: t.ops,
                members: members
                    .iter()
                    .filter(|(team, _, _)| team == &t.id)
                    .map(|(_, _, n)| n.clone())
                    .collect(),
            })
            .collect(),
        applications: catalog
            .applications
            .iter()
            .filter_map(|a| application(catalog, a, |_| true))
            .collect(),
        windows: catalog
            .windows
            .iter()
            .map(|w| format!("{}: {}", w.name, recurring_text(&w.when)))
            .collect(),
        freezes: catalog
            .freezes
            .iter()
            .map(|f| capitalise(&format!("{}: {}", freeze_text(f), f.reason)))
            .collect(),
        history: if is_admin {
            history.iter().map(self::version).collect()
        } else {
            Vec::new()
        },
        can_reload: is_admin,
        reload: None,
    }
}
