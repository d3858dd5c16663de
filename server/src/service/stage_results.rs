//! Stage results a pipeline posts: kept for history, and followed by a request whose pipeline
//! deploys it.

use super::input::{commit_time, parse_time, CommitInput};
use super::tokens::authorize;
use crate::db::apply::{apply, Target};
use crate::db::requests as q;
use crate::db::stage_results::NewStageResult;
use crate::db::tokens::TokenRow;
use crate::db::{now_ms, Db};
use crate::domain::lifecycle::{self, Event, StageStatus};
use crate::domain::text;
use crate::domain::Catalog;
use crate::service::error::Error;
use crate::service::lifecycle::load;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A stage of the pipeline, as it reports it.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StageInput {
    pub stage: String,
    /// started, succeeded or failed.
    pub status: String,
    /// When the stage started (RFC 3339).
    #[serde(default)]
    pub started_at: Option<String>,
    /// When it finished (RFC 3339): not before `started_at`.
    #[serde(default)]
    pub finished_at: Option<String>,
    /// Named numbers: tests_passed, tests_failed, coverage, duration_ms …
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, f64>)]
    pub metrics: BTreeMap<String, serde_json::Value>,
    /// When the change was committed (RFC 3339), if the request did not say: the earliest time
    /// said counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_at: Option<String>,
    /// The commits the release brings, with their times.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commits: Vec<CommitInput>,
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
    // Taken as sent, never trimmed: the API's document describes exactly what is accepted.
    let stage = input.stage.as_str();
    if let Some(p) = text::stage_problem(stage) {
        errors.insert("stage".into(), p);
    }
    let status = input.status.as_str();
    if !matches!(status, "started" | "succeeded" | "failed") {
        errors.insert("status".into(), "One of started, succeeded, failed.".into());
    }
    let started = parse_time("started_at", input.started_at.as_deref(), &mut errors);
    let finished = parse_time("finished_at", input.finished_at.as_deref(), &mut errors);
    if let (Some(s), Some(f)) = (started, finished) {
        if f < s {
            errors.insert(
                "finished_at".into(),
                "A stage cannot finish before it starts.".into(),
            );
        }
    }
    let commit_at = commit_time(input.commit_at.as_deref(), &input.commits, &mut errors);
    if input.metrics.len() > 50 {
        errors.insert("metrics".into(), "At most 50 metrics.".into());
    }
    for (name, value) in &input.metrics {
        if let Some(p) = text::metric_name_problem(name) {
            errors.insert(format!("metrics.{name}"), p);
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
        commit_at,
    };
    let t = lifecycle::transition(&loaded.subject, &event, &loaded.row.policy, now)?;
    if t.state != loaded.row.state
        && !q::bump_revision(&mut tx, id, loaded.row.revision, now).await?
    {
        return Err(Error::Conflict(format!(
            "Request #{id} changed while this result was recorded; send it again."
        )));
    }
    let result = crate::db::stage_results::insert_stage_result(
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
