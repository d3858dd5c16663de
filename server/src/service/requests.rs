//! Release request use cases: submit, approve, reject, cancel. Each is one transaction that
//! writes the change, its audit event and, for the final approval, the dispatch job.

use crate::db::requests::{self as q, NewDecision, NewRequest, RequestRow};
use crate::db::users::User;
use crate::db::{now_ms, Db};
use crate::domain::approval::{self, Approval, Evaluation};
use crate::domain::policy::describe_teams;
use crate::domain::request::{self, FieldErrors, RawDraft, State};
use crate::domain::{Application, Catalog, Environment, Policy};
use crate::service::catalog::ActiveCatalog;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    #[error("some fields are not valid")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Storage(#[from] sqlx::Error),
    #[error("the stored request is damaged: {0}")]
    Corrupt(#[from] serde_json::Error),
}

pub type Result<T> = std::result::Result<T, RequestError>;

fn changed_meanwhile() -> RequestError {
    RequestError::Conflict(
        "This request changed while you were looking at it (someone decided, edited or cancelled it). \
         Your decision was not counted; reload to see where it stands."
            .into(),
    )
}

/// Takes the request for a change made on `revision` and reads it, or says why not.
async fn claim(tx: &mut q::Tx<'_>, request_id: i64, revision: i64, now: i64) -> Result<RequestRow> {
    let claimed = q::bump_revision(tx, request_id, revision, now).await?;
    match q::get(&mut **tx, request_id).await? {
        None => Err(RequestError::NotFound(format!(
            "There is no request {request_id}."
        ))),
        Some(_) if !claimed => Err(changed_meanwhile()),
        Some(row) => Ok(row),
    }
}

/// "team Web may not request releases of Banking to production; Fintech may."
pub fn not_allowed(
    catalog: &Catalog,
    user: &User,
    app: &Application,
    env: &Environment,
) -> RequestError {
    let who = if user.teams.is_empty() {
        "you belong to no team, and nobody".to_owned()
    } else {
        let plural = if user.teams.len() == 1 {
            "team"
        } else {
            "teams"
        };
        format!("{plural} {}", describe_teams(catalog, &user.teams, "and"))
    };
    RequestError::Forbidden(format!(
        "{who} may not request releases of {} to {}; {} may.",
        app.name,
        env.name.to_lowercase(),
        describe_teams(catalog, &env.policy.requesters, "or")
    ))
}

/// Submits a release request on behalf of `user`.
#[tracing::instrument(skip(db, active, user, raw), fields(user = %user.username))]
pub async fn submit(
    db: &Db,
    active: &ActiveCatalog,
    user: &User,
    application_id: &str,
    environment_id: &str,
    raw: &RawDraft,
) -> Result<i64> {
    let catalog = &active.catalog;
    let app = catalog.application(application_id).ok_or_else(|| {
        RequestError::NotFound(format!("There is no application {application_id}."))
    })?;
    let env = app.environment(environment_id).ok_or_else(|| {
        RequestError::NotFound(format!("{} has no environment {environment_id}.", app.name))
    })?;
    if !env.policy.may_request(&user.teams) {
        return Err(not_allowed(catalog, user, app, env));
    }
    let now = now_ms();
    let draft = request::validate(app, raw, now).map_err(RequestError::Invalid)?;
    let state = if env.policy.stages.is_empty() {
        request::approved_state(draft.scheduled_at, now)
    } else {
        State::PendingApproval
    };
    let mut tx = db.pool.begin().await?;
    let id = q::insert(
        &mut tx,
        &NewRequest {
            application_id,
            environment_id,
            requester_id: user.id,
            title: &draft.title,
            version: &draft.version,
            artifact: &draft.artifact,
            summary: &draft.summary,
            risk: draft.risk.as_str(),
            rollback_plan: &draft.rollback_plan,
            scheduled_at: draft.scheduled_at,
            fields: &serde_json::to_string(&draft.fields)?,
            state: state.as_str(),
            policy: &serde_json::to_string(&env.policy)?,
            catalog_version_id: active.version.as_ref().map(|v| v.id),
            now,
        },
    )
    .await?;
    q::event(
        &mut tx,
        id,
        Some(user.id),
        "submitted",
        &json!({ "version": draft.version }),
        now,
    )
    .await?;
    if state != State::PendingApproval {
        q::event(
            &mut tx,
            id,
            None,
            "approved",
            &json!({ "reason": "the policy needs no approval" }),
            now,
        )
        .await?;
        q::enqueue_dispatch(&mut tx, id, draft.scheduled_at.unwrap_or(now), now).await?;
    }
    tx.commit().await?;
    tracing::info!(request = id, state = state.as_str(), "request submitted");
    Ok(id)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Approve,
    Reject,
}

/// The outcome of a decision: the request's state afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decided {
    pub state: State,
}

pub fn approvals(rows: &[q::DecisionRow]) -> Vec<Approval> {
    rows.iter()
        .filter(|d| d.verdict == "approve")
        .map(|d| Approval {
            user_id: d.user_id,
            teams: d.teams.clone(),
            stage: usize::try_from(d.stage).unwrap_or(usize::MAX),
            at_ms: d.decided_at,
            voided: d.voided,
        })
        .collect()
}

pub fn evaluate(
    row: &RequestRow,
    decisions: &[q::DecisionRow],
    now: i64,
) -> Result<(Policy, Evaluation)> {
    let policy: Policy = serde_json::from_str(&row.policy)?;
    let eval = approval::evaluate(&policy, row.requester_id, &approvals(decisions), now);
    Ok((policy, eval))
}

/// Approves or rejects `request_id` as `user`, who saw it at `revision`.
#[tracing::instrument(skip(db, user, comment), fields(user = %user.username))]
pub async fn decide(
    db: &Db,
    user: &User,
    request_id: i64,
    revision: i64,
    verdict: Verdict,
    comment: &str,
) -> Result<Decided> {
    let comment = comment.trim();
    if verdict == Verdict::Reject && comment.is_empty() {
        return Err(RequestError::Invalid(
            [(
                "comment".to_owned(),
                "Say why you reject this request.".to_owned(),
            )]
            .into(),
        ));
    }
    if comment.chars().count() > 10_000 {
        return Err(RequestError::Invalid(
            [(
                "comment".to_owned(),
                "Too long: 10000 characters at most.".to_owned(),
            )]
            .into(),
        ));
    }
    let now = now_ms();
    let mut tx = db.pool.begin().await?;
    let row = claim(&mut tx, request_id, revision, now).await?;
    if State::parse(&row.state) != Some(State::PendingApproval) {
        return Err(changed_meanwhile());
    }
    let decisions = q::decisions(&mut *tx, request_id).await?;
    let (policy, eval) = evaluate(&row, &decisions, now)?;
    let approvals = approvals(&decisions);
    if !approval::can_approve(
        &policy,
        row.requester_id,
        &approvals,
        now,
        user.id,
        &user.teams,
    ) {
        let why = if user.id == row.requester_id && !policy.requester_can_approve {
            "You cannot decide on your own request."
        } else {
            "None of your teams is needed at this stage of the request, or you have already decided."
        };
        return Err(RequestError::Forbidden(why.into()));
    }
    let stage = eval.current.unwrap_or_default();
    let stage_name = eval
        .stages
        .get(stage)
        .map(|s| s.name.clone())
        .unwrap_or_default();
    let verdict_text = match verdict {
        Verdict::Approve => "approve",
        Verdict::Reject => "reject",
    };
    q::insert_decision(
        &mut tx,
        &NewDecision {
            request_id,
            user_id: user.id,
            teams: &user.teams,
            stage: i64::try_from(stage).unwrap_or_default(),
            verdict: verdict_text,
            comment,
            now,
        },
    )
    .await?;
    let payload = json!({ "stage": stage_name, "comment": comment });
    let state = match verdict {
        Verdict::Reject => {
            q::event(
                &mut tx,
                request_id,
                Some(user.id),
                "rejected",
                &payload,
                now,
            )
            .await?;
            State::Rejected
        }
        Verdict::Approve => {
            q::event(
                &mut tx,
                request_id,
                Some(user.id),
                "approval",
                &payload,
                now,
            )
            .await?;
            let decisions = q::decisions(&mut *tx, request_id).await?;
            let (_, after) = evaluate(&row, &decisions, now)?;
            if after.complete() {
                let state = request::approved_state(row.scheduled_at, now);
                q::event(
                    &mut tx,
                    request_id,
                    None,
                    "approved",
                    &json!({ "reason": "every stage is satisfied" }),
                    now,
                )
                .await?;
                q::enqueue_dispatch(&mut tx, request_id, row.scheduled_at.unwrap_or(now), now)
                    .await?;
                state
            } else {
                State::PendingApproval
            }
        }
    };
    q::set_state(&mut tx, request_id, state.as_str()).await?;
    tx.commit().await?;
    tracing::info!(
        request = request_id,
        state = state.as_str(),
        "decision recorded"
    );
    Ok(Decided { state })
}

/// Cancels an open request: its requester or an ops member may.
#[tracing::instrument(skip(db, user, reason), fields(user = %user.username))]
pub async fn cancel(
    db: &Db,
    user: &User,
    is_ops: bool,
    request_id: i64,
    revision: i64,
    reason: &str,
) -> Result<()> {
    let now = now_ms();
    let mut tx = db.pool.begin().await?;
    let row = claim(&mut tx, request_id, revision, now).await?;
    if row.requester_id != user.id && !is_ops && !user.is_admin {
        return Err(RequestError::Forbidden(
            "Only the requester or operations may cancel a request.".into(),
        ));
    }
    if !State::parse(&row.state).is_some_and(State::is_open) {
        return Err(RequestError::Conflict(format!(
            "This request is {} and can no longer be cancelled.",
            row.state.replace('_', " ")
        )));
    }
    q::event(
        &mut tx,
        request_id,
        Some(user.id),
        "cancelled",
        &json!({ "reason": reason.trim() }),
        now,
    )
    .await?;
    q::set_state(&mut tx, request_id, State::Cancelled.as_str()).await?;
    sqlx::query(
        "update dispatch_jobs set state = 'cancelled' where request_id = $1 and state = 'queued'",
    )
    .bind(request_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
