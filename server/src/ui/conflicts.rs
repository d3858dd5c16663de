//! What may stand in a request's way, as its page warns the requester and the approvers: a time
//! that falls outside the windows or into a freeze (with the next allowed time), and other open
//! requests for the same application and environment.

use crate::db::requests::{self as q, RequestRow};
use crate::db::Db;
use crate::domain::request::State;
use crate::domain::schedule::{dispatch_gate, Gate};
use crate::domain::{format_ms, Catalog};
use crate::service::error::Error;

/// The warnings for `row`, read at `now`; none once it no longer waits to deploy.
pub async fn warnings(
    db: &Db,
    catalog: &Catalog,
    row: &RequestRow,
    now: i64,
) -> Result<Vec<String>, Error> {
    if !matches!(
        row.state,
        State::PendingApproval | State::Approved | State::Scheduled
    ) || row.self_deploy
    {
        return Ok(Vec::new());
    }
    let mut warnings = Vec::new();
    let at = row.scheduled_at.filter(|at| *at > now).unwrap_or(now);
    let when = match row.scheduled_at {
        Some(at) if at > now => format!("Its set time, {},", format_ms(at)),
        _ => "Now".to_owned(),
    };
    let (app, env) = (&row.application_id, &row.environment_id);
    match dispatch_gate(catalog, &row.policy, app, env, at) {
        Gate::Open => {}
        Gate::WaitUntil { at_ms, reason } => warnings.push(format!(
            "{when} is {}: the next allowed time is {}.",
            reason.replace("freeze: ", "in the freeze "),
            format_ms(at_ms)
        )),
        Gate::Never { reason } => warnings.push(format!("It can never deploy: {reason}.")),
    }
    for other in q::open_for_target(&db.pool, app, env, row.id).await? {
        let when = other
            .scheduled_at
            .filter(|at| *at > now)
            .map(|at| format!(", scheduled for {}", format_ms(at)))
            .unwrap_or_default();
        warnings.push(format!(
            "Request #{} ({}, {}{when}) also targets this application and environment; \
             one deploys at a time.",
            other.id,
            other.version,
            other.state.as_str().replace('_', " ")
        ));
    }
    Ok(warnings)
}
