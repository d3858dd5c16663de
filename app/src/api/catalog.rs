use crate::model::{ApiError, CatalogView, HomeView, ReloadOutcome};
use leptos::prelude::*;

#[server(prefix = "/rpc", endpoint = "home")]
pub async fn get_home() -> Result<HomeView, ApiError> {
    let (backend, viewer) = crate::backend::context().await?;
    backend
        .home(&viewer)
        .await
        .map_err(crate::backend::with_status)
}

#[server(prefix = "/rpc", endpoint = "catalog")]
pub async fn get_catalog() -> Result<CatalogView, ApiError> {
    let (backend, viewer) = crate::backend::context().await?;
    backend
        .catalog(&viewer)
        .await
        .map_err(crate::backend::with_status)
}

/// Admins only: applies the catalog file again; a bad file leaves the running version in force.
#[server(prefix = "/rpc", endpoint = "catalog/reload")]
pub async fn reload_catalog() -> Result<ReloadOutcome, ApiError> {
    let (backend, viewer) = crate::backend::context().await?;
    backend
        .reload_catalog(&viewer)
        .await
        .map_err(crate::backend::with_status)
}
