use crate::model::{ApiError, CatalogView, HomeView};
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
