//! The signed-in viewer as the use cases take them: their account, their teams, their rights.

use crate::db::users;
use app::model::*;

pub(super) fn internal(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "request failed");
    ApiError::Internal
}

pub(crate) fn team_ids(viewer: &Viewer) -> Vec<String> {
    viewer.teams.iter().map(|t| t.id.clone()).collect()
}

/// Administrators and operations see every application and who asked the gate.
pub(crate) fn privileged(viewer: &Viewer) -> bool {
    viewer.roles.admin || viewer.roles.ops
}

/// Whether `viewer` may read what concerns the application `app_id` (see `Catalog::may_read`).
pub fn reads(catalog: &crate::domain::Catalog, viewer: &Viewer, app_id: &str) -> bool {
    catalog.may_read(app_id, &team_ids(viewer), privileged(viewer))
}

/// The applications `viewer` may read, by id.
pub fn readable(catalog: &crate::domain::Catalog, viewer: &Viewer) -> Vec<String> {
    catalog
        .applications
        .iter()
        .filter(|a| reads(catalog, viewer, &a.id))
        .map(|a| a.id.clone())
        .collect()
}

/// (id, name) pairs, as a filter's choices.
pub type Choices = Vec<(String, String)>;

/// The choices of a filter over `readable` applications: (id, name) of each application, and of
/// each environment they have, sorted, once each.
pub fn filter_choices(catalog: &crate::domain::Catalog, readable: &[String]) -> (Choices, Choices) {
    let apps = catalog
        .applications
        .iter()
        .filter(|a| readable.contains(&a.id));
    let names = apps
        .clone()
        .map(|a| (a.id.clone(), a.name.clone()))
        .collect();
    let mut envs: Choices = apps
        .flat_map(|a| {
            a.environments
                .iter()
                .map(|e| (e.id.clone(), e.name.clone()))
        })
        .collect();
    envs.sort();
    envs.dedup_by(|a, b| a.0 == b.0);
    (names, envs)
}

/// The account behind a viewer, as use cases take it.
pub fn user_of(viewer: &Viewer) -> users::User {
    users::User {
        id: viewer.id,
        username: viewer.username.clone(),
        display_name: viewer.display_name.clone(),
        is_admin: viewer.roles.admin,
        teams: team_ids(viewer),
        time_zone: viewer.time_zone.clone(),
        stands_in: false,
        disabled: false,
    }
}
