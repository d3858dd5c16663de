//! The account administration page's form posts. Like every form, each answers with a redirect
//! to the page, where the outcome (a reset password among them) shows once.

use super::forms::{back, field, ticked, Done, Fields};
use super::viewer::SignedIn;
use crate::service::accounts::NewAccount;
use crate::service::error::Error;
use crate::state::AppState;
use crate::ui::accounts::{self, Change};
use crate::ui::flash;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::Form;
use tower_sessions::Session;

const PAGE: &str = "/admin/users";

/// The teams ticked in a form (`teams` comes once per box).
fn teams(form: &Fields) -> Vec<String> {
    form.iter()
        .filter(|(k, _)| k == "teams")
        .map(|(_, v)| v.clone())
        .collect()
}

pub async fn create(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    session: Session,
    Form(mut form): Form<Fields>,
) -> Response {
    let account = NewAccount {
        username: field(&form, "username").to_owned(),
        display_name: field(&form, "display_name").to_owned(),
        email: field(&form, "email").to_owned(),
        teams: teams(&form),
        admin: ticked(&form, "admin"),
        password: None,
    };
    // Kept one per team, so that a refused form comes back with the same boxes ticked.
    let ticked_teams: Vec<(String, String)> = account
        .teams
        .iter()
        .map(|t| (format!("team:{t}"), "on".to_owned()))
        .collect();
    form.extend(ticked_teams);
    let outcome = accounts::create(&state, &viewer, account)
        .await
        .map(|made| Done {
            text: format!("{} can sign in now.", made.username),
            outcome: Some(made),
            refill: false,
        });
    back(&session, flash::ACCOUNTS_PAGE, PAGE, form, outcome).await
}

pub async fn change(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    session: Session,
    Path((id, action)): Path<(i64, String)>,
    Form(form): Form<Fields>,
) -> Response {
    let change = match action.as_str() {
        "disable" => Ok(Change::Disable),
        "enable" => Ok(Change::Enable),
        "teams" => Ok(Change::Teams(teams(&form))),
        "password" => Ok(Change::Password),
        "admin" => match field(&form, "admin") {
            "on" => Ok(Change::Admin(true)),
            "off" => Ok(Change::Admin(false)),
            other => Err(Error::invalid(
                "admin",
                format!("{other:?} is not on or off."),
            )),
        },
        other => Err(Error::NotFound(format!(
            "There is no account action {other:?}."
        ))),
    };
    let outcome = match change {
        Ok(change) => accounts::change(&state, &viewer, id, change)
            .await
            .map(|(text, secret)| Done {
                text,
                outcome: secret,
                refill: false,
            }),
        Err(e) => Err(e),
    };
    back(&session, flash::ACCOUNTS_PAGE, PAGE, Vec::new(), outcome).await
}
