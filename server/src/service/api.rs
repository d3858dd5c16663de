//! The API for CI servers: tokens, the gate, pipeline-opened requests and stage results.
//! Every check of the input names the field it is about; nothing is written unless all of it
//! is valid, and each change is one transaction.

use crate::catalog::store::ActiveCatalog;
use crate::db::api::{self as a, GateCheck, NewStageResult, NewToken, TokenRow};
use crate::db::apply::{apply, Target};
use crate::db::requests as q;
use crate::db::users::{self, User};
use crate::db::{now_ms, Db};
use crate::domain::gate::{self, Actor, Answer, Candidate};
use crate::domain::lifecycle::{self, Event, StageStatus};
use crate::domain::request::{self, RawDraft, State};
use crate::domain::Catalog;
use crate::service::error::Error;
use crate::service::lifecycle::load;
use crate::service::requests as service;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const SCOPES: [&str; 4] = [
    "gate:read",
    "requests:write",
    "events:write",
    "requests:on-behalf",
];

/// The scope that lets a pipeline name another person as a request's requester.
pub const ON_BEHALF: &str = "requests:on-behalf";

/// What a token looks like: `rwy_` and 48 hex digits.
const TOKEN_PREFIX: &str = "rwy_";

fn invalid(field: &str, message: impl Into<String>) -> Error {
    Error::Invalid(BTreeMap::from([(field.to_owned(), message.into())]))
}

pub use crate::domain::sha256_hex;

// ---------------------------------------------------------------------------------------------
// Tokens

/// The token form an administrator fills in.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TokenForm {
    pub name: String,
    pub scopes: Vec<String>,
    /// Application ids; `*` (alone) for every application.
    pub applications: Vec<String>,
    /// The portal user the pipeline's requests come from unless they name someone.
    pub acts_as: String,
}

/// A new token: its id and the secret, shown once and never stored.
pub struct Created {
    pub id: i64,
    pub secret: String,
}

fn not_admin() -> Error {
    Error::Forbidden("Only administrators manage API tokens.".into())
}

pub async fn create_token(
    db: &Db,
    catalog: &Catalog,
    admin: &User,
    form: &TokenForm,
) -> Result<Created, Error> {
    if !admin.is_admin {
        return Err(not_admin());
    }
    let mut errors = BTreeMap::new();
    let name = form.name.trim();
    if name.is_empty() {
        errors.insert(
            "name".into(),
            "Give the token a name (which pipeline uses it).".into(),
        );
    } else if let Some(p) = crate::domain::text::line_problem(name, 80) {
        errors.insert("name".into(), p);
    }
    let mut scopes: Vec<String> = form.scopes.iter().map(|s| s.trim().to_owned()).collect();
    scopes.sort();
    scopes.dedup();
    if scopes.is_empty() {
        errors.insert("scopes".into(), "Choose at least one scope.".into());
    } else if let Some(bad) = scopes.iter().find(|s| !SCOPES.contains(&s.as_str())) {
        errors.insert(
            "scopes".into(),
            format!("{bad} is not a scope; scopes are {}.", SCOPES.join(", ")),
        );
    }
    let mut applications: Vec<String> = form
        .applications
        .iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    applications.sort();
    applications.dedup();
    if applications.is_empty() {
        errors.insert(
            "applications".into(),
            "Choose the applications it may touch, or every application.".into(),
        );
    } else if applications.iter().any(|a| a == "*") && applications.len() > 1 {
        errors.insert(
            "applications".into(),
            "Every application (*) or a list, not both.".into(),
        );
    } else if let Some(bad) = applications
        .iter()
        .find(|a| *a != "*" && catalog.application(a).is_none())
    {
        errors.insert(
            "applications".into(),
            format!("There is no application {bad}."),
        );
    }
    let acts_as = form.acts_as.trim();
    let user = if acts_as.is_empty() {
        Some(admin.clone())
    } else {
        users::by_username(db, acts_as).await?
    };
    if user.is_none() {
        errors.insert("acts_as".into(), format!("There is no user {acts_as}."));
    }
    let Some(user) = user.filter(|_| errors.is_empty()) else {
        return Err(Error::Invalid(errors));
    };
    let mut random = [0u8; 24];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut random);
    let secret = format!(
        "{TOKEN_PREFIX}{}",
        random
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let now = now_ms();
    let mut tx = db.write().await?;
    let id = a::insert_token(
        &mut tx,
        &NewToken {
            name,
            prefix: &secret[..TOKEN_PREFIX.len() + 8],
            secret_hash: &sha256_hex(secret.as_bytes()),
            scopes: &scopes,
            applications: &applications,
            user_id: user.id,
            created_by: admin.id,
            now,
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(token = id, name, by = %admin.username, "API token created");
    Ok(Created { id, secret })
}

pub async fn revoke_token(db: &Db, admin: &User, id: i64) -> Result<(), Error> {
    if !admin.is_admin {
        return Err(not_admin());
    }
    if a::revoke_token(db, id, now_ms()).await? {
        db.api.forget(id);
        tracing::info!(token = id, by = %admin.username, "API token revoked");
        Ok(())
    } else {
        Err(Error::NotFound(format!(
            "There is no live token {id} (revoked already?)."
        )))
    }
}

pub async fn tokens(db: &Db, admin: &User) -> Result<Vec<TokenRow>, Error> {
    if !admin.is_admin {
        return Err(not_admin());
    }
    Ok(a::tokens(db).await?)
}

/// The token an `Authorization` header carries, if it is live.
pub async fn authenticate(
    db: &Db,
    header: Option<&str>,
) -> Result<std::sync::Arc<TokenRow>, Error> {
    let Some(header) = header else {
        return Err(Error::Unauthorized(
            "Send an API token: Authorization: Bearer rwy_…".into(),
        ));
    };
    let secret = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|s| s.starts_with(TOKEN_PREFIX))
        .ok_or_else(|| {
            Error::Unauthorized(
                "The Authorization header must be \"Bearer rwy_…\" with an API token.".into(),
            )
        })?;
    let hash = sha256_hex(secret.as_bytes());
    let token = match db.api.token(&hash) {
        Some(token) => token,
        None => {
            let token = std::sync::Arc::new(a::live_token(db, &hash).await?.ok_or_else(|| {
                Error::Unauthorized("This API token is unknown or was revoked.".into())
            })?);
            db.api.keep(&hash, token.clone());
            token
        }
    };
    if db.api.touch_due(&hash) {
        a::touch_token(db, token.id, now_ms()).await?;
    }
    Ok(token)
}

/// Refuses a token without `scope`, or not allowed to touch `application`.
pub fn authorize(token: &TokenRow, scope: &str, application: &str) -> Result<(), Error> {
    authorize_any(token, &[scope], application)
}

/// Refuses a token with none of `scopes`, or not allowed to touch `application`.
pub fn authorize_any(token: &TokenRow, scopes: &[&str], application: &str) -> Result<(), Error> {
    if !token.scopes.iter().any(|s| scopes.contains(&s.as_str())) {
        return Err(Error::Forbidden(format!(
            "The token \"{}\" lacks the scope {}.",
            token.name,
            scopes.join(" or ")
        )));
    }
    if !token
        .applications
        .iter()
        .any(|a| a == "*" || a == application)
    {
        return Err(Error::Forbidden(format!(
            "The token \"{}\" may not touch the application {application}.",
            token.name
        )));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The gate

/// What a pipeline (or the dry-run form) asks the gate.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GateInput {
    pub application: String,
    pub environment: String,
    pub version: String,
    #[serde(default)]
    pub artifact: Option<String>,
    /// The user or team that triggered the pipeline.
    #[serde(default)]
    pub actor: Option<String>,
    #[serde(default)]
    pub pipeline_url: Option<String>,
    /// A moment to ask about instead of now (RFC 3339): a dry run.
    #[serde(default)]
    pub at: Option<String>,
}

/// Who asks the gate: a pipeline's token or a signed-in user (dry run).
pub enum Asker<'a> {
    Token(&'a TokenRow),
    User(&'a User),
}

fn optional(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn check_url(field: &str, url: Option<&str>, errors: &mut BTreeMap<String, String>) {
    if let Some(u) = url {
        if !(u.starts_with("https://") || u.starts_with("http://"))
            || u.len() > 2000
            || u.chars().any(|c| c.is_control() || c.is_whitespace())
        {
            errors.insert(
                field.into(),
                "An http(s) address of at most 2000 characters.".into(),
            );
        }
    }
}

fn parse_time(
    field: &str,
    value: Option<&str>,
    errors: &mut BTreeMap<String, String>,
) -> Option<i64> {
    let v = value?;
    match v.parse::<jiff::Timestamp>() {
        Ok(t) => Some(t.as_millisecond()),
        Err(_) => {
            errors.insert(
                field.into(),
                format!("{v} is not a time like 2026-12-24T17:00:00Z (RFC 3339)."),
            );
            None
        }
    }
}

fn check_version(version: &str, errors: &mut BTreeMap<String, String>) {
    if let Some(p) = crate::domain::text::version_problem(version) {
        errors.insert("version".into(), p);
    }
}

/// The application and environment a call names, or errors naming the field.
fn target<'c>(
    catalog: &'c Catalog,
    application: &str,
    environment: &str,
    errors: &mut BTreeMap<String, String>,
) -> Option<(
    &'c crate::domain::Application,
    &'c crate::domain::Environment,
)> {
    let Some(app) = catalog.application(application.trim()) else {
        errors.insert(
            "application".into(),
            if application.trim().is_empty() {
                "Which application?".to_owned()
            } else {
                format!("There is no application {}.", application.trim())
            },
        );
        return None;
    };
    let Some(env) = app.environment(environment.trim()) else {
        errors.insert(
            "environment".into(),
            if environment.trim().is_empty() {
                "Which environment?".to_owned()
            } else {
                format!("{} has no environment {}.", app.name, environment.trim())
            },
        );
        return None;
    };
    Some((app, env))
}

async fn actor(db: &Db, catalog: &Catalog, name: Option<&str>) -> Result<Actor, sqlx::Error> {
    let Some(name) = name else {
        return Ok(Actor::Unnamed);
    };
    let member = match db.api.member(name) {
        Some(member) => member,
        None => {
            let member = users::by_username(db, name)
                .await?
                .map(|u| (u.username, u.teams));
            db.api.keep_member(name, member.clone());
            member
        }
    };
    if let Some((username, teams)) = member {
        return Ok(Actor::User { username, teams });
    }
    Ok(match catalog.team(name) {
        Some(team) => Actor::Team(team.id.clone()),
        None => Actor::Unknown(name.to_owned()),
    })
}

/// The gate's answer and the request's address, as the API gives it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GateAnswer {
    #[serde(flatten)]
    pub answer: Answer,
    /// The moment the answer is about, RFC 3339.
    pub at: String,
    pub dry_run: bool,
    /// The matched request's page, relative to the portal.
    pub request_url: Option<String>,
    /// `next_window_ms` as RFC 3339.
    pub next_window: Option<String>,
}

fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

pub async fn gate(
    db: &Db,
    active: &ActiveCatalog,
    asker: Asker<'_>,
    input: &GateInput,
) -> Result<GateAnswer, Error> {
    let catalog = &active.catalog;
    let mut errors = BTreeMap::new();
    let found = target(catalog, &input.application, &input.environment, &mut errors);
    let version = input.version.trim();
    check_version(version, &mut errors);
    let artifact = optional(&input.artifact);
    if artifact.is_some_and(|d| !request::is_digest(d)) {
        errors.insert(
            "artifact".into(),
            "A digest like sha256:<64 hex digits>.".into(),
        );
    }
    let pipeline_url = optional(&input.pipeline_url);
    check_url("pipeline_url", pipeline_url, &mut errors);
    let actor_name = optional(&input.actor);
    if let Some(p) = actor_name.and_then(|a| crate::domain::text::line_problem(a, 200)) {
        errors.insert("actor".into(), format!("A user or team name: {p}"));
    }
    let at = parse_time("at", optional(&input.at), &mut errors);
    let Some((app, env)) = found.filter(|_| errors.is_empty()) else {
        return Err(Error::Invalid(errors));
    };
    if let Asker::Token(token) = &asker {
        authorize(token, "gate:read", &app.id)?;
    }
    let now = now_ms();
    let at_ms = at.unwrap_or(now);
    let actor = actor(db, catalog, actor_name).await?;
    let candidates = releases(db, &app.id, &env.id, version).await?;
    let answer = gate::decide(
        &gate::Query {
            catalog,
            app,
            env,
            version,
            artifact,
            actor: &actor,
            at_ms,
        },
        &candidates,
    );
    let (token_id, user_id) = match asker {
        Asker::Token(t) => (Some(t.id), None),
        Asker::User(u) => (None, Some(u.id)),
    };
    db.api
        .record(GateCheck {
            id: 0,
            token_id,
            user_id,
            asked_by: String::new(),
            application_id: app.id.clone(),
            environment_id: env.id.clone(),
            version: version.to_owned(),
            artifact: artifact.unwrap_or_default().to_owned(),
            actor: actor_name.unwrap_or_default().to_owned(),
            pipeline_url: pipeline_url.unwrap_or_default().to_owned(),
            at: at_ms,
            dry_run: at.is_some(),
            decision: answer.decision.as_str().to_owned(),
            request_id: answer.request_id,
            rule: answer.rule.to_owned(),
            reasons: serde_json::to_string(&answer.reasons)?,
            created_at: now,
        })
        .await?;
    tracing::info!(
        application = %app.id,
        environment = %env.id,
        version,
        decision = answer.decision.as_str(),
        rule = answer.rule,
        "gate answered"
    );
    Ok(GateAnswer {
        at: rfc3339(at_ms),
        dry_run: at.is_some(),
        request_url: answer.request_id.map(|id| format!("/requests/{id}")),
        next_window: answer.next_window_ms.map(rfc3339),
        answer,
    })
}

// ---------------------------------------------------------------------------------------------
// Pipeline-opened requests

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
        Some(name) if name != own.username => {
            let named = users::by_username(db, name)
                .await?
                .ok_or_else(|| invalid("requested_by", format!("There is no user {name}.")))?;
            if !token.scopes.iter().any(|s| s == ON_BEHALF) {
                return Err(Error::Forbidden(format!(
                    "requested_by: the token \"{}\" opens requests as {} only; naming someone \
                     else needs the scope {ON_BEHALF}.",
                    token.name, own.username
                )));
            }
            named
        }
        _ => own.clone(),
    };
    let on_behalf = (requester.id != own.id).then_some(service::OnBehalf {
        token: &token.name,
        by: &own.display_name,
    });
    let raw = RawDraft {
        version: input.version.trim().to_owned(),
        artifact: optional(&input.artifact).unwrap_or_default().to_owned(),
        title: optional(&input.title).unwrap_or_default().to_owned(),
        summary: optional(&input.summary).unwrap_or_default().to_owned(),
        risk: optional(&input.risk).unwrap_or("low").to_owned(),
        rollback_plan: optional(&input.rollback_plan)
            .unwrap_or_default()
            .to_owned(),
        scheduled_local: String::new(),
        timezone: String::new(),
        fields: input.fields.clone(),
    };
    let body_hash = sha256_hex(&serde_json::to_vec(input)?);
    let origin = service::Origin {
        kind: "pipeline",
        pipeline_url: pipeline_url.unwrap_or_default(),
        self_deploy: input.deploys_itself,
        on_behalf,
    };
    for attempt in 0..2 {
        let mut tx = db.write().await?;
        if let Some(key) = idempotency_key {
            if let Some((hash, id)) = a::idempotent(&mut tx, token.id, key).await? {
                return if hash == body_hash {
                    Ok((id, false))
                } else {
                    Err(invalid(
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
            if let Err(e) = a::insert_idempotency(&mut tx, token.id, key, &body_hash, id, now).await
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
async fn releases(
    db: &Db,
    app: &str,
    env: &str,
    version: &str,
) -> Result<std::sync::Arc<Vec<Candidate>>, Error> {
    if let Some(kept) = db.api.release(app, env, version) {
        return Ok(kept);
    }
    let generation = db.api.generation();
    let rows = a::releases(db, app, env, version).await?;
    let mut candidates = Vec::with_capacity(rows.len());
    for row in &rows {
        candidates.push(candidate(db, row).await?);
    }
    let candidates = std::sync::Arc::new(candidates);
    db.api
        .keep_release(generation, app, env, version, candidates.clone());
    Ok(candidates)
}

async fn candidate(db: &Db, row: &q::RequestRow) -> Result<Candidate, Error> {
    let decisions = crate::db::decisions::decisions(&db.pool, row.id).await?;
    Ok(Candidate {
        id: row.id,
        state: row.state,
        artifact: row.artifact.clone(),
        requester_id: row.requester_id,
        scheduled_at: row.scheduled_at,
        policy: row.policy.clone(),
        approvals: crate::service::lifecycle::approvals(&decisions),
    })
}

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

// ---------------------------------------------------------------------------------------------
// Stage results

/// A stage of the pipeline, as it reports it.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StageInput {
    pub stage: String,
    /// started, succeeded or failed.
    pub status: String,
    #[serde(default)]
    pub started_at: Option<String>,
    #[serde(default)]
    pub finished_at: Option<String>,
    /// Named numbers: tests_passed, tests_failed, coverage, duration_ms …
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, f64>)]
    pub metrics: BTreeMap<String, serde_json::Value>,
}

/// The stage a pipeline reports that, for a request that deploys itself, moves the request.
const DEPLOY_STAGE: &str = "deploy";

pub async fn record_stage(
    db: &Db,
    catalog: &Catalog,
    token: &TokenRow,
    id: i64,
    input: &StageInput,
) -> Result<i64, Error> {
    let mut errors = BTreeMap::new();
    let stage = input.stage.trim();
    if stage.is_empty() {
        errors.insert(
            "stage".into(),
            "Which stage (build, test, deploy …)?".into(),
        );
    } else if stage.chars().count() > 60
        || !stage
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.' | ':' | '/'))
    {
        errors.insert(
            "stage".into(),
            "At most 60 letters, digits, spaces and - _ . : /".into(),
        );
    }
    let status = input.status.trim();
    if !matches!(status, "started" | "succeeded" | "failed") {
        errors.insert("status".into(), "One of started, succeeded, failed.".into());
    }
    let started = parse_time("started_at", optional(&input.started_at), &mut errors);
    let finished = parse_time("finished_at", optional(&input.finished_at), &mut errors);
    if let (Some(s), Some(f)) = (started, finished) {
        if f < s {
            errors.insert(
                "finished_at".into(),
                "A stage cannot finish before it starts.".into(),
            );
        }
    }
    if input.metrics.len() > 50 {
        errors.insert("metrics".into(), "At most 50 metrics.".into());
    }
    for (name, value) in &input.metrics {
        if name.is_empty()
            || name.len() > 60
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            errors.insert(
                format!("metrics.{name}"),
                "A metric name is at most 60 letters, digits and _ - .".into(),
            );
        } else if !value.as_f64().is_some_and(f64::is_finite) {
            errors.insert(format!("metrics.{name}"), "A metric is a number.".into());
        }
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let row = q::get(&db.pool, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("There is no request {id}.")))?;
    authorize(token, "events:write", &row.application_id)?;
    let status = StageStatus::parse(status).unwrap_or(StageStatus::Started);
    let now = now_ms();
    let metrics = serde_json::to_string(&input.metrics)?;
    let mut tx = db.write().await?;
    let loaded = load(&mut tx, id).await?;
    let event = Event::StageResultPosted {
        stage: stage.to_owned(),
        status,
        duration_ms: started.zip(finished).map(|(s, f)| f - s),
        metrics: input.metrics.clone().into_iter().collect(),
        by: token.name.clone(),
        deploys: stage.eq_ignore_ascii_case(DEPLOY_STAGE),
    };
    let t = lifecycle::transition(&loaded.subject, &event, &loaded.row.policy, now)?;
    if t.state != loaded.row.state
        && !q::bump_revision(&mut tx, id, loaded.row.revision, now).await?
    {
        return Err(Error::Conflict(format!(
            "Request #{id} changed while this result was recorded; send it again."
        )));
    }
    let result = a::insert_stage_result(
        &mut tx,
        &NewStageResult {
            request_id: id,
            application_id: &loaded.row.application_id,
            environment_id: &loaded.row.environment_id,
            stage,
            status: status.as_str(),
            started_at: started,
            finished_at: finished,
            metrics: &metrics,
            token_id: Some(token.id),
            now,
        },
    )
    .await?;
    apply(&mut tx, catalog, Target::from(&loaded.row), &t, now).await?;
    tx.commit().await?;
    Ok(result)
}
