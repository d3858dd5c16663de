//! Server-sent events: every open page learns at once that a request changed.

use crate::state::AppState;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use std::convert::Infallible;
use tokio::sync::broadcast::error::RecvError;

pub async fn stream(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let changes = state.changes.subscribe();
    let stopping = state.stopping.subscribe();
    let events = futures_util::stream::unfold(
        (changes, stopping),
        |(mut changes, mut stopping)| async move {
            let data = tokio::select! {
                received = changes.recv() => match received {
                    Ok(id) => id.to_string(),
                    // Missed some: tell the page to refresh whatever it shows.
                    Err(RecvError::Lagged(_)) => "*".to_owned(),
                    Err(RecvError::Closed) => return None,
                },
                _ = stopping.wait_for(|stop| *stop) => return None,
            };
            Some((
                Ok(Event::default().event("request").data(data)),
                (changes, stopping),
            ))
        },
    );
    Sse::new(events).keep_alive(KeepAlive::default())
}
