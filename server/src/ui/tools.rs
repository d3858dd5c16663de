//! The tools' changes, as their form posts make them: a token made or revoked, a dry run of the
//! gate, the catalog file applied again, a ticket worked. Each gives what its page shows once.

use super::viewer::{reads, user_of};
use super::{gate_views, request_page, views};
use crate::catalog::store::{Applied, ApplyError};
use crate::service::error::Error;
use crate::service::{gate, tickets, tokens};
use crate::state::AppState;
use app::model::{GateLine, NewToken, ReloadOutcome, Viewer};

/// The token form as the browser sends it (an unticked box is absent).
#[derive(Debug, Default)]
pub struct TokenForm {
    pub name: String,
    pub gate_read: bool,
    pub requests_write: bool,
    pub events_write: bool,
    pub requests_on_behalf: bool,
    pub audit_read: bool,
    pub metrics_read: bool,
    /// Application ids separated by spaces or commas, or `*`.
    pub applications: String,
    pub acts_as: String,
}

pub async fn create_token(
    state: &AppState,
    viewer: &Viewer,
    form: TokenForm,
) -> Result<NewToken, Error> {
    let active = state.catalog.current();
    let scopes = [
        (form.gate_read, "gate:read"),
        (form.requests_write, "requests:write"),
        (form.events_write, "events:write"),
        (form.requests_on_behalf, "requests:on-behalf"),
        (form.audit_read, "audit:read"),
        (form.metrics_read, "metrics:read"),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .map(|(_, s)| s.to_owned())
    .collect();
    let applications = form
        .applications
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let created = tokens::create_token(
        &state.db,
        &active.catalog,
        &user_of(viewer),
        &tokens::TokenForm {
            name: form.name.clone(),
            scopes,
            applications,
            acts_as: form.acts_as,
        },
    )
    .await?;
    Ok(NewToken {
        name: form.name.trim().to_owned(),
        secret: created.secret,
    })
}

pub async fn revoke_token(state: &AppState, viewer: &Viewer, id: i64) -> Result<(), Error> {
    tokens::revoke_token(&state.db, &state.gate, &user_of(viewer), id).await
}

/// The gate's dry-run form.
#[derive(Debug, Default)]
pub struct DryRunForm {
    pub application: String,
    pub environment: String,
    pub version: String,
    pub artifact: String,
    pub actor: String,
    /// `YYYY-MM-DDTHH:MM` in UTC; empty means now.
    pub at: String,
}

/// Asks the gate about a hypothetical deployment; the answer is recorded as a dry run.
pub async fn dry_run(
    state: &AppState,
    viewer: &Viewer,
    form: DryRunForm,
) -> Result<GateLine, Error> {
    let active = state.catalog.current();
    let user = user_of(viewer);
    let app = form.application.trim();
    if active.catalog.application(app).is_some() && !reads(&active.catalog, viewer, app) {
        return Err(request_page::unreadable(&active.catalog, app));
    }
    let at = form.at.trim();
    // A person's form is trimmed here; the gate takes values as a pipeline sends them.
    let input = gate::GateInput {
        application: app.to_owned(),
        environment: form.environment.trim().to_owned(),
        version: form.version.trim().to_owned(),
        artifact: Some(form.artifact.trim().to_owned()),
        actor: Some(form.actor.trim().to_owned()),
        pipeline_url: None,
        // The form gives a UTC minute; the API takes RFC 3339.
        at: Some(if at.is_empty() {
            jiff::Timestamp::now().to_string()
        } else if at.len() == 16 {
            format!("{at}:00Z")
        } else {
            at.to_owned()
        }),
    };
    let asker = gate::Asker::User(&user);
    let answer = gate::gate(&state.db, &state.gate, &active, asker, &input).await?;
    Ok(gate_views::answered(
        &active.catalog,
        &input,
        &user.display_name,
        &answer,
    ))
}

/// Admins only: applies the catalog file again; a bad file leaves the running version in force.
pub async fn reload_catalog(state: &AppState, viewer: &Viewer) -> Result<ReloadOutcome, Error> {
    if !viewer.roles.admin {
        return Err(Error::Forbidden(
            "Only administrators may re-apply the catalog.".into(),
        ));
    }
    tracing::info!(by = %viewer.username, "catalog re-apply requested");
    match state.catalog.apply_file(&state.db).await {
        Ok(Applied::New(v)) => Ok(ReloadOutcome::Applied(views::version(&v))),
        Ok(Applied::Unchanged(v)) => Ok(ReloadOutcome::Unchanged(views::version(&v))),
        Err(ApplyError::Invalid(e)) => Ok(ReloadOutcome::Rejected(e.to_string())),
        Err(ApplyError::NoFile) => Ok(ReloadOutcome::Rejected(ApplyError::NoFile.to_string())),
        Err(e @ ApplyError::Storage(_)) => Err(Error::Internal(Box::new(e))),
    }
}

/// Acknowledges, resolves, reopens or comments a ticket the viewer may read; its new state.
pub async fn work_ticket(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    action: &str,
    comment: &str,
) -> Result<String, Error> {
    let active = state.catalog.current();
    let user = user_of(viewer);
    let of_request = crate::db::tickets::get(&state.db.pool, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("There is no ticket {id}.")))?
        .request_id;
    request_page::readable(state, viewer, of_request).await?;
    let action = tickets::Move::parse(action).ok_or_else(|| {
        Error::invalid(
            "action",
            format!("{action} is not acknowledge, resolve, reopen or comment."),
        )
    })?;
    tickets::work(&state.db, &active.catalog, &user, id, action, comment).await
}
