//! A person's own form posts: marking notifications read, saving their profile.

use super::forms::{back, field, ticked, Done, Fields};
use super::viewer::SignedIn;
use crate::domain::notice::Kind;
use crate::service::error::Error;
use crate::service::notifications::{self, ProfileForm};
use crate::state::AppState;
use crate::ui::flash;
use axum::extract::State;
use axum::response::Response;
use axum::Form;
use tower_sessions::Session;

/// `id` marks one notification read; without it, all of them.
pub async fn read(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    session: Session,
    Form(form): Form<Fields>,
) -> Response {
    let id = match field(&form, "id") {
        "" => Ok(None),
        text => text
            .parse::<i64>()
            .map(Some)
            .map_err(|_| Error::invalid("id", "Not a notification id.")),
    };
    let outcome = match id {
        Ok(id) => notifications::mark_read(&state.db, viewer.id, id)
            .await
            .map(|n| {
                Done::<()>::said(match (id, n) {
                    (Some(_), _) => "Marked read.".to_owned(),
                    (None, 1) => "1 notification marked read.".to_owned(),
                    (None, n) => format!("{n} notifications marked read."),
                })
            }),
        Err(e) => Err(e),
    };
    back(&session, flash::INBOX_PAGE, "/inbox", Vec::new(), outcome).await
}

pub async fn save_profile(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    session: Session,
    Form(form): Form<Fields>,
) -> Response {
    let profile = ProfileForm {
        email: field(&form, "email").to_owned(),
        time_zone: field(&form, "time_zone").to_owned(),
        mailed: Kind::ALL
            .into_iter()
            .filter(|k| ticked(&form, &format!("mail_{}", k.as_str())))
            .collect(),
        digest: ticked(&form, "digest"),
        away_from: field(&form, "away_from").to_owned(),
        away_until: field(&form, "away_until").to_owned(),
        delegate: field(&form, "delegate").to_owned(),
        shown_zone: viewer.time_zone.clone(),
    };
    let outcome = notifications::save_profile(&state.db, viewer.id, profile)
        .await
        .map(|()| Done::<()>::said("Profile saved."));
    back(&session, flash::PROFILE_PAGE, "/profile", form, outcome).await
}
