use crate::model::{ApiError, GatePageView, TokensView};
use leptos::prelude::*;

/// Administrators: every API token.
#[server(prefix = "/rpc", endpoint = "tokens")]
pub async fn get_tokens() -> Result<TokensView, ApiError> {
    let (backend, viewer) = crate::backend::context().await?;
    backend
        .tokens(&viewer)
        .await
        .map_err(crate::backend::with_status)
}

#[server(prefix = "/rpc", endpoint = "gate")]
pub async fn get_gate_page() -> Result<GatePageView, ApiError> {
    let (backend, viewer) = crate::backend::context().await?;
    backend
        .gate_page(&viewer)
        .await
        .map_err(crate::backend::with_status)
}

/// An application's pipeline history (stage results reported to the API).
#[server(prefix = "/rpc", endpoint = "history")]
pub async fn get_history(app: String) -> Result<crate::model::HistoryView, ApiError> {
    let (backend, viewer) = crate::backend::context().await?;
    backend
        .history(&viewer, app)
        .await
        .map_err(crate::backend::with_status)
}

/// The DORA metrics of the Insights page.
#[server(prefix = "/rpc", endpoint = "insights")]
pub async fn get_insights(
    filter: crate::model::InsightsFilter,
) -> Result<crate::model::InsightsView, ApiError> {
    let (backend, viewer) = crate::backend::context().await?;
    backend
        .insights(&viewer, filter)
        .await
        .map_err(crate::backend::with_status)
}
