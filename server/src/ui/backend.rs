//! The UI's server functions land here.

use super::viewer::{internal, privileged, reads, team_ids, user_of};
use super::{flash, gate_views, request_form, request_lists, request_page, views};
use crate::catalog::store::{Applied, ApplyError};
use crate::db::{catalog_versions, users};
use crate::demo;
use crate::service::error::Error;
use crate::service::{gate, tickets, tokens};
use crate::state::AppState;
use app::backend::Backend;
use app::model::*;

pub struct PortalBackend {
    pub state: AppState,
}

/// Logs the cause and answers opaquely.
impl PortalBackend {
    /// Refuses a viewer who may not read the request `id` (tickets follow their request).
    async fn readable_request(&self, viewer: &Viewer, id: i64) -> Result<(), ApiError> {
        let active = self.state.catalog.current();
        let row = crate::db::requests::get(&self.state.db.pool, id)
            .await
            .map_err(internal)?
            .ok_or_else(|| ApiError::NotFound(format!("There is no request {id}.")))?;
        if request_page::may_read(&active.catalog, &user_of(viewer), viewer.roles.ops, &row) {
            Ok(())
        } else {
            Err(ApiError::from(request_page::unreadable(
                &active.catalog,
                &row.application_id,
            )))
        }
    }
}

#[async_trait::async_trait]
impl Backend for PortalBackend {
    async fn tokens(&self, viewer: &Viewer) -> Result<TokensView, ApiError> {
        let active = self.state.catalog.current();
        let rows = tokens::tokens(&self.state.db, &user_of(viewer))
            .await
            .map_err(ApiError::from)?;
        Ok(gate_views::tokens(&active.catalog, rows))
    }

    async fn create_token(
        &self,
        viewer: &Viewer,
        form: TokenForm,
    ) -> Result<TokenOutcome, ApiError> {
        let active = self.state.catalog.current();
        let scopes = [
            (form.gate_read, "gate:read"),
            (form.requests_write, "requests:write"),
            (form.events_write, "events:write"),
            (form.requests_on_behalf, "requests:on-behalf"),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, s)| s.to_owned())
        .collect();
        let applications = form
            .applications
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let made = tokens::create_token(
            &self.state.db,
            &active.catalog,
            &user_of(viewer),
            &tokens::TokenForm {
                name: form.name.clone(),
                scopes,
                applications,
                acts_as: form.acts_as,
            },
        )
        .await;
        match made {
            Ok(created) => Ok(TokenOutcome::Created {
                name: form.name.trim().to_owned(),
                secret: created.secret,
            }),
            Err(Error::Invalid(fields)) => Ok(TokenOutcome::Invalid(fields.into_iter().collect())),
            Err(e) => Err(ApiError::from(e)),
        }
    }

    async fn revoke_token(&self, viewer: &Viewer, id: i64) -> Result<(), ApiError> {
        tokens::revoke_token(&self.state.db, &user_of(viewer), id)
            .await
            .map_err(ApiError::from)
    }

    async fn gate_page(&self, viewer: &Viewer) -> Result<GatePageView, ApiError> {
        let active = self.state.catalog.current();
        let catalog = &active.catalog;
        let mut recent = crate::db::gate_checks::gate_checks(&self.state.db, 200)
            .await
            .map_err(internal)?;
        recent.retain(|g| reads(catalog, viewer, &g.application_id));
        recent.truncate(50);
        if !privileged(viewer) {
            // Token names say which pipelines exist and how they are wired: theirs to know.
            for g in recent.iter_mut().filter(|g| g.token_id.is_some()) {
                g.asked_by = "a pipeline".into();
            }
        }
        let mut page = gate_views::gate_page(catalog, recent);
        page.applications.retain(|a| reads(catalog, viewer, &a.id));
        Ok(page)
    }

    async fn history(&self, viewer: &Viewer, app: String) -> Result<HistoryView, ApiError> {
        let active = self.state.catalog.current();
        let application = active
            .catalog
            .application(&app)
            .ok_or_else(|| ApiError::NotFound(format!("There is no application {app}.")))?;
        if !reads(&active.catalog, viewer, &app) {
            return Err(ApiError::from(request_page::unreadable(
                &active.catalog,
                &app,
            )));
        }
        let now = crate::db::now_ms();
        let since = now - gate_views::HISTORY_DAYS * 86_400_000;
        let results = crate::db::stage_results::stage_history(&self.state.db, &app, since, 5000)
            .await
            .map_err(internal)?;
        Ok(gate_views::history(application, results, since, now))
    }

    async fn tickets(&self, viewer: &Viewer, state: String) -> Result<TicketsView, ApiError> {
        let active = self.state.catalog.current();
        let catalog = &active.catalog;
        let mut view = tickets::list(&self.state.db, catalog, &state)
            .await
            .map_err(ApiError::from)?;
        let apps = crate::db::requests::applications_of(
            &self.state.db,
            &view
                .tickets
                .iter()
                .map(|t| t.request_id)
                .collect::<Vec<_>>(),
        )
        .await
        .map_err(internal)?;
        view.tickets.retain(|t| {
            apps.get(&t.request_id)
                .is_some_and(|app| reads(catalog, viewer, app))
        });
        Ok(view)
    }

    async fn ticket(&self, viewer: &Viewer, id: i64) -> Result<TicketView, ApiError> {
        let active = self.state.catalog.current();
        let ticket = tickets::view(&self.state.db, &active.catalog, &user_of(viewer), id)
            .await
            .map_err(ApiError::from)?;
        self.readable_request(viewer, ticket.ticket.request_id)
            .await?;
        Ok(ticket)
    }

    async fn work_ticket(
        &self,
        viewer: &Viewer,
        id: i64,
        action: String,
        comment: String,
    ) -> Result<TicketView, ApiError> {
        let active = self.state.catalog.current();
        let user = user_of(viewer);
        let action = tickets::Move::parse(&action).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "action: {action} is not acknowledge, resolve, reopen or comment"
            ))
        })?;
        let of_request = crate::db::tickets::get(&self.state.db.pool, id)
            .await
            .map_err(internal)?
            .ok_or_else(|| ApiError::NotFound(format!("There is no ticket {id}.")))?
            .request_id;
        self.readable_request(viewer, of_request).await?;
        tickets::work(&self.state.db, &active.catalog, &user, id, action, &comment)
            .await
            .map_err(ApiError::from)?;
        let ticket = tickets::view(&self.state.db, &active.catalog, &user, id)
            .await
            .map_err(ApiError::from)?;
        let _ = self.state.db.changes.send(ticket.ticket.request_id);
        Ok(ticket)
    }

    async fn dry_run(&self, viewer: &Viewer, form: DryRunForm) -> Result<GateOutcome, ApiError> {
        let active = self.state.catalog.current();
        let user = user_of(viewer);
        let app = form.application.trim();
        if active.catalog.application(app).is_some() && !reads(&active.catalog, viewer, app) {
            return Err(ApiError::from(request_page::unreadable(
                &active.catalog,
                app,
            )));
        }
        let at = form.at.trim();
        let input = gate::GateInput {
            application: form.application,
            environment: form.environment,
            version: form.version,
            artifact: Some(form.artifact),
            actor: Some(form.actor),
            pipeline_url: None,
            // The form gives a UTC minute; the API takes RFC 3339.
            at: Some(if at.is_empty() {
                jiff::Timestamp::now().to_string()
            } else if at.len() == 16 {
                format!("{at}:00Z")
            } else {
                at.to_owned()
            }),
        };
        match gate::gate(&self.state.db, &active, gate::Asker::User(&user), &input).await {
            Ok(answer) => Ok(GateOutcome::Answered(Box::new(gate_views::answered(
                &active.catalog,
                &input,
                &user.display_name,
                &answer,
            )))),
            Err(Error::Invalid(fields)) => Ok(GateOutcome::Invalid(fields.into_iter().collect())),
            Err(e) => Err(ApiError::from(e)),
        }
    }

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
        request_form::form(
            &active.catalog,
            &user_of(viewer),
            &app,
            &env,
            flash.values,
            flash.errors,
            flash.notice,
        )
        .map_err(ApiError::from)
    }

    async fn edit_form(&self, viewer: &Viewer, id: i64) -> Result<RequestFormView, ApiError> {
        let flash = flash::take_current(&flash::edit_page(id)).await;
        let active = self.state.catalog.current();
        request_form::edit_form(&self.state.db, &active.catalog, &user_of(viewer), id, flash)
            .await
            .map_err(ApiError::from)
    }

    async fn request(
        &self,
        viewer: &Viewer,
        id: i64,
        with_notice: bool,
    ) -> Result<RequestView, ApiError> {
        let notice = if with_notice {
            flash::take_current(&flash::request_page(id))
                .await
                .and_then(|f| f.notice)
        } else {
            None
        };
        let active = self.state.catalog.current();
        request_page::request(
            &self.state.db,
            &active.catalog,
            &user_of(viewer),
            viewer.roles.ops,
            id,
            notice,
        )
        .await
        .map_err(ApiError::from)
    }

    async fn queue(
        &self,
        viewer: &Viewer,
        app: String,
        env: String,
        oldest_first: bool,
    ) -> Result<QueueView, ApiError> {
        let active = self.state.catalog.current();
        request_lists::queue(
            &self.state.db,
            &active.catalog,
            &user_of(viewer),
            &app,
            &env,
            oldest_first,
        )
        .await
        .map_err(ApiError::from)
    }

    async fn board(&self, viewer: &Viewer, filter: BoardFilter) -> Result<BoardView, ApiError> {
        if !(viewer.roles.ops || viewer.roles.admin) {
            return Err(ApiError::Forbidden(
                "The board of every request is for operations and administrators.".into(),
            ));
        }
        let active = self.state.catalog.current();
        request_lists::board(&self.state.db, &active.catalog, &filter)
            .await
            .map_err(ApiError::from)
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
