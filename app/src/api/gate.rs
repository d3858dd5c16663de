use crate::model::{ApiError, GateOutcome, GatePageView, TokenOutcome, TokensView};
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

/// Administrators: a new token; its secret is in the answer, once.
#[server(prefix = "/rpc", endpoint = "tokens/create")]
pub async fn create_token(
    name: String,
    #[server(default)] gate_read: Option<String>,
    #[server(default)] requests_write: Option<String>,
    #[server(default)] events_write: Option<String>,
    #[server(default)] requests_on_behalf: Option<String>,
    applications: String,
    acts_as: String,
) -> Result<TokenOutcome, ApiError> {
    let (backend, viewer) = crate::backend::context().await?;
    let form = crate::model::TokenForm {
        name,
        gate_read: gate_read.is_some(),
        requests_write: requests_write.is_some(),
        events_write: events_write.is_some(),
        requests_on_behalf: requests_on_behalf.is_some(),
        applications,
        acts_as,
    };
    backend
        .create_token(&viewer, form)
        .await
        .map_err(crate::backend::with_status)
}

#[server(prefix = "/rpc", endpoint = "tokens/revoke")]
pub async fn revoke_token(id: i64) -> Result<(), ApiError> {
    let (backend, viewer) = crate::backend::context().await?;
    backend
        .revoke_token(&viewer, id)
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

/// Asks the gate about a hypothetical deployment; the answer is recorded as a dry run.
#[server(prefix = "/rpc", endpoint = "gate/dry-run")]
pub async fn dry_run(
    application: String,
    environment: String,
    version: String,
    #[server(default)] artifact: String,
    #[server(default)] actor: String,
    #[server(default)] at: String,
) -> Result<GateOutcome, ApiError> {
    let (backend, viewer) = crate::backend::context().await?;
    let form = crate::model::DryRunForm {
        application,
        environment,
        version,
        artifact,
        actor,
        at,
    };
    backend
        .dry_run(&viewer, form)
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
