//! The account administration page and its form posts, as the presenter sees them.

use super::flash;
use super::viewer::user_of;
use crate::db::admin_events;
use crate::domain::format_ms;
use crate::service::accounts::{self, Actor, NewAccount};
use crate::service::error::Error;
use crate::state::AppState;
use app::model::{AccountLine, AccountsView, AdminLine, NewSecret, Viewer};

/// Entries of the administration trail the page shows.
const RECENT: i64 = 30;

pub async fn page(state: &AppState, viewer: &Viewer, query: String) -> Result<AccountsView, Error> {
    let me = user_of(viewer);
    let found = accounts::search(&state.db, Actor::Admin(&me), &query).await?;
    let recent = admin_events::recent(&state.db.pool, RECENT).await?;
    let active = state.catalog.current();
    let mut view = AccountsView {
        accounts: found
            .into_iter()
            .map(|a| AccountLine {
                id: a.id,
                username: a.username,
                display_name: a.display_name,
                email: a.email,
                teams: a.teams,
                admin: a.is_admin,
                disabled: a.disabled_at.map(format_ms),
                created: format_ms(a.created_at),
                sessions: a.sessions,
                via_provider: a.via_provider,
            })
            .collect(),
        teams: active
            .catalog
            .teams
            .iter()
            .map(|t| (t.id.clone(), t.name.clone()))
            .collect(),
        query,
        me: viewer.id,
        recent: recent
            .into_iter()
            .map(|l| AdminLine {
                at: format_ms(l.at),
                actor: l.actor.unwrap_or_else(|| "The command line".into()),
                text: l.event.map_or(l.kind, |e| e.describe()),
            })
            .collect(),
        ..AccountsView::default()
    };
    if let Some(flash) = flash::take_current(flash::ACCOUNTS_PAGE).await {
        view.secret = flash.outcome();
        view.posted = flash.posted();
    }
    Ok(view)
}

/// What a post to one account asks.
#[derive(Debug, Clone)]
pub enum Change {
    Disable,
    Enable,
    Teams(Vec<String>),
    Password,
    Admin(bool),
}

/// Makes one change; a reset password comes back to be shown once.
pub async fn change(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    change: Change,
) -> Result<(String, Option<NewSecret>), Error> {
    let me = user_of(viewer);
    let actor = Actor::Admin(&me);
    let db = &state.db;
    let said = match change {
        Change::Disable => {
            let user = accounts::set_disabled(db, actor, id, true).await?;
            format!("{user} is disabled: every session of theirs has ended.")
        }
        Change::Enable => {
            let user = accounts::set_disabled(db, actor, id, false).await?;
            format!("{user} is enabled: they may sign in again.")
        }
        Change::Teams(teams) => {
            let catalog = state.catalog.current();
            let user = accounts::set_teams(db, &catalog.catalog, actor, id, teams).await?;
            format!("{user}'s teams are saved.")
        }
        Change::Password => {
            let (username, password) = accounts::reset_password(db, actor, id, None).await?;
            let said = if id == viewer.id {
                "Your password is reset; your sessions go on.".to_owned()
            } else {
                format!("{username}'s password is reset; their sessions have ended.")
            };
            return Ok((said, Some(NewSecret { username, password })));
        }
        Change::Admin(on) => {
            let user = accounts::set_admin(db, actor, id, on).await?;
            if on {
                format!("{user} is an administrator.")
            } else {
                format!("{user} is no longer an administrator.")
            }
        }
    };
    Ok((said, None))
}

pub async fn create(
    state: &AppState,
    viewer: &Viewer,
    form: NewAccount,
) -> Result<NewSecret, Error> {
    let me = user_of(viewer);
    let catalog = state.catalog.current();
    let username = form.username.trim().to_owned();
    let (_, password) =
        accounts::create(&state.db, &catalog.catalog, Actor::Admin(&me), form).await?;
    Ok(NewSecret { username, password })
}
