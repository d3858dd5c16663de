//! Who may open a request, and under which policy it is kept.

use super::error::{Error, Result};
use crate::db::users::User;
use crate::domain::change::Change;
use crate::domain::policy::describe_teams;
use crate::domain::{Application, Catalog, Environment, Policy};

/// "team Web may not request releases of Banking to production; Fintech may."
pub fn not_allowed(catalog: &Catalog, user: &User, app: &Application, env: &Environment) -> Error {
    let who = if user.teams.is_empty() {
        "you belong to no team, and nobody".to_owned()
    } else {
        let plural = if user.teams.len() == 1 {
            "team"
        } else {
            "teams"
        };
        format!("{plural} {}", describe_teams(catalog, &user.teams, "and"))
    };
    Error::Forbidden(format!(
        "{who} may not request releases of {} to {}; {} may.",
        app.name,
        env.name.to_lowercase(),
        describe_teams(catalog, &env.policy.requesters, "or")
    ))
}

/// The policy a new request keeps: its environment's, or the emergency path's for an emergency
/// change, which `user` must be allowed to raise.
pub(super) fn policy_for(
    catalog: &Catalog,
    user: &User,
    app: &Application,
    env: &Environment,
    change: &Change,
) -> Result<Policy> {
    let policy = match change {
        // A standard change is found after this, among normal requests.
        Change::Normal | Change::Standard { .. } if env.policy.may_request(&user.teams) => {
            return Ok(env.policy.clone())
        }
        Change::Normal | Change::Standard { .. } => {
            return Err(not_allowed(catalog, user, app, env))
        }
        Change::Emergency { .. } => env.policy.for_emergency().ok_or_else(|| {
            Error::invalid(
                "change",
                format!("{} {} has no emergency path.", app.name, env.name),
            )
        })?,
        Change::Rollback { .. } => env.policy.for_rollback(),
    };
    if !policy.may_request(&user.teams) {
        let what = if change.is_emergency() {
            "raise emergency changes of"
        } else {
            "roll back"
        };
        return Err(Error::Forbidden(format!(
            "You may not {what} {} to {}; {} may.",
            app.name,
            env.name.to_lowercase(),
            describe_teams(catalog, &policy.requesters, "or")
        )));
    }
    Ok(policy)
}
