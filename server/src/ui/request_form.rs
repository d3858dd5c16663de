//! The request form: new, refused, or filled to edit a request.

use crate::db::decisions::{self};
use crate::db::requests::{self as q, RequestRow};
use crate::db::users::User;
use crate::db::Db;
use crate::domain::lifecycle::edit_refusal;
use crate::domain::policy::{describe_environment, describe_standard};
use crate::domain::{Application, Catalog, Environment, Policy};
use crate::service::error::Error;
use crate::service::lifecycle::subject;
use app::model::*;
use std::collections::BTreeMap;

/// The stored request as the form's values, to edit it.
pub(super) fn form_values(row: &RequestRow) -> BTreeMap<String, String> {
    let mut values: BTreeMap<String, String> = [
        ("version", row.version.clone()),
        ("artifact", row.artifact.clone()),
        ("title", row.title.clone()),
        ("summary", row.summary.clone()),
        ("risk", row.risk.as_str().to_owned()),
        ("rollback_plan", row.rollback_plan.clone()),
        ("timezone", row.timezone.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    if let Some(ms) = row.scheduled_at {
        let local = jiff::Timestamp::from_millisecond(ms)
            .ok()
            .zip(jiff::tz::TimeZone::get(&row.timezone).ok())
            .map(|(at, tz)| {
                at.to_zoned_datetime(tz)
                    .strftime("%Y-%m-%dT%H:%M")
                    .to_string()
            })
            .unwrap_or_default();
        values.insert("when".into(), "scheduled".into());
        values.insert("scheduled_local".into(), local);
    }
    for (k, v) in &row.fields {
        let text = match v {
            serde_json::Value::Bool(true) => "on".to_owned(),
            serde_json::Value::Bool(false) => String::new(),
            serde_json::Value::String(s) => s.clone(),
            // Written plainly (never 1e-7), as the number check reads it back.
            serde_json::Value::Number(n) => n.as_f64().map(|f| f.to_string()).unwrap_or_default(),
            other => other.to_string(),
        };
        values.insert(format!("fields.{k}"), text);
    }
    values
}

pub async fn edit_form(
    db: &Db,
    catalog: &Catalog,
    user: &User,
    id: i64,
    flash: Option<super::flash::Flash>,
) -> Result<RequestFormView, Error> {
    let row = q::get(&db.pool, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("There is no request {id}.")))?;
    let decisions = decisions::decisions(&db.pool, id).await?;
    let by = crate::service::requests::viewer(user, false);
    if let Some(refused) = edit_refusal(&subject(&row, &decisions, false), &by) {
        return Err(refused.into());
    }
    let app = catalog.application(&row.application_id).ok_or_else(|| {
        Error::Conflict(format!(
            "The application {} is no longer in the catalog.",
            row.application_id
        ))
    })?;
    let env = app.environment(&row.environment_id).ok_or_else(|| {
        Error::Conflict(format!(
            "{} no longer has the environment {}.",
            app.name, row.environment_id
        ))
    })?;
    let approvals = u32::try_from(
        decisions
            .iter()
            .filter(|d| d.verdict == "approve" && !d.voided)
            .count(),
    )
    .unwrap_or(u32::MAX);
    let flash = flash.unwrap_or_default();
    let values = if flash.values.is_empty() {
        form_values(&row)
    } else {
        flash.values
    };
    let mut view = form_view(catalog, app, env, values, flash.errors, flash.notice);
    view.editing = Some(EditingView {
        id,
        revision: row.revision,
        approvals,
        material: crate::domain::text::capitalise(&material_words(&row.policy, app)),
    });
    Ok(view)
}

/// What voids a request's approvals, in words: "a change to the version or the risk".
pub(super) fn material_words(policy: &Policy, app: &Application) -> String {
    let Some(listed) = &policy.material_fields else {
        return "a change to anything but the title".to_owned();
    };
    let always = ["version", "artifact"]
        .into_iter()
        .filter(|f| !listed.iter().any(|l| l == f))
        .map(str::to_owned);
    let words: Vec<String> = always
        .chain(listed.iter().cloned())
        .map(|name| match name.strip_prefix("fields.") {
            Some(id) => app.fields.iter().find(|f| f.id == id).map_or_else(
                || format!("the {}", id.replace('_', " ")),
                |f| format!("the {}", f.label.to_lowercase()),
            ),
            None if name == "fields" => "any extra field".to_owned(),
            None => format!("the {}", name.replace('_', " ")),
        })
        .collect();
    format!(
        "a change to {}",
        crate::domain::text::list_words(&words, "or")
    )
}

pub fn form(
    catalog: &Catalog,
    user: &User,
    app_id: &str,
    env_id: &str,
    values: BTreeMap<String, String>,
    errors: BTreeMap<String, String>,
    notice: Option<Notice>,
) -> Result<RequestFormView, Error> {
    let app = catalog
        .application(app_id)
        .ok_or_else(|| Error::NotFound(format!("There is no application {app_id}.")))?;
    let env = app
        .environment(env_id)
        .ok_or_else(|| Error::NotFound(format!("{} has no environment {env_id}.", app.name)))?;
    if !env.policy.may_open(&user.teams) {
        return Err(crate::service::requests::not_allowed(
            catalog, user, app, env,
        ));
    }
    let mut view = form_view(catalog, app, env, values, errors, notice);
    if env.policy.may_raise_emergency(&user.teams) {
        view.emergency =
            crate::domain::policy::describe_emergency(catalog, &env.policy).map(|path| {
                app::model::EmergencyOffer {
                    path,
                    only: !env.policy.may_request(&user.teams),
                }
            });
    }
    Ok(view)
}

pub(super) fn form_view(
    catalog: &Catalog,
    app: &Application,
    env: &Environment,
    values: BTreeMap<String, String>,
    errors: BTreeMap<String, String>,
    notice: Option<Notice>,
) -> RequestFormView {
    RequestFormView {
        app_id: app.id.clone(),
        app_name: app.name.clone(),
        env_id: env.id.clone(),
        env_name: env.name.clone(),
        policy: describe_environment(catalog, env),
        fields: app
            .fields
            .iter()
            .map(|f| FieldView {
                id: f.id.clone(),
                label: f.label.clone(),
                kind: format!("{:?}", f.kind).to_lowercase(),
                required: f.required,
                options: f.options.clone(),
                help: f.help.clone(),
            })
            .collect(),
        values,
        errors,
        notice,
        editing: None,
        emergency: None,
        rollback: None,
        standard: env.policy.standard.iter().map(describe_standard).collect(),
    }
}
