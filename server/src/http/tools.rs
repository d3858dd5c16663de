//! The tools' form posts: API tokens, the gate's dry run, the catalog's re-apply, tickets. Like
//! a request's, each answers with a redirect to its page, where the outcome shows once.

use super::forms::{back, field, ticked, Done, Fields};
use super::viewer::SignedIn;
use crate::state::AppState;
use crate::ui::flash;
use crate::ui::tools::{self, DryRunForm, TokenForm};
use axum::extract::{Path, State};
use axum::response::Response;
use axum::Form;
use tower_sessions::Session;

const TOKENS: &str = "/admin/tokens";

pub async fn create_token(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    session: Session,
    Form(form): Form<Fields>,
) -> Response {
    let token = TokenForm {
        name: field(&form, "name").to_owned(),
        gate_read: ticked(&form, "gate_read"),
        audit_read: ticked(&form, "audit_read"),
        metrics_read: ticked(&form, "metrics_read"),
        requests_write: ticked(&form, "requests_write"),
        events_write: ticked(&form, "events_write"),
        requests_on_behalf: ticked(&form, "requests_on_behalf"),
        applications: field(&form, "applications").to_owned(),
        acts_as: field(&form, "acts_as").to_owned(),
    };
    let outcome = tools::create_token(&state, &viewer, token)
        .await
        .map(|made| Done {
            text: format!("Token \"{}\" made.", made.name),
            outcome: Some(made),
            refill: false,
        });
    back(&session, flash::TOKENS_PAGE, TOKENS, form, outcome).await
}

pub async fn revoke_token(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    session: Session,
    Path(id): Path<i64>,
) -> Response {
    let outcome = tools::revoke_token(&state, &viewer, id)
        .await
        .map(|()| Done::<()>::said(format!("Token {id} revoked.")));
    back(&session, flash::TOKENS_PAGE, TOKENS, Vec::new(), outcome).await
}

pub async fn dry_run(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    session: Session,
    Form(form): Form<Fields>,
) -> Response {
    let ask = DryRunForm {
        application: field(&form, "application").to_owned(),
        environment: field(&form, "environment").to_owned(),
        version: field(&form, "version").to_owned(),
        artifact: field(&form, "artifact").to_owned(),
        actor: field(&form, "actor").to_owned(),
        at: field(&form, "at").to_owned(),
    };
    let outcome = tools::dry_run(&state, &viewer, ask).await.map(|line| Done {
        text: format!("The gate answers {}.", line.decision),
        outcome: Some(line),
        refill: true,
    });
    back(&session, flash::GATE_PAGE, "/gate", form, outcome).await
}

pub async fn reload_catalog(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    session: Session,
) -> Response {
    let outcome = tools::reload_catalog(&state, &viewer)
        .await
        .map(|reloaded| Done {
            text: String::new(),
            outcome: Some(reloaded),
            refill: false,
        });
    back(
        &session,
        flash::CATALOG_PAGE,
        "/catalog",
        Vec::new(),
        outcome,
    )
    .await
}

pub async fn work_ticket(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    session: Session,
    Path(id): Path<i64>,
    Form(form): Form<Fields>,
) -> Response {
    let action = field(&form, "action");
    let outcome = tools::work_ticket(&state, &viewer, id, action, field(&form, "comment"))
        .await
        .map(|to| {
            Done::<()>::said(if action == "comment" {
                "Comment added.".to_owned()
            } else {
                format!("The ticket is {to}.")
            })
        });
    let page = flash::ticket_page(id);
    back(&session, &page, &format!("/tickets/{id}"), form, outcome).await
}
