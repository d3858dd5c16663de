//! Request forms as plain posts (they work without JavaScript): submit, decide, cancel.
//! Each answers with a redirect; messages and refused input travel in the session's flash.

use super::forms::{failure, field, notice, Fields};
use super::viewer::SignedIn;
use crate::domain::request::RawDraft;
use crate::service::error::Error;
use crate::service::requests::{self, Verdict};
use crate::state::AppState;
use crate::ui::flash::{self, Flash};
use crate::ui::viewer::user_of;
use app::model::Notice;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use std::collections::BTreeMap;
use tower_sessions::Session;

pub async fn submit(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    session: Session,
    Form(form): Form<Fields>,
) -> Response {
    let (app, env) = (
        field(&form, "app").to_owned(),
        field(&form, "env").to_owned(),
    );
    let raw = raw_draft(&form);
    let active = state.catalog.current();
    match requests::submit(&state.db, &active, &user_of(&viewer), &app, &env, &raw).await {
        Ok(id) => {
            back_to_request(
                &session,
                id,
                notice(true, format!("Request #{id} submitted.")),
            )
            .await
        }
        Err(e) => {
            // A refused rollback goes back to the rollback form, which keeps what it rolls back.
            let rollback = (raw.change == "rollback").then_some(raw.rollback_of.as_str());
            let mut query = vec![("app", app.as_str()), ("env", env.as_str())];
            query.extend(rollback.map(|of| ("rollback", of)));
            let query = serde_urlencoded::to_string(query).unwrap_or_default();
            back_to_form(
                &session,
                flash::form_page(&app, &env),
                &format!("/requests/new?{query}"),
                form,
                e,
            )
            .await
        }
    }
}

/// The form's values as a draft, trimmed: what a person types around a value is not part of it.
fn raw_draft(form: &Fields) -> RawDraft {
    let value = |name: &str| field(form, name).trim().to_owned();
    RawDraft {
        version: value("version"),
        artifact: value("artifact"),
        title: value("title"),
        summary: value("summary"),
        risk: value("risk"),
        rollback_plan: value("rollback_plan"),
        scheduled_local: if value("when") == "scheduled" {
            value("scheduled_local")
        } else {
            String::new()
        },
        timezone: value("timezone"),
        change: value("change"),
        justification: value("justification"),
        rollback_of: value("rollback_of"),
        fields: form
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("fields.")
                    .map(|id| (id.to_owned(), v.trim().to_owned()))
            })
            .collect(),
    }
}

/// Back to a refused form, with what was typed and a message under each bad field.
async fn back_to_form(
    session: &Session,
    page: String,
    url: &str,
    form: Fields,
    error: Error,
) -> Response {
    let (errors, notice) = match error {
        Error::Invalid(errors) => (
            errors,
            notice(false, "Please correct the fields marked below."),
        ),
        other => (BTreeMap::new(), failure(other)),
    };
    flash::put(
        session,
        Flash {
            page,
            notice,
            values: form.into_iter().collect(),
            errors,
            outcome: None,
        },
    )
    .await;
    Redirect::to(url).into_response()
}

pub async fn edit(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    session: Session,
    Path(id): Path<i64>,
    Form(form): Form<Fields>,
) -> Response {
    let raw = raw_draft(&form);
    let active = state.catalog.current();
    let outcome = requests::edit(
        &state.db,
        &active,
        &user_of(&viewer),
        id,
        revision(&form),
        &raw,
    )
    .await;
    match outcome {
        Ok(done) => {
            let text = if done.changed.is_empty() {
                "Nothing changed.".to_owned()
            } else if done.voided > 0 {
                format!(
                    "Request #{id} saved. {}, so its {} approval(s) were voided: it needs approval again.",
                    crate::domain::text::capitalise(&requests::voided_reason(&done.material)),
                    done.voided
                )
            } else {
                format!("Request #{id} saved ({} changed).", done.changed.join(", "))
            };
            back_to_request(&session, id, notice(true, text)).await
        }
        // A conflict or a refusal is read on the request's page, where the reason shows.
        Err(e @ (Error::Conflict(_) | Error::Forbidden(_) | Error::NotFound(_))) => {
            back_to_request(&session, id, failure(e)).await
        }
        Err(e) => {
            back_to_form(
                &session,
                flash::edit_page(id),
                &format!("/requests/{id}/edit"),
                form,
                e,
            )
            .await
        }
    }
}

fn revision(form: &Fields) -> i64 {
    field(form, "revision").parse().unwrap_or(-1)
}

pub async fn decide(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    session: Session,
    Path(id): Path<i64>,
    Form(form): Form<Fields>,
) -> Response {
    let catalog = &state.catalog.current().catalog;
    let outcome = match requests::verdict(field(&form, "verdict")) {
        Ok(verdict) => requests::decide(
            &state.db,
            catalog,
            &user_of(&viewer),
            id,
            revision(&form),
            verdict,
            field(&form, "comment"),
        )
        .await
        .map(|done| (verdict, done)),
        Err(e) => Err(e),
    };
    let notice = match outcome {
        Ok((verdict, done)) => notice(
            true,
            match verdict {
                Verdict::Approve => format!(
                    "You approved request #{id}; it is now {}.",
                    done.state.as_str().replace('_', " ")
                ),
                Verdict::Reject => format!("You rejected request #{id}."),
            },
        ),
        Err(e) => failure(e),
    };
    back_to_request(&session, id, notice).await
}

pub async fn cancel(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    session: Session,
    Path(id): Path<i64>,
    Form(form): Form<Fields>,
) -> Response {
    let user = user_of(&viewer);
    let notice = match requests::cancel(
        &state.db,
        &state.catalog.current().catalog,
        &user,
        viewer.roles.ops,
        id,
        revision(&form),
        field(&form, "reason"),
    )
    .await
    {
        Ok(()) => notice(true, format!("Request #{id} cancelled.")),
        Err(e) => failure(e),
    };
    back_to_request(&session, id, notice).await
}

/// Back to the request's page, with the outcome shown once there.
async fn back_to_request(session: &Session, id: i64, notice: Option<Notice>) -> Response {
    let page = flash::request_page(id);
    flash::put(
        session,
        Flash {
            page,
            notice,
            ..Flash::default()
        },
    )
    .await;
    Redirect::to(&format!("/requests/{id}")).into_response()
}

/// Operations retry the failed CI step of a request (of one target, in a fan-out).
pub async fn retry(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    session: Session,
    Path(id): Path<i64>,
    Form(form): Form<Fields>,
) -> Response {
    let user = user_of(&viewer);
    let is_ops = viewer.roles.ops || viewer.roles.admin;
    let target = Some(field(&form, "target"));
    let at = (id, revision(&form));
    let outcome = crate::service::deployments::retry(&state, &user, is_ops, at, target).await;
    control_outcome(&session, id, outcome).await
}

/// Operations cancel a deployment in progress, and its CI run.
pub async fn stop(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    session: Session,
    Path(id): Path<i64>,
    Form(form): Form<Fields>,
) -> Response {
    let user = user_of(&viewer);
    let is_ops = viewer.roles.ops || viewer.roles.admin;
    let outcome = crate::service::deployments::cancel_run(
        &state,
        &user,
        is_ops,
        id,
        revision(&form),
        field(&form, "reason"),
    )
    .await;
    control_outcome(&session, id, outcome).await
}

async fn control_outcome(session: &Session, id: i64, outcome: Result<String, Error>) -> Response {
    let notice = match outcome {
        Ok(text) => notice(true, text),
        Err(e) => failure(e),
    };
    back_to_request(session, id, notice).await
}
