//! Server-sent events: every open page learns at once that a request changed, of the requests
//! its viewer may read.

use crate::service::backend::reads;
use crate::state::AppState;
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
    /// The application of each request heard of so far: it never changes.
    apps: HashMap<i64, Option<String>>,
}

impl Listener {
    async fn hears(&mut self, id: i64) -> bool {
        if !self.apps.contains_key(&id) {
            if self.apps.len() > 10_000 {
                self.apps.clear();
            }
            let row = crate::db::requests::applications_of(&self.state.db, &[id]).await;
            match row {
                Ok(mut found) => {
                    self.apps.insert(id, found.remove(&id));
                }
                Err(e) => {
                    tracing::warn!(error = %e, request = id, "cannot tell whose change this is");
                    return false;
                }
            }
        }
        let catalog = self.state.catalog.current();
        self.apps
            .get(&id)
            .and_then(Option::as_deref)
            .is_some_and(|app| reads(&catalog.catalog, &self.viewer, app))
    }
}

fn events(state: AppState, viewer: Viewer) -> impl Stream<Item = Result<Event, Infallible>> {
    let changes = state.changes.subscribe();
    let stopping = state.stopping.subscribe();
    let listener = Listener {
        state,
        viewer,
        apps: HashMap::new(),
    };
    futures_util::stream::unfold(
        (changes, stopping, listener),
        |(mut changes, mut stopping, mut listener)| async move {
            let data = loop {
                let received = tokio::select! {
                    received = changes.recv() => received,
                    _ = stopping.wait_for(|stop| *stop) => return None,
                };
                match received {
                    Ok(id) if listener.hears(id).await => break id.to_string(),
                    Ok(_) => {}
                    // Missed some: tell the page to refresh whatever it shows.
                    Err(RecvError::Lagged(_)) => break "*".to_owned(),
                    Err(RecvError::Closed) => return None,
                }
            };
            Some((
                Ok(Event::default().event("request").data(data)),
                (changes, stopping, listener),
            ))
        },
    )
}
