//! Requests opened by a pipeline, and their status as a pipeline waiting on them reads it.

use super::gate::{candidate, rfc3339, target};
use super::input::{check_url, commit_time, optional, CommitInput};
use super::tokens::{authorize, authorize_any, ON_BEHALF};
use crate::auth::MAX_USERNAME_LEN;
use crate::catalog::store::ActiveCatalog;
use crate::db::requests as q;
use crate::db::tokens::TokenRow;
use crate::db::users;
use crate::db::{now_ms, Db};
use crate::domain::gate;
use crate::domain::request::{RawDraft, State};
use crate::domain::sha256_hex;
use crate::domain::text::username_problem;
use crate::service::error::Error;
use crate::service::requests as service;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A request a pipeline opens.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRequestInput {
    pub application: String,
    pub environment: String,
    pub version: String,
    #[serde(default)]
    pub artifact: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub summary: Option<String>,
    /// low, medium or high (low when not said).
    #[serde(default)]
    pub risk: Option<String>,
    #[serde(default)]
    pub rollback_plan: Option<String>,
    /// The portal user the request is from: the token's own user when not said. Naming anyone
    /// else needs a token with the scope `requests:on-behalf`; the timeline then names the token
    /// and its user beside the requester.
    #[serde(default)]
    pub requested_by: Option<String>,
    #[serde(default)]
    pub pipeline_url: Option<String>,
    /// The pipeline deploys itself once approved: the portal does not call the CI.
    #[serde(default)]
    pub deploys_itself: bool,
    /// The application's own form fields, by id.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// When the change was committed (RFC 3339): the lead time is measured from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_at: Option<String>,
    /// The commits the release brings, with their times: the earliest one counts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commits: Vec<CommitInput>,
}

/// What `GET /api/v1/requests/{id}` answers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RequestStatus {
    pub id: i64,
    pub url: String,
    pub application: String,
    pub environment: String,
    pub version: String,
    pub artifact: Option<String>,
    pub state: String,
    /// Whether the pipeline may go on: approved (or further), and not ended badly.
    pub approved: bool,
    /// Whether the request has ended (succeeded, failed, rejected, cancelled, expired).
    pub finished: bool,
    pub origin: String,
    pub pipeline_url: Option<String>,
    pub deploys_itself: bool,
    pub waiting_for: Vec<gate::Waiting>,
    pub created_at: String,
    pub updated_at: String,
}

/// Opens a request for a pipeline. With an idempotency key, a retry with the same body answers
/// with the request the first call made (`false`: nothing new was created); the same key with
/// another body is refused.
pub async fn open_request(
    db: &Db,
    active: &ActiveCatalog,
    token: &TokenRow,
    input: &NewRequestInput,
    idempotency_key: Option<&str>,
) -> Result<(i64, bool), Error> {
    let catalog = &active.catalog;
    let mut errors = BTreeMap::new();
    let found = target(catalog, &input.application, &input.environment, &mut errors);
    let pipeline_url = optional(&input.pipeline_url);
    check_url("pipeline_url", pipeline_url, &mut errors);
    let commit_at = commit_time(input.commit_at.as_deref(), &input.commits, &mut errors);
    if let Some(key) = idempotency_key {
        if key.is_empty() || key.len() > 200 || !key.bytes().all(|b| b.is_ascii_graphic()) {
            errors.insert(
                "Idempotency-Key".into(),
                "At most 200 visible characters, without spaces.".into(),
            );
        }
    }
    let Some((app, env)) = found.filter(|_| errors.is_empty()) else {
        return Err(Error::Invalid(errors));
    };
    authorize(token, "requests:write", &app.id)?;
    let own = users::by_id(db, token.user_id)
        .await?
        .ok_or_else(|| Error::Forbidden("The token's user no longer exists.".into()))?;
    let requester = match optional(&input.requested_by) {
        Some(name) if username_problem(name, MAX_USERNAME_LEN).is_some() => {
            return Err(Error::invalid(
                "requested_by",
                username_problem(name, MAX_USERNAME_LEN).unwrap_or_default(),
            ))
        }
        Some(name) if name != own.username => {
            // The scope is checked first: a token that may not name others learns nothing of
            // which names exist.
            if !token.scopes.iter().any(|s| s == ON_BEHALF) {
                return Err(Error::Forbidden(format!(
                    "requested_by: the token \"{}\" opens requests as {} only; naming someone \
                     else needs the scope {ON_BEHALF}.",
                    token.name, own.username
                )));
            }
            users::by_username(db, name).await?.ok_or_else(|| {
                Error::invalid("requested_by", format!("There is no user {name}."))
            })?
        }
        _ => own.clone(),
    };
    let on_behalf = (requester.id != own.id).then_some(service::OnBehalf {
        token: &token.name,
        by: &own.display_name,
    });
    // Taken as sent: an empty optional value is the same as none, and risk, when given, is one of
    // the three words.
    let raw = RawDraft {
        version: input.version.clone(),
        artifact: optional(&input.artifact).unwrap_or_default().to_owned(),
        title: optional(&input.title).unwrap_or_default().to_owned(),
        summary: optional(&input.summary).unwrap_or_default().to_owned(),
        risk: input.risk.as_deref().unwrap_or("low").to_owned(),
        rollback_plan: optional(&input.rollback_plan)
            .unwrap_or_default()
            .to_owned(),
        scheduled_local: String::new(),
        timezone: String::new(),
        fields: input.fields.clone(),
        change: String::new(),
        justification: String::new(),
        rollback_of: String::new(),
    };
    let body_hash = sha256_hex(&serde_json::to_vec(input)?);
    let origin = service::Origin {
        kind: "pipeline",
        pipeline_url: pipeline_url.unwrap_or_default(),
        self_deploy: input.deploys_itself,
        on_behalf,
        commit_at,
        opened_at: None,
    };
    for attempt in 0..2 {
        let mut tx = db.write().await?;
        if let Some(key) = idempotency_key {
            if let Some((hash, id)) =
                crate::db::idempotency::idempotent(&mut tx, token.id, key).await?
            {
                return if hash == body_hash {
                    Ok((id, false))
                } else {
                    Err(Error::invalid(
                        "Idempotency-Key",
                        format!("This key opened request #{id} with another body; use a new key for a new request."),
                    ))
                };
            }
        }
        let (id, now) =
            service::submit_in(&mut tx, active, &requester, &app.id, &env.id, &raw, &origin)
                .await?;
        if let Some(key) = idempotency_key {
            if let Err(e) = crate::db::idempotency::insert_idempotency(
                &mut tx, token.id, key, &body_hash, id, now,
            )
            .await
            {
                // Another call with the same key won the race: answer with its request.
                if attempt == 0 && matches!(&e, sqlx::Error::Database(d) if d.is_unique_violation())
                {
                    drop(tx);
                    continue;
                }
                return Err(e.into());
            }
        }
        tx.commit().await?;
        tracing::info!(request = id, token = %token.name, "request opened by a pipeline");
        return Ok((id, true));
    }
    Err(Error::Conflict(
        "Another call with this Idempotency-Key is being answered; retry.".into(),
    ))
}

/// A stored request as the gate weighs it: its state, artifact, frozen policy and approvals.
/// The requests covering a release, newest first: kept in memory until a change is committed.
fn is_finished(state: State) -> bool {
    matches!(
        state,
        State::Succeeded | State::Failed | State::Rejected | State::Cancelled | State::Expired
    )
}

pub async fn request_status(
    db: &Db,
    active: &ActiveCatalog,
    token: &TokenRow,
    id: i64,
) -> Result<RequestStatus, Error> {
    let row = q::get(&db.pool, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("There is no request {id}.")))?;
    authorize_any(token, &["requests:write", "gate:read"], &row.application_id)?;
    let candidate = candidate(db, &row).await?;
    let state = candidate.state;
    let waiting_for = if state == State::PendingApproval {
        gate::waiting(&active.catalog, &candidate, now_ms())
    } else {
        Vec::new()
    };
    Ok(RequestStatus {
        id,
        url: format!("/requests/{id}"),
        application: row.application_id,
        environment: row.environment_id,
        version: row.version,
        artifact: (!row.artifact.is_empty()).then_some(row.artifact),
        state: row.state.as_str().to_owned(),
        approved: matches!(
            state,
            State::Approved
                | State::Scheduled
                | State::Provisioning
                | State::Deploying
                | State::Succeeded
        ),
        finished: is_finished(state),
        origin: row.origin,
        pipeline_url: (!row.pipeline_url.is_empty()).then_some(row.pipeline_url),
        deploys_itself: row.self_deploy,
        waiting_for,
        created_at: rfc3339(row.created_at),
        updated_at: rfc3339(row.updated_at),
    })
}
