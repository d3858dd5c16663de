//! The gate: may this release be deployed now, asked by a pipeline or tried by a person.

use super::input::{check_url, check_version, optional, parse_time};
use super::tokens::authorize;
use crate::catalog::store::ActiveCatalog;
use crate::db::gate_checks::GateCheck;
use crate::db::requests as q;
use crate::db::tokens::TokenRow;
use crate::db::users::{self, User};
use crate::db::{now_ms, Db};
use crate::domain::gate::{self, Actor, Answer, Candidate};
use crate::domain::Catalog;
use crate::gate::cache::ApiCache;
use crate::service::error::Error;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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

/// The application and environment a call names, or errors naming the field.
pub(crate) fn target<'c>(
    catalog: &'c Catalog,
    application: &str,
    environment: &str,
    errors: &mut BTreeMap<String, String>,
) -> Option<(
    &'c crate::domain::Application,
    &'c crate::domain::Environment,
)> {
    let Some(app) = catalog.application(application) else {
        errors.insert(
            "application".into(),
            if application.is_empty() {
                "Which application?".to_owned()
            } else {
                format!("There is no application {application}.")
            },
        );
        return None;
    };
    let Some(env) = app.environment(environment) else {
        errors.insert(
            "environment".into(),
            if environment.is_empty() {
                "Which environment?".to_owned()
            } else {
                format!("{} has no environment {environment}.", app.name)
            },
        );
        return None;
    };
    Some((app, env))
}

async fn actor(
    db: &Db,
    cache: &ApiCache,
    catalog: &Catalog,
    name: Option<&str>,
) -> Result<Actor, sqlx::Error> {
    let Some(name) = name else {
        return Ok(Actor::Unnamed);
    };
    let member = match cache.member(name) {
        Some(member) => member,
        None => {
            let generation = cache.generation();
            let member = users::by_username(db, name)
                .await?
                .map(|u| (u.username, u.teams));
            cache.keep_member(generation, name, member.clone());
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

pub(crate) fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

pub async fn gate(
    db: &Db,
    cache: &ApiCache,
    active: &ActiveCatalog,
    asker: Asker<'_>,
    input: &GateInput,
) -> Result<GateAnswer, Error> {
    let catalog = &active.catalog;
    let mut errors = BTreeMap::new();
    let found = target(catalog, &input.application, &input.environment, &mut errors);
    let version = input.version.as_str();
    check_version(version, &mut errors);
    let artifact = optional(&input.artifact);
    if artifact.is_some_and(|d| d.len() > 200 || !crate::domain::request::is_digest(d)) {
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
    let at = parse_time("at", input.at.as_deref(), &mut errors);
    let Some((app, env)) = found.filter(|_| errors.is_empty()) else {
        return Err(Error::Invalid(errors));
    };
    if let Asker::Token(token) = &asker {
        authorize(token, "gate:read", &app.id)?;
    }
    let now = now_ms();
    let at_ms = at.unwrap_or(now);
    let actor = actor(db, cache, catalog, actor_name).await?;
    let candidates = releases(db, cache, &app.id, &env.id, version).await?;
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
    cache
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
    crate::metrics::gate_answered(answer.decision.as_str(), at.is_some());
    Ok(GateAnswer {
        at: rfc3339(at_ms),
        dry_run: at.is_some(),
        request_url: answer.request_id.map(|id| format!("/requests/{id}")),
        next_window: answer.next_window_ms.map(rfc3339),
        answer,
    })
}

pub(crate) async fn releases(
    db: &Db,
    cache: &ApiCache,
    app: &str,
    env: &str,
    version: &str,
) -> Result<std::sync::Arc<Vec<Candidate>>, Error> {
    if let Some(kept) = cache.release(app, env, version) {
        return Ok(kept);
    }
    let generation = cache.generation();
    let rows = crate::db::gate_checks::releases(db, app, env, version).await?;
    let mut candidates = Vec::with_capacity(rows.len());
    for row in &rows {
        candidates.push(candidate(db, row).await?);
    }
    let candidates = std::sync::Arc::new(candidates);
    cache.keep_release(generation, app, env, version, candidates.clone());
    Ok(candidates)
}

pub(crate) async fn candidate(db: &Db, row: &q::RequestRow) -> Result<Candidate, Error> {
    let decisions = crate::db::decisions::decisions(&db.pool, row.id).await?;
    Ok(Candidate {
        id: row.id,
        state: row.state,
        artifact: row.artifact.clone(),
        requester_id: row.requester_id,
        scheduled_at: row.scheduled_at,
        policy: row.policy.clone(),
        approvals: crate::service::lifecycle::approvals(&decisions),
        emergency: row
            .change
            .is_emergency()
            .then(|| row.change.note().to_owned()),
        rollback_of: row.change.rollback_of(),
    })
}
