use crate::model::{AccountsView, ApiError};
use leptos::prelude::*;

/// Administrators: the accounts matching `q`, and the administration trail's newest entries.
#[server(prefix = "/rpc", endpoint = "accounts")]
pub async fn get_accounts(q: String) -> Result<AccountsView, ApiError> {
    let (backend, viewer) = crate::backend::context().await?;
    backend
        .accounts(&viewer, q)
        .await
        .map_err(crate::backend::with_status)
}
