use crate::model::{ApiError, Viewer};
use leptos::prelude::*;

/// The signed-in user, or `None`.
#[server(prefix = "/rpc", endpoint = "viewer")]
pub async fn get_viewer() -> Result<Option<Viewer>, ApiError> {
    crate::backend::current_viewer().await
}

/// Demo logins, when the portal runs in demo mode.
#[server(prefix = "/rpc", endpoint = "login-info")]
pub async fn get_login_info() -> Result<crate::model::LoginInfo, ApiError> {
    let backend = use_context::<crate::backend::SharedBackend>().ok_or(ApiError::Internal)?;
    backend.login_info().await
}
