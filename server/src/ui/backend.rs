//! The UI's server functions land here.

use super::viewer::{internal, privileged, reads, team_ids, user_of};
use super::{flash, gate_views, request_form, request_lists, request_page, rollback_form, views};
use crate::db::{catalog_versions, users};
use crate::demo;
use crate::service::tokens;
use crate::state::AppState;
use app::backend::Backend;
use app::model::*;

pub struct PortalBackend {
    pub state: AppState,
}

#[async_trait::async_trait]
impl Backend for PortalBackend {
    async fn tokens(&self, viewer: &Viewer) -> Result<TokensView, ApiError> {
        let active = self.state.catalog.current();
        let rows = tokens::tokens(&self.state.db, &user_of(viewer))
            .await
            .map_err(ApiError::from)?;
        let mut page = gate_views::tokens(&active.catalog, rows);
        if let Some(flash) = flash::take_current(flash::TOKENS_PAGE).await {
            page.created = flash.outcome();
            page.posted = flash.posted();
        }
        Ok(page)
    }

    async fn accounts(&self, viewer: &Viewer, query: String) -> Result<AccountsView, ApiError> {
        super::accounts::page(&self.state, viewer, query)
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
        if let Some(flash) = flash::take_current(flash::GATE_PAGE).await {
            page.answer = flash.outcome();
            page.posted = flash.posted();
        }
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

    async fn insights(
        &self,
        viewer: &Viewer,
        filter: InsightsFilter,
    ) -> Result<InsightsView, ApiError> {
        super::insights::page(&self.state, viewer, &filter)
            .await
            .map_err(ApiError::from)
    }

    async fn tickets(&self, viewer: &Viewer, state: String) -> Result<TicketsView, ApiError> {
        let active = self.state.catalog.current();
        let catalog = &active.catalog;
        let mut view = super::tickets::list(&self.state.db, catalog, &state)
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
        let mut ticket =
            super::tickets::view(&self.state.db, &active.catalog, &user_of(viewer), id)
                .await
                .map_err(ApiError::from)?;
        request_page::readable(&self.state, viewer, ticket.ticket.request_id).await?;
        if let Some(flash) = flash::take_current(&flash::ticket_page(id)).await {
            ticket.posted = flash.posted();
        }
        Ok(ticket)
    }

    async fn home(&self, viewer: &Viewer) -> Result<HomeView, ApiError> {
        let active = self.state.catalog.current();
        let mut home = views::home(&active.catalog, &team_ids(viewer));
        home.mine = request_lists::mine(&self.state.db, &active.catalog, viewer)
            .await
            .map_err(ApiError::from)?;
        Ok(home)
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
        let mut page = views::catalog_view(
            &active.catalog,
            active.version.as_ref(),
            &members,
            &history,
            admin,
        );
        if admin {
            page.reload = flash::take_current(flash::CATALOG_PAGE)
                .await
                .and_then(|f| f.outcome());
        }
        Ok(page)
    }

    async fn request_form(
        &self,
        viewer: &Viewer,
        app: String,
        env: String,
        rollback: Option<i64>,
    ) -> Result<RequestFormView, ApiError> {
        let flash = flash::take_current(&flash::form_page(&app, &env))
            .await
            .unwrap_or_default();
        let active = self.state.catalog.current();
        if let Some(id) = rollback {
            let (db, catalog) = (&self.state.db, &active.catalog);
            return rollback_form::form(db, catalog, &user_of(viewer), id, flash)
                .await
                .map_err(ApiError::from);
        }
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

    async fn calendar(
        &self,
        viewer: &Viewer,
        (month, week): (String, String),
        team: String,
        application: String,
    ) -> Result<CalendarView, ApiError> {
        let active = self.state.catalog.current();
        let ask = super::calendar::Ask {
            month,
            week,
            team,
            application,
        };
        let db = &self.state.db;
        let mut view = super::calendar::calendar(db, &active.catalog, viewer, &ask)
            .await
            .map_err(ApiError::from)?;
        view.feed_since = crate::db::calendar_feeds::made_at(db, viewer.id)
            .await
            .map_err(super::viewer::internal)?
            .map(crate::domain::format_ms);
        if let Some(flash) = flash::take_current(flash::CALENDAR_PAGE).await {
            let base = self.state.settings.public_url.trim_end_matches('/');
            view.feed_url = flash
                .outcome::<super::calendar::MadeKey>()
                .map(|made| format!("{base}/calendar.ics?key={}", made.key));
            view.notice = flash.notice;
        }
        Ok(view)
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
            &viewer.time_zone,
        )
        .await
        .map_err(ApiError::from)
    }

    async fn board(&self, viewer: &Viewer, filter: BoardFilter) -> Result<BoardView, ApiError> {
        let active = self.state.catalog.current();
        request_lists::board(&self.state.db, &active.catalog, viewer, &filter)
            .await
            .map_err(ApiError::from)
    }

    async fn login_info(&self) -> Result<LoginInfo, ApiError> {
        let demo = self.state.settings.demo;
        let provider = match &self.state.oidc {
            Some(p) => Some(app::model::ProviderSignIn {
                label: p.label().to_owned(),
                available: p.available().await,
            }),
            None => None,
        };
        Ok(LoginInfo {
            demo_users: demo::USERS
                .iter()
                .filter(|_| demo)
                .map(|u| (u.username.to_owned(), u.role.to_owned()))
                .collect(),
            demo_password: demo.then(|| demo::PASSWORD.to_owned()),
            provider,
            passwords: self.state.settings.sign_in.local_passwords,
        })
    }

    async fn inbox(&self, viewer: &Viewer, before: i64) -> Result<InboxView, ApiError> {
        let mut page = super::inbox::inbox(&self.state.db, viewer, before)
            .await
            .map_err(internal)?;
        if let Some(flash) = flash::take_current(flash::INBOX_PAGE).await {
            page.posted = flash.posted();
        }
        Ok(page)
    }

    async fn unread(&self, viewer: &Viewer) -> Result<i64, ApiError> {
        crate::db::notifications::unread(&self.state.db, viewer.id)
            .await
            .map_err(internal)
    }

    async fn profile(&self, viewer: &Viewer) -> Result<ProfileView, ApiError> {
        let mut page = super::inbox::profile(&self.state.db, viewer)
            .await
            .map_err(internal)?;
        if let Some(flash) = flash::take_current(flash::PROFILE_PAGE).await {
            page.posted = flash.posted();
        }
        Ok(page)
    }

    async fn mail_outbox(&self, viewer: &Viewer) -> Result<MailOutboxView, ApiError> {
        super::inbox::mail_outbox(&self.state.db, &self.state.settings, viewer).await
    }
}
