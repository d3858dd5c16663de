//! Release request use cases: submit, decide, cancel, edit, and approvals lapsing. Each loads
//! the request once, runs its event through the lifecycle and applies it in one transaction.

use super::error::{Error, Result};
use super::lifecycle::{change, claim};
pub use super::requesters::not_allowed;
use super::requesters::policy_for;
use crate::catalog::store::ActiveCatalog;
use crate::db::apply::{apply, Target};
use crate::db::requests::{self as q, NewRequest, RequestRow};
use crate::db::users::User;
use crate::db::{now_ms, Db, Write};
use crate::domain::change::{self, Change};
use crate::domain::lifecycle::{self, Effect, Event, Subject, Viewer};
use crate::domain::request::{self, Draft, RawDraft, State};
use crate::domain::Catalog;

use crate::domain::lifecycle::CHANGED_MEANWHILE;
pub use crate::domain::lifecycle::{voided_reason, Verdict, MAX_REASON};

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
    /// When the change was committed, if the pipeline said.
    pub commit_at: Option<i64>,
    /// When it is opened: now, unless the demo's history is being written.
    pub opened_at: Option<i64>,
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
        commit_at: None,
        opened_at: None,
    };
}

/// The viewer a use case acts for: operations are members of an ops team or administrators.
pub fn viewer(user: &User, is_ops: bool) -> Viewer {
    Viewer {
        user_id: user.id,
        teams: user.teams.clone(),
        ops: is_ops || user.is_admin,
    }
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
    tx: &mut Write,
    active: &ActiveCatalog,
    user: &User,
    application_id: &str,
    environment_id: &str,
    raw: &RawDraft,
    origin: &Origin<'_>,
) -> Result<(i64, i64)> {
    let catalog = &active.catalog;
    let app = catalog
        .application(application_id)
        .ok_or_else(|| Error::NotFound(format!("There is no application {application_id}.")))?;
    let env = app.environment(environment_id).ok_or_else(|| {
        Error::NotFound(format!("{} has no environment {environment_id}.", app.name))
    })?;
    if !env.policy.may_open(&user.teams) {
        return Err(not_allowed(catalog, user, app, env));
    }
    let now = origin.opened_at.unwrap_or_else(now_ms);
    let (draft, mut change) = match (request::validate(app, raw, now), change::requested(raw)) {
        (Ok(draft), Ok(change)) => (draft, change),
        (draft, change) => {
            let mut errors = draft.err().unwrap_or_default();
            errors.extend(change.err().unwrap_or_default());
            return Err(Error::Invalid(errors));
        }
    };
    let mut policy = policy_for(catalog, user, app, env, &change)?;
    // A normal request a person or a pipeline opens may meet a standard-change rule (the demo's
    // made-up past keeps to the normal way).
    let mut standard_unmet = None;
    if change == Change::Normal && origin.opened_at.is_none() {
        match super::standard_changes::evaluate(tx, application_id, env, &draft).await? {
            Some(Ok(rule)) => {
                policy = env.policy.for_standard(&rule);
                change = Change::Standard { rule };
            }
            Some(Err(unmet)) => standard_unmet = Some(unmet),
            None => {}
        }
    }
    if let Some(of) = change.rollback_of() {
        super::rollbacks::check(tx, (application_id, environment_id), of, &draft).await?;
    }
    let new = Subject {
        state: None,
        requester_id: user.id,
        scheduled_at: draft.scheduled_at,
        self_deploy: origin.self_deploy,
        approvals: Vec::new(),
        retryable: false,
    };
    let event = Event::Submitted {
        by: user.id,
        version: draft.version.clone(),
        origin: origin.kind.to_owned(),
        on_behalf: origin
            .on_behalf
            .map(|o| (o.token.to_owned(), o.by.to_owned())),
        change: change.clone(),
        standard_unmet,
    };
    let mut t = lifecycle::transition(&new, &event, &policy, now)?;
    if origin.opened_at.is_some() {
        t = super::lifecycle::past(t);
    }
    let id = q::insert(
        tx,
        &NewRequest {
            application_id,
            environment_id,
            requester_id: user.id,
            draft: &draft,
            state: t.state,
            policy: &policy,
            catalog_version_id: active.version.as_ref().map(|v| v.id),
            origin: origin.kind,
            pipeline_url: origin.pipeline_url,
            self_deploy: origin.self_deploy,
            commit_at: origin.commit_at,
            change: &change,
            now,
        },
    )
    .await?;
    let target = Target {
        id,
        requester_id: user.id,
        application_id,
        environment_id,
        version: &draft.version,
        state: t.state,
        delegation: policy.delegation,
    };
    apply(tx, catalog, target, &t, now).await?;
    tracing::info!(
        request = id,
        state = t.state.as_str(),
        origin = origin.kind,
        "request submitted"
    );
    Ok((id, now))
}

/// Exactly `approve` or `reject`: anything else is refused, never read as a yes.
pub fn verdict(text: &str) -> Result<Verdict> {
    match text {
        "approve" => Ok(Verdict::Approve),
        "reject" => Ok(Verdict::Reject),
        _ => Err(Error::invalid(
            "verdict",
            "The verdict must be approve or reject.",
        )),
    }
}

/// Approves or rejects `request_id` as `user`, who saw it at `revision`; the state afterwards.
#[tracing::instrument(skip(db, catalog, user, comment), fields(user = %user.username))]
pub async fn decide(
    db: &Db,
    catalog: &Catalog,
    user: &User,
    request_id: i64,
    revision: i64,
    verdict: Verdict,
    comment: &str,
) -> Result<Decided> {
    let now = now_ms();
    let seats = super::delegation::seats(db, user, now).await?;
    let mut tx = db.write().await?;
    let loaded = claim(&mut tx, request_id, revision, now, CHANGED_MEANWHILE).await?;
    let by = viewer(user, false);
    let (subject, policy) = (&loaded.subject, &loaded.row.policy);
    let event = super::delegation::decision(subject, policy, now, &by, &seats, verdict, comment);
    let t = change(&mut tx, catalog, &loaded, &event, now).await?;
    tx.commit().await?;
    tracing::info!(
        request = request_id,
        state = t.state.as_str(),
        "decision recorded"
    );
    Ok(Decided { state: t.state })
}

/// The outcome of a decision: the request's state afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decided {
    pub state: State,
}

/// Cancels an open request: its requester or an ops member may.
#[tracing::instrument(skip(db, catalog, user, reason), fields(user = %user.username))]
pub async fn cancel(
    db: &Db,
    catalog: &Catalog,
    user: &User,
    is_ops: bool,
    request_id: i64,
    revision: i64,
    reason: &str,
) -> Result<()> {
    let now = now_ms();
    let event = Event::Cancelled {
        by: viewer(user, is_ops),
        reason: reason.to_owned(),
    };
    let mut tx = db.write().await?;
    let loaded = claim(&mut tx, request_id, revision, now, CHANGED_MEANWHILE).await?;
    change(&mut tx, catalog, &loaded, &event, now).await?;
    tx.commit().await?;
    Ok(())
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

/// The stored request as the draft it was validated into.
fn stored_draft(row: &RequestRow) -> Draft {
    Draft {
        version: row.version.clone(),
        artifact: row.artifact.clone(),
        title: row.title.clone(),
        summary: row.summary.clone(),
        risk: row.risk,
        rollback_plan: row.rollback_plan.clone(),
        scheduled_at: row.scheduled_at,
        timezone: row.timezone.clone(),
        fields: row.fields.clone(),
    }
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
    let loaded = claim(&mut tx, request_id, revision, now, CHANGED_MEANWHILE).await?;
    let row = &loaded.row;
    // Who may edit, and when, before the form is read.
    if let Some(refused) = lifecycle::edit_refusal(&loaded.subject, &viewer(user, false)) {
        return Err(refused.into());
    }
    let app = active
        .catalog
        .application(&row.application_id)
        .ok_or_else(|| {
            Error::Conflict(format!(
                "The application {} is no longer in the catalog; this request cannot be edited.",
                row.application_id
            ))
        })?;
    let before = stored_draft(row);
    let mut raw = raw.clone();
    if raw.title.trim() == request::default_title(app, &before.version) {
        // The title was the default one: it follows the new version.
        raw.title.clear();
    }
    let mut after = request::validate(app, &raw, now).map_err(Error::Invalid)?;
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
            state: row.state,
        });
    }
    let event = Event::Edited {
        by: viewer(user, false),
        before: Box::new(before),
        after: Box::new(after),
    };
    let t = change(&mut tx, &active.catalog, &loaded, &event, now).await?;
    tx.commit().await?;
    let (voided, material) = t
        .effects
        .iter()
        .find_map(|e| match e {
            Effect::VoidApprovals { count, material } => Some((*count, material.clone())),
            _ => None,
        })
        .unwrap_or_default();
    tracing::info!(
        request = request_id,
        voided,
        state = t.state.as_str(),
        "request edited"
    );
    Ok(Edited {
        changed,
        voided,
        material,
        state: t.state,
    })
}
