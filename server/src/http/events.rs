//! Server-sent events: every open page learns at once that a request changed, of the requests
//! its viewer may read.

use crate::state::AppState;
use crate::ui::request_page::{may_read, read_as_delegate};
use crate::ui::viewer::user_of;
use app::backend::ViewerSlot;
use app::model::Viewer;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use futures_util::Stream;
use std::collections::HashMap;
use std::convert::Infallible;
use tokio::sync::broadcast::error::RecvError;

pub async fn stream(
    State(state): State<AppState>,
    Extension(ViewerSlot(viewer)): Extension<ViewerSlot>,
    session: tower_sessions::Session,
) -> Response {
    match (viewer, session.id()) {
        (Some(viewer), Some(session)) => Sse::new(events(state, viewer, session.to_string()))
            .keep_alive(KeepAlive::default())
            .into_response(),
        _ => axum::http::StatusCode::UNAUTHORIZED.into_response(),
    }
}

/// What one viewer hears: the ids of changed requests they may read.
struct Listener {
    state: AppState,
    viewer: Viewer,
    /// The session the stream was opened in.
    session: String,
    /// Whether the viewer may read each request heard of so far, under `catalog`.
    verdicts: HashMap<i64, bool>,
    catalog: Option<std::sync::Arc<crate::catalog::store::ActiveCatalog>>,
    /// When to read the viewer's account again.
    recheck: tokio::time::Interval,
    /// The away approvers the viewer stands in for, as read at that instant.
    seats: Option<(std::time::Instant, Vec<crate::service::delegation::Seat>)>,
}

/// How long the seats a viewer holds are taken as read.
const SEATS_FOR: std::time::Duration = std::time::Duration::from_secs(30);

impl Listener {
    /// Whether the stream's session ended (signed out, a password reset, the account disabled)
    /// or the account was disabled or removed since the stream opened.
    async fn signed_out(&self) -> bool {
        let session = crate::db::sessions::exists(&self.state.db, &self.session).await;
        let user = crate::db::users::by_id(&self.state.db, self.viewer.id).await;
        match (session, user) {
            (Ok(session), Ok(user)) => !session || user.is_none_or(|u| u.disabled),
            _ => false,
        }
    }

    async fn hears(&mut self, id: i64) -> bool {
        let catalog = self.state.catalog.current();
        let same = self
            .catalog
            .as_ref()
            .is_some_and(|c| std::sync::Arc::ptr_eq(c, &catalog));
        if !same || self.verdicts.len() > 10_000 {
            // A new catalog may say otherwise of every request.
            self.verdicts.clear();
            self.catalog = Some(catalog.clone());
        }
        if let Some(known) = self.verdicts.get(&id) {
            return *known;
        }
        match self.verdict(&catalog.catalog, id).await {
            Ok((verdict, lasting)) => {
                if lasting {
                    self.verdicts.insert(id, verdict);
                }
                verdict
            }
            Err(e) => {
                tracing::warn!(error = %e, request = id, "cannot tell whose change this is");
                false
            }
        }
    }

    /// Whether the viewer may read request `id`, and whether that holds until the catalog
    /// changes (a delegate's reading lasts only while they stand in, so it is asked each time).
    async fn verdict(
        &mut self,
        catalog: &crate::domain::Catalog,
        id: i64,
    ) -> Result<(bool, bool), crate::service::error::Error> {
        let Some(row) = crate::db::requests::get(&self.state.db.pool, id).await? else {
            return Ok((false, true));
        };
        let user = user_of(&self.viewer);
        let ops = self.viewer.roles.ops;
        if may_read(catalog, &user, ops, &row) {
            return Ok((true, true));
        }
        let now = crate::db::now_ms();
        if self
            .seats
            .as_ref()
            .is_none_or(|(at, _)| at.elapsed() > SEATS_FOR)
        {
            let seats = crate::service::delegation::seats(&self.state.db, &user, now).await?;
            if !seats.is_empty() {
                // Refusals kept while they stood in for nobody may no longer hold.
                self.verdicts.retain(|_, v| *v);
            }
            self.seats = Some((std::time::Instant::now(), seats));
        }
        let seats = self
            .seats
            .as_ref()
            .map(|(_, s)| s.as_slice())
            .unwrap_or_default();
        let db = &self.state.db;
        let verdict = read_as_delegate(db, &user, ops, &row, seats, now).await?;
        Ok((verdict, seats.is_empty() && !verdict))
    }
}

fn events(
    state: AppState,
    viewer: Viewer,
    session: String,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let changes = state.db.changes.subscribe();
    let stopping = state.stopping.subscribe();
    let listener = Listener {
        state,
        viewer,
        session,
        verdicts: HashMap::new(),
        seats: None,
        catalog: None,
        recheck: tokio::time::interval(std::time::Duration::from_secs(5)),
    };
    futures_util::stream::unfold(
        (changes, stopping, listener),
        |(mut changes, mut stopping, mut listener)| async move {
            let data = loop {
                let received = tokio::select! {
                    received = changes.recv() => Some(received),
                    _ = stopping.wait_for(|stop| *stop) => return None,
                    _ = listener.recheck.tick() => None,
                };
                let Some(received) = received else {
                    // A page whose session ended stops hearing anything.
                    if listener.signed_out().await {
                        return None;
                    }
                    continue;
                };
                match received.map(crate::db::Change::decode) {
                    Ok(crate::db::Change::Inbox(user)) if user == listener.viewer.id => {
                        // An event without data is never dispatched by browsers.
                        break ("inbox", "1".to_owned());
                    }
                    Ok(crate::db::Change::Inbox(_)) => {}
                    Ok(crate::db::Change::Request(id)) if listener.hears(id).await => {
                        break ("request", id.to_string())
                    }
                    Ok(_) => {}
                    // Missed some: tell the page to refresh whatever it shows.
                    Err(RecvError::Lagged(_)) => break ("request", "*".to_owned()),
                    Err(RecvError::Closed) => return None,
                }
            };
            let (event, data) = data;
            Some((
                Ok(Event::default().event(event).data(data)),
                (changes, stopping, listener),
            ))
        },
    )
}
