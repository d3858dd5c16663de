use crate::model::{ApiError, BoardFilter, BoardView, QueueView, RequestFormView, RequestView};
use leptos::prelude::*;

#[server(prefix = "/rpc", endpoint = "requests/form")]
pub async fn get_request_form(
    app: String,
    env: String,
    rollback: Option<i64>,
) -> Result<RequestFormView, ApiError> {
    let (backend, viewer) = crate::backend::context().await?;
    backend
        .request_form(&viewer, app, env, rollback)
        .await
        .map_err(crate::backend::with_status)
}

/// The form to edit one of the viewer's own requests, filled with what it says now.
#[server(prefix = "/rpc", endpoint = "requests/edit-form")]
pub async fn get_edit_form(id: i64) -> Result<RequestFormView, ApiError> {
    let (backend, viewer) = crate::backend::context().await?;
    backend
        .edit_form(&viewer, id)
        .await
        .map_err(crate::backend::with_status)
}

/// One request's page. Only its first reading asks `with_notice`: the outcome of the viewer's
/// last action is shown once, and a live refetch must not take it on the way.
#[server(prefix = "/rpc", endpoint = "requests/get")]
pub async fn get_request(id: i64, with_notice: bool) -> Result<RequestView, ApiError> {
    let (backend, viewer) = crate::backend::context().await?;
    backend
        .request(&viewer, id, with_notice)
        .await
        .map_err(crate::backend::with_status)
}

/// The requests the viewer can decide on now.
#[server(prefix = "/rpc", endpoint = "requests/queue")]
pub async fn get_queue(
    app: String,
    env: String,
    oldest_first: bool,
) -> Result<QueueView, ApiError> {
    let (backend, viewer) = crate::backend::context().await?;
    let queue = if app.is_empty() && env.is_empty() {
        crate::backend::QueueMemo::queue(&backend, &viewer)
            .await
            .map(|mut q| {
                if oldest_first {
                    q.requests.reverse();
                }
                q
            })
    } else {
        backend.queue(&viewer, app, env, oldest_first).await
    };
    queue.map_err(crate::backend::with_status)
}

#[server(prefix = "/rpc", endpoint = "requests/queue-count")]
pub async fn get_queue_count() -> Result<usize, ApiError> {
    let (backend, viewer) = crate::backend::context().await?;
    crate::backend::QueueMemo::queue(&backend, &viewer)
        .await
        .map(|q| q.requests.len())
        .map_err(crate::backend::with_status)
}

/// Every request, filtered, newest first, a page at a time (ops and admins).
#[server(prefix = "/rpc", endpoint = "requests/board")]
pub async fn get_board(filter: BoardFilter) -> Result<BoardView, ApiError> {
    let (backend, viewer) = crate::backend::context().await?;
    backend
        .board(&viewer, filter)
        .await
        .map_err(crate::backend::with_status)
}
