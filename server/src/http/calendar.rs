//! The change calendar's private feed: a person makes (or replaces) their address and revokes
//! it; calendars fetch `/calendar.ics?key=…` with no session, and see what that person reads.

use super::forms::{back, Done};
use super::viewer::SignedIn;
use crate::db::{calendar_feeds, users};
use crate::domain::sha256_hex;
use crate::service::error::Error;
use crate::state::AppState;
use crate::ui::calendar::{self, MadeKey};
use crate::ui::{flash, views};
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tower_sessions::Session;

pub async fn make(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    session: Session,
) -> Response {
    let mut random = [0u8; 24];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut random);
    let key: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let made = calendar_feeds::replace(
        &state.db,
        viewer.id,
        &sha256_hex(key.as_bytes()),
        crate::db::now_ms(),
    )
    .await
    .map(|()| Done {
        text: "Your calendar feed has a new private address; any earlier one no longer works."
            .to_owned(),
        outcome: Some(MadeKey { key }),
        refill: false,
    })
    .map_err(Error::from);
    back_to_calendar(&session, made).await
}

pub async fn revoke(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    session: Session,
) -> Response {
    let revoked = calendar_feeds::revoke(&state.db, viewer.id)
        .await
        .map(|_| Done::<()>::said("Your calendar feed's address no longer works."))
        .map_err(Error::from);
    back_to_calendar(&session, revoked).await
}

/// Back to the calendar, where the outcome shows once.
async fn back_to_calendar<T: serde::Serialize>(
    session: &Session,
    outcome: Result<Done<T>, Error>,
) -> Response {
    back(
        session,
        flash::CALENDAR_PAGE,
        "/calendar",
        Vec::new(),
        outcome,
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct FeedQuery {
    #[serde(default)]
    key: String,
    #[serde(default)]
    team: String,
    #[serde(default)]
    application: String,
}

pub async fn feed(State(state): State<AppState>, Query(q): Query<FeedQuery>) -> Response {
    let unknown = || {
        (
            StatusCode::NOT_FOUND,
            "This calendar feed address is unknown or was revoked.",
        )
            .into_response()
    };
    if q.key.is_empty() {
        return unknown();
    }
    let owner = calendar_feeds::owner(&state.db, &sha256_hex(q.key.as_bytes())).await;
    let user = match owner {
        Ok(Some(id)) => users::by_id(&state.db, id).await,
        Ok(None) => return unknown(),
        Err(e) => Err(e),
    };
    let user = match user {
        Ok(Some(user)) if !user.disabled => user,
        Ok(_) => return unknown(),
        Err(e) => return broken(e),
    };
    let active = state.catalog.current();
    let viewer = views::viewer(&user, &active.catalog);
    let filters = (q.team.trim(), q.application.trim());
    match calendar::feed(
        &state.db,
        &active.catalog,
        &viewer,
        filters,
        &state.settings.public_url,
    )
    .await
    {
        Ok(text) => (
            [
                (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
                (header::CACHE_CONTROL, "private, no-store"),
            ],
            text,
        )
            .into_response(),
        Err(Error::NotFound(why)) => (StatusCode::NOT_FOUND, why).into_response(),
        Err(e) => broken(e),
    }
}

/// A feed that cannot be read now: logged, and said plainly.
fn broken(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "a calendar feed failed");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "The calendar feed cannot be read now; it has been logged.",
    )
        .into_response()
}
