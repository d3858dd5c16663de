//! The UI's server functions land here.

use super::requests::RequestError;
use super::{demo, flash, request_views, views};
use crate::db::{catalog_versions, users};
use crate::service::catalog::{Applied, ApplyError};
use crate::state::AppState;
use app::backend::Backend;
use app::model::*;

pub struct PortalBackend {
    pub state: AppState,
}

/// Logs the cause and answers opaquely.
fn internal(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "request failed");
    ApiError::Internal
}

fn team_ids(viewer: &Viewer) -> Vec<String> {
    viewer.teams.iter().map(|t| t.id.clone()).collect()
}

/// The account behind a viewer, as use cases take it.
pub fn user_of(viewer: &Viewer) -> users::User {
    users::User {
        id: viewer.id,
        username: viewer.username.clone(),
        display_name: viewer.display_name.clone(),
        is_admin: viewer.roles.admin,
        teams: team_ids(viewer),
    }
}

pub fn api_error(e: RequestError) -> ApiError {
    match e {
        RequestError::NotFound(m) => ApiError::NotFound(m),
        RequestError::Forbidden(m) => ApiError::Forbidden(m),
        RequestError::Conflict(m) => ApiError::Conflict(m),
        RequestError::Invalid(fields) => ApiError::Conflict(
            fields
                .into_iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        other => internal(other),
    }
}

#[async_trait::async_trait]
impl Backend for PortalBackend {
    async fn home(&self, viewer: &Viewer) -> Result<HomeView, ApiError> {
        let active = self.state.catalog.current();
        Ok(views::home(&active.catalog, &team_ids(viewer)))
    }

    async fn catalog(&self, viewer: &Viewer) -> Result<CatalogView, ApiError> {
        let active = self.state.catalog.current();
        let members = users::members(&self.state.db).await.map_err(internal)?;
        let admin = viewer.roles.admin;
        let history = if admin {
            catalog_versions::history(&self.state.db, 20)
                .await
                .map_err(internal)?
        } else {
            Vec::new()
        };
        Ok(views::catalog_view(
            &active.catalog,
            active.version.as_ref(),
            &members,
            &history,
            admin,
        ))
    }

    async fn reload_catalog(&self, viewer: &Viewer) -> Result<ReloadOutcome, ApiError> {
        if !viewer.roles.admin {
            return Err(ApiError::Forbidden(
                "Only administrators may re-apply the catalog.".into(),
            ));
        }
        tracing::info!(by = %viewer.username, "catalog re-apply requested");
        match self.state.catalog.apply_file(&self.state.db).await {
            Ok(Applied::New(v)) => Ok(ReloadOutcome::Applied(views::version(&v))),
            Ok(Applied::Unchanged(v)) => Ok(ReloadOutcome::Unchanged(views::version(&v))),
            Err(ApplyError::Invalid(e)) => Ok(ReloadOutcome::Rejected(e.to_string())),
            Err(ApplyError::NoFile) => Ok(ReloadOutcome::Rejected(ApplyError::NoFile.to_string())),
            Err(e @ ApplyError::Storage(_)) => Err(internal(e)),
        }
    }

    async fn request_form(
        &self,
        viewer: &Viewer,
        app: String,
        env: String,
    ) -> Result<RequestFormView, ApiError> {
        let flash = flash::take_current(&flash::form_page(&app, &env))
            .await
            .unwrap_or_default();
        let active = self.state.catalog.current();
        request_views::form(
            &active.catalog,
            &user_of(viewer),
            &app,
            &env,
            flash.values,
            flash.errors,
            flash.notice,
        )
        .map_err(api_error)
    }

    async fn edit_form(&self, viewer: &Viewer, id: i64) -> Result<RequestFormView, ApiError> {
        let flash = flash::take_current(&flash::edit_page(id)).await;
        let active = self.state.catalog.current();
        request_views::edit_form(&self.state.db, &active.catalog, &user_of(viewer), id, flash)
            .await
            .map_err(api_error)
    }

    async fn request(&self, viewer: &Viewer, id: i64) -> Result<RequestView, ApiError> {
        let notice = flash::take_current(&flash::request_page(id))
            .await
            .and_then(|f| f.notice);
        let active = self.state.catalog.current();
        request_views::request(
            &self.state.db,
            &active.catalog,
            &user_of(viewer),
            viewer.roles.ops,
            id,
            notice,
        )
        .await
        .map_err(api_error)
    }

    async fn queue(
        &self,
        viewer: &Viewer,
        app: String,
        env: String,
        oldest_first: bool,
    ) -> Result<QueueView, ApiError> {
        let active = self.state.catalog.current();
        request_views::queue(
            &self.state.db,
            &active.catalog,
            &user_of(viewer),
            &app,
            &env,
            oldest_first,
        )
        .await
        .map_err(api_error)
    }

    async fn queue_count(&self, viewer: &Viewer) -> Result<usize, ApiError> {
        self.queue(viewer, String::new(), String::new(), false)
            .await
            .map(|q| q.requests.len())
    }

    async fn board(&self, viewer: &Viewer, filter: BoardFilter) -> Result<BoardView, ApiError> {
        if !(viewer.roles.ops || viewer.roles.admin) {
            return Err(ApiError::Forbidden(
                "The board of every request is for operations and administrators.".into(),
            ));
        }
        let active = self.state.catalog.current();
        request_views::board(&self.state.db, &active.catalog, &filter)
            .await
            .map_err(api_error)
    }

    async fn login_info(&self) -> Result<LoginInfo, ApiError> {
        if !self.state.settings.demo {
            return Ok(LoginInfo {
                demo_users: Vec::new(),
                demo_password: None,
            });
        }
        Ok(LoginInfo {
            demo_users: demo::USERS
                .iter()
                .map(|u| (u.username.to_owned(), u.role.to_owned()))
                .collect(),
            demo_password: Some(demo::PASSWORD.to_owned()),
        })
    }
}
