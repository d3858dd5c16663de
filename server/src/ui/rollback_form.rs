//! The form that rolls a request back: filled in from it and from the request that deployed the
//! version it brings back, under the environment's rollback path.

use super::flash::Flash;
use super::request_form::{form_values, form_view};
use crate::db::requests as q;
use crate::db::users::User;
use crate::db::Db;
use crate::domain::policy::describe_rollback;
use crate::domain::Catalog;
use crate::service::error::Error;
use crate::service::rollbacks;
use app::model::{RequestFormView, RollbackOffer};

/// The rollback form for request `id`; `flash` holds what a refused submission typed.
pub async fn form(
    db: &Db,
    catalog: &Catalog,
    user: &User,
    id: i64,
    flash: Flash,
) -> Result<RequestFormView, Error> {
    let original = q::get(&db.pool, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("There is no request {id}.")))?;
    let (app, env) = catalog
        .application(&original.application_id)
        .and_then(|a| a.environment(&original.environment_id).map(|e| (a, e)))
        .ok_or_else(|| {
            Error::Conflict(format!(
                "Request #{id}'s application and environment are no longer in the catalog."
            ))
        })?;
    if !env.policy.for_rollback().may_request(&user.teams) {
        return Err(Error::Forbidden(format!(
            "You may not roll back {} to {}.",
            app.name,
            env.name.to_lowercase()
        )));
    }
    let target = rollbacks::target(&db.pool, &original)
        .await?
        .ok_or_else(|| Error::Conflict(rollbacks::cannot(id)))?;
    let values = if flash.values.is_empty() {
        let good = q::get(&db.pool, target.deployed_by).await?;
        let mut values = good.as_ref().map(form_values).unwrap_or_default();
        values.remove("when");
        values.remove("scheduled_local");
        let state = original.state.as_str().replace('_', " ");
        for (k, v) in [
            ("version", target.version.clone()),
            (
                "title",
                format!("Roll back {} {} to {}", app.name, env.name, target.version),
            ),
            (
                "summary",
                format!(
                    "Rolls back request #{id} ({} {state}) to {}, the last other version that \
                     succeeded here.",
                    original.version, target.version
                ),
            ),
            (
                "rollback_plan",
                format!("Deploy {} again once it is fixed.", original.version),
            ),
            ("change", "rollback".to_owned()),
            ("rollback_of", id.to_string()),
        ] {
            values.insert(k.to_owned(), v);
        }
        values
    } else {
        flash.values
    };
    let mut view = form_view(catalog, app, env, values, flash.errors, flash.notice);
    view.rollback = Some(RollbackOffer {
        of: id,
        version: target.version,
        path: describe_rollback(catalog, &env.policy),
    });
    Ok(view)
}
