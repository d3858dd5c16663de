use crate::model::{ApiError, TicketView, TicketsView};
use leptos::prelude::*;

/// Tickets, newest first, optionally in one state.
#[server(prefix = "/rpc", endpoint = "tickets/list")]
pub async fn get_tickets(#[server(default)] state: String) -> Result<TicketsView, ApiError> {
    let (backend, viewer) = crate::backend::context().await?;
    backend
        .tickets(&viewer, state)
        .await
        .map_err(crate::backend::with_status)
}

#[server(prefix = "/rpc", endpoint = "tickets/get")]
pub async fn get_ticket(id: i64) -> Result<TicketView, ApiError> {
    let (backend, viewer) = crate::backend::context().await?;
    backend
        .ticket(&viewer, id)
        .await
        .map_err(crate::backend::with_status)
}
