//! A request's page: what it asks, where its approvals and its deployment stand, its timeline
//! and what the viewer may do; and who may read it.

use super::timeline::*;
use super::views::format_ms;
use crate::db::decisions::{self, DecisionRow};
use crate::db::requests::{self as q, RequestRow};
use crate::db::users::User;
use crate::db::{now_ms, users, Db};
use crate::domain::approval::{self, Evaluation};
use crate::domain::lifecycle::{self as lifecycle};
use crate::domain::request::State;
use crate::domain::{Catalog, Policy};
use crate::service::error::Error;
use crate::service::lifecycle::subject;
use app::model::*;
use std::collections::BTreeMap;

/// "2026-12-01 14:30 Europe/Paris (13:30 UTC)", or the UTC time alone for a UTC schedule.
pub fn format_in_zone(ms: i64, zone: &str) -> String {
    let (Ok(at), Ok(tz)) = (
        jiff::Timestamp::from_millisecond(ms),
        jiff::tz::TimeZone::get(zone),
    ) else {
        return format_ms(ms);
    };
    if zone == "UTC" {
        return format_ms(ms);
    }
    format!(
        "{} {zone} ({})",
        at.to_zoned_datetime(tz).strftime("%Y-%m-%d %H:%M"),
        at.strftime("%H:%M UTC")
    )
}

/// "2026-12-01 14:30 CET": a list's time, short, in the viewer's zone (UTC when it is unknown).
pub fn format_local(ms: i64, zone: &str) -> String {
    match (
        jiff::Timestamp::from_millisecond(ms),
        jiff::tz::TimeZone::get(zone),
    ) {
        (Ok(at), Ok(tz)) => at
            .to_zoned_datetime(tz)
            .strftime("%Y-%m-%d %H:%M %Z")
            .to_string(),
        _ => format_ms(ms),
    }
}

/// Whether `user` may read the request `row`: its requester always, the teams its frozen policy
/// names (they may be asked to approve it even after the catalog changed), anyone else as the
/// catalog says of its application (see [`Catalog::may_read`]).
pub fn may_read(catalog: &Catalog, user: &User, is_ops: bool, row: &q::RequestRow) -> bool {
    let named_by_policy = || user.teams.iter().any(|t| row.policy.names_team(t));
    row.requester_id == user.id
        || catalog.may_read(&row.application_id, &user.teams, user.is_admin || is_ops)
        || named_by_policy()
}

/// Whether `user`, whom the plain rule ([`may_read`]) refuses, reads `row` as a delegate (see
/// [`stands_in`]), its decisions read here.
pub async fn read_as_delegate(
    db: &Db,
    user: &User,
    is_ops: bool,
    row: &RequestRow,
    seats: &[crate::service::delegation::Seat],
    now: i64,
) -> Result<bool, Error> {
    let decisions = decisions::decisions(&db.pool, row.id).await?;
    Ok(stands_in(user, is_ops, row, &decisions, seats, now))
}

/// Whether `user` reads `row` as a delegate: they may decide on it now in the place of an away
/// approver among `seats`, or decided on it so (`decisions` are its own).
fn stands_in(
    user: &User,
    is_ops: bool,
    row: &RequestRow,
    decisions: &[DecisionRow],
    seats: &[crate::service::delegation::Seat],
    now: i64,
) -> bool {
    if decisions.iter().any(|d| d.acted_by == Some(user.id)) {
        return true;
    }
    if seats.is_empty() {
        return false;
    }
    let by = crate::service::requests::viewer(user, is_ops);
    let waiting = subject(row, decisions, false);
    crate::service::delegation::deciding_for(&waiting, &row.policy, now, &by, seats).is_some()
}

/// The refusal a person gets for an application they may not read.
pub fn unreadable(catalog: &Catalog, app_id: &str) -> Error {
    let name = catalog
        .application(app_id)
        .map_or(app_id, |a| a.name.as_str());
    Error::Forbidden(format!(
        "Only the teams of {name} (and operations) may read its requests."
    ))
}

/// Refuses a viewer who may not read the request `id` (tickets follow their request).
pub async fn readable(
    state: &crate::state::AppState,
    viewer: &Viewer,
    id: i64,
) -> Result<(), Error> {
    let active = state.catalog.current();
    let row = q::get(&state.db.pool, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("There is no request {id}.")))?;
    let user = super::viewer::user_of(viewer);
    if may_read(&active.catalog, &user, viewer.roles.ops, &row) {
        return Ok(());
    }
    let now = now_ms();
    let seats = crate::service::delegation::seats(&state.db, &user, now).await?;
    if read_as_delegate(&state.db, &user, viewer.roles.ops, &row, &seats, now).await? {
        Ok(())
    } else {
        Err(unreadable(&active.catalog, &row.application_id))
    }
}

pub(super) fn state_words(state: State) -> String {
    state.as_str().replace('_', " ")
}

pub(super) fn stages(
    catalog: &Catalog,
    policy: &Policy,
    eval: &Evaluation,
    requester: i64,
    members: &[(String, i64, String)],
    names: &BTreeMap<i64, String>,
    open: bool,
) -> Vec<StageView> {
    let counted_anywhere: Vec<i64> = eval
        .stages
        .iter()
        .flat_map(|s| s.rules.iter().flat_map(|r| r.counted.iter().copied()))
        .collect();
    eval.stages
        .iter()
        .enumerate()
        .map(|(i, stage)| StageView {
            name: stage.name.clone(),
            status: match eval.current {
                Some(c) if c == i && open => "current",
                Some(c) if c < i => "waiting",
                Some(c) if c == i => "stopped",
                _ => "done",
            }
            .to_owned(),
            rules: stage
                .rules
                .iter()
                .map(|r| RuleView {
                    text: format!("{} of {}", r.needed, catalog.team_name(&r.team)),
                    approved_by: r
                        .counted
                        .iter()
                        .map(|u| names.get(u).cloned().unwrap_or_default())
                        .collect(),
                    still_needed: r
                        .needed
                        .saturating_sub(u32::try_from(r.counted.len()).unwrap_or(u32::MAX)),
                    eligible: members
                        .iter()
                        .filter(|(team, id, _)| {
                            team == &r.team
                                && (policy.requester_can_approve || *id != requester)
                                && (policy.approver_may_count_twice
                                    || !counted_anywhere.contains(id))
                        })
                        .map(|(_, _, name)| name.clone())
                        .collect(),
                })
                .collect(),
        })
        .collect()
}

pub async fn request(
    db: &Db,
    catalog: &Catalog,
    user: &User,
    is_ops: bool,
    id: i64,
    notice: Option<Notice>,
) -> Result<RequestView, Error> {
    let row = q::get(&db.pool, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("There is no request {id}.")))?;
    let now = now_ms();
    let seats = crate::service::delegation::seats(db, user, now).await?;
    let decisions = decisions::decisions(&db.pool, id).await?;
    let by = crate::service::requests::viewer(user, is_ops);
    if !may_read(catalog, user, is_ops, &row)
        && !stands_in(user, is_ops, &row, &decisions, &seats, now)
    {
        return Err(unreadable(catalog, &row.application_id));
    }
    let events = crate::db::audit::events(&db.pool, id).await?;
    let tickets = super::tickets::of_request(db, catalog, id).await?;
    let members = users::members(db).await?;
    let runs = crate::db::dispatch::runs(&db.pool, id).await?;
    let job = crate::db::dispatch::job_of(&db.pool, id).await?;
    let policy = &row.policy;
    let retryable = runs
        .iter()
        .any(|r| r.state == "failed" || r.state == "cancelled");
    let request = subject(&row, &decisions, retryable);
    let eval = approval::evaluate(policy, row.requester_id, &request.approvals, now);
    let actions = lifecycle::allowed_actions(&request, policy, &by, now);
    let seat = crate::service::delegation::deciding_for(&request, policy, now, &by, &seats);
    let names = names(db, &row, &decisions).await?;
    let pending = row.state == State::PendingApproval;
    let app = catalog.application(&row.application_id);
    let field_label = |k: &str| {
        app.and_then(|a| a.fields.iter().find(|f| f.id == k))
            .map_or_else(|| k.to_owned(), |f| f.label.clone())
    };
    let fields = &row.fields;
    let mut warnings = super::conflicts::warnings(db, catalog, &row, now).await?;
    if pending {
        let unmet = events.iter().rev().find_map(|e| match &e.event {
            crate::domain::audit::AuditEvent::StandardNotMet { detail } => Some(detail),
            _ => None,
        });
        if let Some(detail) = unmet {
            warnings.insert(
                0,
                format!("Not a standard change, so it needs approval: {detail}."),
            );
        }
    }
    let may_roll_back = app
        .and_then(|a| a.environment(&row.environment_id))
        .is_some_and(|e| e.policy.for_rollback().may_request(&user.teams));
    let rollback_to = if may_roll_back {
        crate::service::rollbacks::target(&db.pool, &row)
            .await?
            .map(|t| t.version)
    } else {
        None
    };
    Ok(RequestView {
        warnings,
        rollback_to,
        rollback_of: row.change.rollback_of(),
        standard: match &row.change {
            crate::domain::change::Change::Standard { rule } => Some(rule.clone()),
            _ => None,
        },
        env_id: row.environment_id.clone(),
        id,
        title: row.title.clone(),
        app_name: app.map_or_else(|| row.application_id.clone(), |a| a.name.clone()),
        env_name: app
            .and_then(|a| a.environment(&row.environment_id))
            .map_or_else(|| row.environment_id.clone(), |e| e.name.clone()),
        version: row.version.clone(),
        artifact: row.artifact.clone(),
        summary: row.summary.clone(),
        risk: row.risk.as_str().to_owned(),
        rollback_plan: row.rollback_plan.clone(),
        schedule: row.scheduled_at.map_or_else(
            || "As soon as approved".to_owned(),
            |ms| format_in_zone(ms, &row.timezone),
        ),
        fields: fields
            .iter()
            .map(|(k, v)| {
                let shown = match v {
                    serde_json::Value::Bool(b) => if *b { "yes" } else { "no" }.to_owned(),
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (field_label(k), shown)
            })
            .collect(),
        state: state_words(row.state),
        requester: names.get(&row.requester_id).cloned().unwrap_or_default(),
        created_at: format_ms(row.created_at),
        pipeline: (row.origin == "pipeline").then(|| row.pipeline_url.clone()),
        app_id: row.application_id.clone(),
        self_deploy: row.self_deploy,
        emergency: row
            .change
            .is_emergency()
            .then(|| row.change.note().to_owned()),
        tickets,
        revision: row.revision,
        catalog_version: row.catalog_version_id,
        stages: stages(
            catalog,
            policy,
            &eval,
            row.requester_id,
            &members,
            &names,
            pending,
        ),
        deployment: super::deployment::view(catalog, &row, &runs, actions.retry),
        waiting: job
            .filter(|(state, note, _)| {
                !note.is_empty() && (state == "queued" || state == "running")
            })
            .map(|(_, note, _)| note),
        timeline: events
            .iter()
            .map(|e| EventView {
                at: format_ms(e.at),
                actor: e.actor.clone(),
                text: event_text(catalog, e),
            })
            .collect(),
        can_decide: actions.decide || seat.is_some(),
        deciding_for: seat.map(|s| s.name.clone()).unwrap_or_default(),
        can_edit: actions.edit,
        can_stop: actions.stop,
        can_cancel: actions.cancel,
        notice,
    })
}

pub(super) async fn names(
    db: &Db,
    row: &RequestRow,
    decisions: &[DecisionRow],
) -> Result<BTreeMap<i64, String>, sqlx::Error> {
    let mut names = BTreeMap::new();
    for id in std::iter::once(row.requester_id).chain(decisions.iter().map(|d| d.user_id)) {
        if let std::collections::btree_map::Entry::Vacant(slot) = names.entry(id) {
            if let Some(u) = users::by_id(db, id).await? {
                slot.insert(u.display_name);
            }
        }
    }
    Ok(names)
}
