//! How server functions reach the server's use cases. The server crate implements
//! [`Backend`] and provides it as context, so this crate never touches the database.

use crate::model::*;
use std::sync::Arc;

/// The signed-in user of the current request, put in the request's extensions by the
/// server's session middleware (`None` when nobody is signed in).
#[derive(Debug, Clone)]
pub struct ViewerSlot(pub Option<Viewer>);

#[async_trait::async_trait]
pub trait Backend: Send + Sync + 'static {
    async fn home(&self, viewer: &Viewer) -> Result<HomeView, ApiError>;
    async fn catalog(&self, viewer: &Viewer) -> Result<CatalogView, ApiError>;
    async fn login_info(&self) -> Result<LoginInfo, ApiError>;
    /// The form for a new request; `rollback` fills it in to roll back that request.
    async fn request_form(
        &self,
        viewer: &Viewer,
        app: String,
        env: String,
        rollback: Option<i64>,
    ) -> Result<RequestFormView, ApiError>;
    async fn edit_form(&self, viewer: &Viewer, id: i64) -> Result<RequestFormView, ApiError>;
    /// The change calendar of a period (`month` or `week`, else this week), filtered.
    async fn calendar(
        &self,
        viewer: &Viewer,
        period: (String, String),
        team: String,
        application: String,
    ) -> Result<CalendarView, ApiError>;
    /// One request's page; `with_notice` takes the outcome of the viewer's last action with it.
    async fn request(
        &self,
        viewer: &Viewer,
        id: i64,
        with_notice: bool,
    ) -> Result<RequestView, ApiError>;
    async fn queue(
        &self,
        viewer: &Viewer,
        app: String,
        env: String,
        oldest_first: bool,
    ) -> Result<QueueView, ApiError>;
    async fn board(&self, viewer: &Viewer, filter: BoardFilter) -> Result<BoardView, ApiError>;
    async fn tokens(&self, viewer: &Viewer) -> Result<TokensView, ApiError>;
    async fn accounts(&self, viewer: &Viewer, query: String) -> Result<AccountsView, ApiError>;
    async fn gate_page(&self, viewer: &Viewer) -> Result<GatePageView, ApiError>;
    async fn history(&self, viewer: &Viewer, app: String) -> Result<HistoryView, ApiError>;
    /// The DORA metrics for the filters of the Insights page (each "" when not chosen).
    async fn insights(
        &self,
        viewer: &Viewer,
        filter: InsightsFilter,
    ) -> Result<InsightsView, ApiError>;
    async fn tickets(&self, viewer: &Viewer, state: String) -> Result<TicketsView, ApiError>;
    async fn ticket(&self, viewer: &Viewer, id: i64) -> Result<TicketView, ApiError>;
    async fn inbox(&self, viewer: &Viewer, before: i64) -> Result<InboxView, ApiError>;
    async fn unread(&self, viewer: &Viewer) -> Result<i64, ApiError>;
    async fn profile(&self, viewer: &Viewer) -> Result<ProfileView, ApiError>;
    async fn mail_outbox(&self, viewer: &Viewer) -> Result<MailOutboxView, ApiError>;
}

pub type SharedBackend = Arc<dyn Backend>;

/// The viewer's whole approver queue, computed at most once per page view: the approvals page
/// and the badge in the navigation both ask for it while the page renders. Provided per request.
#[derive(Clone, Default)]
pub struct QueueMemo(Arc<tokio::sync::OnceCell<Result<QueueView, ApiError>>>);

impl QueueMemo {
    /// The unfiltered queue, newest first, from the memo of this request when there is one.
    pub async fn queue(backend: &SharedBackend, viewer: &Viewer) -> Result<QueueView, ApiError> {
        let compute = || backend.queue(viewer, String::new(), String::new(), false);
        match leptos::prelude::use_context::<QueueMemo>() {
            Some(memo) => memo.0.get_or_init(compute).await.clone(),
            None => compute().await,
        }
    }
}

/// The backend and the viewer of the current request, or `Unauthorized`.
pub async fn context() -> Result<(SharedBackend, Viewer), ApiError> {
    let backend = leptos::prelude::use_context::<SharedBackend>().ok_or(ApiError::Internal)?;
    let viewer = current_viewer()
        .await?
        .ok_or(ApiError::Unauthorized)
        .map_err(with_status)?;
    Ok((backend, viewer))
}

/// Gives the HTTP answer the status that fits the error (server functions default to 500).
pub fn with_status(error: ApiError) -> ApiError {
    use axum::http::StatusCode;
    let status = match &error {
        ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
        ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
        ApiError::NotFound(_) => StatusCode::NOT_FOUND,
        ApiError::Conflict(_) => StatusCode::CONFLICT,
        ApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
        ApiError::Internal | ApiError::Transport(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(status);
    }
    error
}

pub async fn current_viewer() -> Result<Option<Viewer>, ApiError> {
    let axum::Extension(ViewerSlot(viewer)) = leptos_axum::extract::<axum::Extension<ViewerSlot>>()
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "the viewer middleware did not run");
            ApiError::Internal
        })?;
    Ok(viewer)
}
