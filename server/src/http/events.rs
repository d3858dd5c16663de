//! Server-sent events: every open page learns at once that a request changed, of the requests
//! its viewer may read.

use crate::state::AppState;
use crate::ui::request_page::may_read;
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
) -> Response {
    match viewer {
        Some(viewer) => Sse::new(events(state, viewer))
            .keep_alive(KeepAlive::default())
            .into_response(),
        None => axum::http::StatusCode::UNAUTHORIZED.into_response(),
    }
}

/// What one viewer hears: the ids of changed requests they may read.
struct Listener {
    state: AppState,
    viewer: Viewer,
    /// Whether the viewer may read each request heard of so far, under `catalog`.
    verdicts: HashMap<i64, bool>,
    catalog: Option<std::sync::Arc<crate::catalog::store::ActiveCatalog>>,
}

impl Listener {
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
        let verdict = match crate::db::requests::get(&self.state.db.pool, id).await {
            Ok(Some(row)) => may_read(
                &catalog.catalog,
                &user_of(&self.viewer),
                self.viewer.roles.ops,
                &row,
            ),
            Ok(None) => false,
            Err(e) => {
                tracing::warn!(error = %e, request = id, "cannot tell whose change this is");
                return false;
            }
        };
        self.verdicts.insert(id, verdict);
        verdict
    }
}

fn events(state: AppState, viewer: Viewer) -> impl Stream<Item = Result<Event, Infallible>> {
    let changes = state.db.changes.subscribe();
    let stopping = state.stopping.subscribe();
    let listener = Listener {
        state,
        viewer,
        verdicts: HashMap::new(),
        catalog: None,
    };
    futures_util::stream::unfold(
        (changes, stopping, listener),
        |(mut changes, mut stopping, mut listener)| async move {
            let data = loop {
                let received = tokio::select! {
                    received = changes.recv() => received,
                    _ = stopping.wait_for(|stop| *stop) => return None,
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
