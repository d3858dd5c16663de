//! Release request use cases: submit, approve, reject, cancel. Each is one transaction that
//! writes the change, its audit event and, for the final approval, the dispatch job.

use crate::db::requests::{self as q, NewDecision, NewRequest, RequestRow, Tx};
use crate::db::users::User;
use crate::db::{now_ms, Db};
use crate::domain::approval::{self, Approval, Evaluation};
use crate::domain::policy::describe_teams;
use crate::domain::request::{self, Draft, FieldErrors, RawDraft, Risk, State};
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

/// Where a request comes from.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    /// `portal` (the form) or `pipeline` (the API).
    pub kind: &'a str,
    pub pipeline_url: &'a str,
    /// The pipeline deploys itself once approved: approval does not dispatch.
    pub self_deploy: bool,
    /// A pipeline's token opened it in the requester's name.
    pub on_behalf: Option<OnBehalf<'a>>,
}

/// The token that opened a request in someone else's name, and that token's own user.
#[derive(Debug, Clone, Copy)]
pub struct OnBehalf<'a> {
    pub token: &'a str,
    pub by: &'a str,
}

impl Origin<'_> {
    pub const PORTAL: Origin<'static> = Origin {
        kind: "portal",
        pipeline_url: "",
        self_deploy: false,
        on_behalf: None,
    };
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
    let mut tx = db.write().await?;
    let (id, _) = submit_in(
        &mut tx,
        active,
        user,
        application_id,
        environment_id,
        raw,
        &Origin::PORTAL,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Submits in the caller's transaction (which commits it): the request's id and the time.
pub async fn submit_in(
    tx: &mut Tx<'_>,
    active: &ActiveCatalog,
    user: &User,
    application_id: &str,
    environment_id: &str,
    raw: &RawDraft,
    origin: &Origin<'_>,
) -> Result<(i64, i64)> {
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
    let fields = serde_json::to_string(&draft.fields)?;
    let id = q::insert(
        tx,
        &NewRequest {
            application_id,
            environment_id,
            requester_id: user.id,
            body: body(&draft, &fields),
            state: state.as_str(),
            policy: &serde_json::to_string(&env.policy)?,
            catalog_version_id: active.version.as_ref().map(|v| v.id),
            origin: origin.kind,
            pipeline_url: origin.pipeline_url,
            self_deploy: origin.self_deploy,
            now,
        },
    )
    .await?;
    q::event(
        tx,
        id,
        Some(user.id),
        "submitted",
        &match origin.on_behalf {
            None => json!({ "version": draft.version, "origin": origin.kind }),
            Some(o) => json!({
                "version": draft.version,
                "origin": origin.kind,
                "token": o.token,
                "on_behalf_by": o.by,
            }),
        },
        now,
    )
    .await?;
    if state != State::PendingApproval {
        q::event(
            tx,
            id,
            None,
            "approved",
            &json!({ "reason": "the policy needs no approval" }),
            now,
        )
        .await?;
        if !origin.self_deploy {
            q::enqueue_dispatch(tx, id, draft.scheduled_at.unwrap_or(now), now).await?;
        }
    }
    settle(tx, id, now).await?;
    tracing::info!(
        request = id,
        state = state.as_str(),
        origin = origin.kind,
        "request submitted"
    );
    Ok((id, now))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Approve,
    Reject,
}

impl Verdict {
    /// Exactly `approve` or `reject`: anything else is refused, never read as a yes.
    pub fn parse(text: &str) -> Result<Verdict> {
        match text {
            "approve" => Ok(Verdict::Approve),
            "reject" => Ok(Verdict::Reject),
            _ => Err(RequestError::Invalid(
                [(
                    "verdict".to_owned(),
                    "The verdict must be approve or reject.".to_owned(),
                )]
                .into(),
            )),
        }
    }
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

/// Records whom `request_id` asks now (see `approval::teams_to_ask`), in the transaction of the
/// change: every change to a request ends here, so the approver queue can find it by team.
async fn settle(tx: &mut q::Tx<'_>, request_id: i64, now: i64) -> Result<()> {
    let teams = match q::get(&mut **tx, request_id).await? {
        Some(row) if row.state == State::PendingApproval.as_str() => {
            let decisions = q::decisions(&mut **tx, request_id).await?;
            let (policy, eval) = evaluate(&row, &decisions, now)?;
            approval::teams_to_ask(&policy, &eval)
        }
        _ => Vec::new(),
    };
    q::set_waits(tx, request_id, &teams).await?;
    Ok(())
}

/// Recomputes whom every request waiting for approval asks, in one transaction: at start-up, so
/// requests stored by an earlier version (or seeded directly) are in the queue.
pub async fn settle_all(db: &Db) -> Result<usize> {
    let now = now_ms();
    let mut tx = db.write().await?;
    q::clear_stale_waits(&mut tx).await?;
    let pending = q::all_pending(&mut tx).await?;
    for (row, decisions) in &pending {
        let (policy, eval) = evaluate(row, decisions, now)?;
        q::set_waits(&mut tx, row.id, &approval::teams_to_ask(&policy, &eval)).await?;
    }
    tx.commit().await?;
    Ok(pending.len())
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
    if let Some(p) = crate::domain::text::block_problem(comment, 10_000) {
        return Err(RequestError::Invalid([("comment".to_owned(), p)].into()));
    }
    let now = now_ms();
    let mut tx = db.write().await?;
    let row = claim(&mut tx, request_id, revision, now).await?;
    if State::parse(&row.state) != Some(State::PendingApproval) {
        return Err(changed_meanwhile());
    }
    let decisions = q::decisions(&mut **tx, request_id).await?;
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
    let stage_number = i64::try_from(stage).unwrap_or_default();
    // Only a lapsed decision of theirs can be here (a live one would have refused them above).
    q::void_own_decisions(&mut tx, request_id, user.id, stage_number).await?;
    q::insert_decision(
        &mut tx,
        &NewDecision {
            request_id,
            user_id: user.id,
            teams: &user.teams,
            stage: stage_number,
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
            let decisions = q::decisions(&mut **tx, request_id).await?;
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
                // A pipeline that deploys itself passes the gate instead.
                if !row.self_deploy {
                    q::enqueue_dispatch(&mut tx, request_id, row.scheduled_at.unwrap_or(now), now)
                        .await?;
                }
                state
            } else {
                State::PendingApproval
            }
        }
    };
    q::set_state(&mut tx, request_id, state.as_str()).await?;
    settle(&mut tx, request_id, now).await?;
    tx.commit().await?;
    tracing::info!(
        request = request_id,
        state = state.as_str(),
        "decision recorded"
    );
    Ok(Decided { state })
}

/// The longest reason a cancellation takes (the form's own limit).
pub const MAX_REASON: usize = 2000;

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
    if let Some(p) = crate::domain::text::line_problem(reason.trim(), MAX_REASON) {
        return Err(RequestError::Invalid([("reason".to_owned(), p)].into()));
    }
    let now = now_ms();
    let mut tx = db.write().await?;
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
    .execute(&mut **tx)
    .await?;
    settle(&mut tx, request_id, now).await?;
    tx.commit().await?;
    Ok(())
}

/// A validated draft as the columns it is stored in; `fields` is its extra fields as JSON.
fn body<'a>(d: &'a Draft, fields: &'a str) -> q::Body<'a> {
    q::Body {
        title: &d.title,
        version: &d.version,
        artifact: &d.artifact,
        summary: &d.summary,
        risk: d.risk.as_str(),
        rollback_plan: &d.rollback_plan,
        scheduled_at: d.scheduled_at,
        timezone: &d.timezone,
        fields,
    }
}

/// What an edit did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edited {
    /// The names of the fields that changed; empty when the form was saved unchanged.
    pub changed: Vec<&'static str>,
    /// How many approvals the edit voided.
    pub voided: u64,
    /// The material fields the edit changed (what voided them), as [`request::material_changes`].
    pub material: Vec<String>,
    pub state: State,
}

/// "the risk and the customer impact changed", in the words of the form.
pub fn voided_reason(material: &[String]) -> String {
    let names: Vec<String> = material
        .iter()
        .map(|m| format!("the {}", m.trim_start_matches("fields.").replace('_', " ")))
        .collect();
    format!("{} changed", crate::domain::text::list_words(&names, "and"))
}

/// The stored request as the draft it was validated into.
fn stored_draft(row: &RequestRow) -> Result<Draft> {
    Ok(Draft {
        version: row.version.clone(),
        artifact: row.artifact.clone(),
        title: row.title.clone(),
        summary: row.summary.clone(),
        risk: Risk::parse(&row.risk).unwrap_or(Risk::Low),
        rollback_plan: row.rollback_plan.clone(),
        scheduled_at: row.scheduled_at,
        timezone: row.timezone.clone(),
        fields: serde_json::from_str(&row.fields)?,
    })
}

/// Edits a request that has not started deploying, as its requester, who saw it at `revision`.
/// A material change (see [`request::material_changes`]) voids the approvals given so far: the
/// request needs them again.
#[tracing::instrument(skip(db, active, user, raw), fields(user = %user.username))]
pub async fn edit(
    db: &Db,
    active: &ActiveCatalog,
    user: &User,
    request_id: i64,
    revision: i64,
    raw: &RawDraft,
) -> Result<Edited> {
    let now = now_ms();
    let mut tx = db.write().await?;
    let row = claim(&mut tx, request_id, revision, now).await?;
    if row.requester_id != user.id {
        return Err(RequestError::Forbidden(
            "Only the requester may edit a request.".into(),
        ));
    }
    let state = State::parse(&row.state).unwrap_or(State::Failed);
    if !state.is_open() {
        return Err(RequestError::Conflict(format!(
            "This request is {} and can no longer be edited.",
            row.state.replace('_', " ")
        )));
    }
    let app = active
        .catalog
        .application(&row.application_id)
        .ok_or_else(|| {
            RequestError::Conflict(format!(
                "The application {} is no longer in the catalog; this request cannot be edited.",
                row.application_id
            ))
        })?;
    let before = stored_draft(&row)?;
    let mut raw = raw.clone();
    if raw.title.trim() == request::default_title(app, &before.version) {
        // The title was the default one: it follows the new version.
        raw.title.clear();
    }
    let mut after = request::validate(app, &raw, now).map_err(RequestError::Invalid)?;
    if after.scheduled_at.is_some() && after.scheduled_at == before.scheduled_at {
        // An unchanged schedule stays as it was, even when the zone field now reads differently.
        after.timezone.clone_from(&before.timezone);
    }
    let changed = request::changed_fields(&before, &after);
    if changed.is_empty() {
        return Ok(Edited {
            changed,
            voided: 0,
            material: Vec::new(),
            state,
        });
    }
    let fields = serde_json::to_string(&after.fields)?;
    q::update_body(&mut tx, request_id, &body(&after, &fields)).await?;
    let policy: Policy = serde_json::from_str(&row.policy)?;
    let material = request::material_changes(&policy, &before, &after);
    let voided = if material.is_empty() {
        0
    } else {
        q::void_decisions(&mut tx, request_id).await?
    };
    q::event(
        &mut tx,
        request_id,
        Some(user.id),
        "edited",
        &json!({
            "fields": changed,
            "from_version": before.version,
            "to_version": after.version,
        }),
        now,
    )
    .await?;
    let mut new_state = state;
    if voided > 0 {
        q::event(
            &mut tx,
            request_id,
            None,
            "approvals_voided",
            &json!({ "count": voided, "reason": voided_reason(&material), "fields": material }),
            now,
        )
        .await?;
    }
    if state != State::PendingApproval {
        if policy.stages.is_empty() {
            new_state = request::approved_state(after.scheduled_at, now);
            q::reschedule_dispatch(&mut tx, request_id, after.scheduled_at.unwrap_or(now)).await?;
        } else if voided > 0 {
            new_state = State::PendingApproval;
            q::withdraw_dispatch(&mut tx, request_id).await?;
        } else {
            new_state = request::approved_state(after.scheduled_at, now);
            q::reschedule_dispatch(&mut tx, request_id, after.scheduled_at.unwrap_or(now)).await?;
        }
        q::set_state(&mut tx, request_id, new_state.as_str()).await?;
    }
    settle(&mut tx, request_id, now).await?;
    tx.commit().await?;
    tracing::info!(
        request = request_id,
        voided,
        state = new_state.as_str(),
        "request edited"
    );
    Ok(Edited {
        changed,
        voided,
        material,
        state: new_state,
    })
}

/// Sends back to approval every approved request whose approvals lapsed (the policy's approval
/// lifetime) before its dispatch started. Returns the requests it changed.
pub async fn lapse_approvals(db: &Db, now: i64) -> Result<Vec<i64>> {
    let mut lapsed = Vec::new();
    for row in q::awaiting_dispatch(&db.pool).await? {
        if lapse_one(db, &row, now).await? {
            lapsed.push(row.id);
        }
    }
    Ok(lapsed)
}

/// Sends `row` back to approval when its approvals lapsed before dispatch; true when it did.
pub async fn lapse_one(db: &Db, row: &RequestRow, now: i64) -> Result<bool> {
    let policy: Policy = serde_json::from_str(&row.policy)?;
    if policy.stages.is_empty() || policy.approval_lifetime_secs.is_none() {
        return Ok(false);
    }
    let decisions = q::decisions(&db.pool, row.id).await?;
    let (_, eval) = evaluate(row, &decisions, now)?;
    if eval.complete() {
        return Ok(false);
    }
    let mut tx = db.write().await?;
    // Another replica, an edit or a cancellation got there first: leave it to them.
    if !q::bump_revision(&mut tx, row.id, row.revision, now).await?
        || !q::withdraw_dispatch(&mut tx, row.id).await?
    {
        return Ok(false);
    }
    q::set_state(&mut tx, row.id, State::PendingApproval.as_str()).await?;
    q::event(
        &mut tx,
        row.id,
        None,
        "approvals_lapsed",
        &json!({ "reason": "the approvals expired before the deployment started" }),
        now,
    )
    .await?;
    settle(&mut tx, row.id, now).await?;
    tx.commit().await?;
    tracing::info!(
        request = row.id,
        "approvals lapsed; the request needs them again"
    );
    Ok(true)
}
