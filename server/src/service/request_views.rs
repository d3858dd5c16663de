//! What the request pages show: the form, a request with its progress and timeline, the queue.

use super::error::Error;
use super::lifecycle::{approvals, subject};
use super::views::format_ms;
use crate::db::audit::EventRow;
use crate::db::decisions::{self, DecisionRow};
use crate::db::requests::{self as q, RequestRow};
use crate::db::users::User;
use crate::db::{now_ms, users, Db};
use crate::domain::approval::{self, Evaluation};
use crate::domain::audit::AuditEvent;
use crate::domain::lifecycle::{self as lifecycle, edit_refusal};
use crate::domain::policy::describe_environment;
use crate::domain::request::State;
use crate::domain::{Application, Catalog, Environment, Policy};
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

/// The stored request as the form's values, to edit it.
fn form_values(row: &RequestRow) -> BTreeMap<String, String> {
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
            other => other.to_string(),
        };
        values.insert(format!("fields.{k}"), text);
    }
    values
}

/// The form to edit request `id`, filled with what it says now (or with refused input).
/// Whether `user` may read the request `row`: its requester always, the teams its frozen policy
/// names (they may be asked to approve it even after the catalog changed), anyone else as the
/// catalog says of its application (see [`Catalog::may_read`]).
pub fn may_read(catalog: &Catalog, user: &User, is_ops: bool, row: &q::RequestRow) -> bool {
    let named_by_policy = || user.teams.iter().any(|t| row.policy.names_team(t));
    row.requester_id == user.id
        || catalog.may_read(&row.application_id, &user.teams, user.is_admin || is_ops)
        || named_by_policy()
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
    let by = super::requests::viewer(user, false);
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
fn material_words(policy: &Policy, app: &Application) -> String {
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
    if !env.policy.may_request(&user.teams) {
        return Err(super::requests::not_allowed(catalog, user, app, env));
    }
    Ok(form_view(catalog, app, env, values, errors, notice))
}

fn form_view(
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
    }
}

fn state_words(state: State) -> String {
    state.as_str().replace('_', " ")
}

/// One line of the timeline, in words.
fn event_text(e: &EventRow) -> String {
    let quoted = |v: &str| {
        if v.is_empty() {
            String::new()
        } else {
            format!(": “{v}”")
        }
    };
    match &e.event {
        AuditEvent::Submitted {
            version,
            token: Some(token),
            on_behalf_by,
            ..
        } => format!(
            "submitted version {version}, opened in their name by {} with the pipeline token “{token}”",
            on_behalf_by.as_deref().unwrap_or_default()
        ),
        AuditEvent::Submitted { version, .. } => format!("submitted version {version}"),
        AuditEvent::Approval { stage, comment } => {
            format!("approved at stage {stage}{}", quoted(comment))
        }
        AuditEvent::Rejected { stage, comment } => {
            format!("rejected at stage {stage}{}", quoted(comment))
        }
        AuditEvent::Approved { reason } => format!("Approved: {reason}"),
        AuditEvent::Cancelled { reason, .. } => format!("cancelled the request{}", quoted(reason)),
        AuditEvent::Edited {
            fields,
            from_version,
            to_version,
        } => {
            let version = if from_version == to_version {
                String::new()
            } else {
                format!(" (version {from_version} → {to_version})")
            };
            format!("edited the {}{version}", fields.join(", "))
        }
        AuditEvent::ApprovalsVoided { count, reason, .. } => format!(
            "{count} approval(s) voided: {reason}; the request needs approval again"
        ),
        AuditEvent::WaitingForWindow { note } => format!("Deployment {note}"),
        AuditEvent::StepStarted {
            step,
            connector,
            target,
        } => format!("{} started ({connector}: {target})", step_name(step)),
        AuditEvent::CiRetry {
            step,
            attempt,
            next_at,
            error,
        } => format!(
            "The CI could not be reached for {step} ({error}); attempt {attempt}, next at {next_at}"
        ),
        AuditEvent::StepSucceeded { step } => format!("{} succeeded", step_name(step)),
        AuditEvent::StepFailed { step, message } => {
            format!("{} failed: {message}", step_name(step))
        }
        AuditEvent::Deployed { .. } => "Deployed: every CI step succeeded".to_owned(),
        AuditEvent::RetryRequested { step, attempt } => format!(
            "asked for {} to run again (attempt {attempt})",
            step_name(step).to_lowercase()
        ),
        AuditEvent::StageResult {
            stage,
            status,
            duration_ms,
            metrics,
            by,
        } => {
            let duration = duration_ms
                .map(|ms| format!(" in {}", duration_words(ms)))
                .unwrap_or_default();
            let metrics: Vec<String> = metrics.iter().map(|(k, v)| format!("{k} {v}")).collect();
            let metrics = if metrics.is_empty() {
                String::new()
            } else {
                format!(" — {}", metrics.join(", "))
            };
            format!("{stage} {status}{duration}{metrics} (reported by {by})")
        }
        AuditEvent::TicketOpened {
            ticket,
            kind,
            team,
            title,
        } => format!("Ticket #{ticket} opened ({kind} for {team}): {title}"),
        AuditEvent::PipelineState { state, stage } => format!(
            "The pipeline reported its {stage} stage: the request is {}",
            state.replace('_', " ")
        ),
        AuditEvent::ApprovalsLapsed { reason } => {
            format!("Approvals lapsed: {reason}; the request needs approval again")
        }
        AuditEvent::Unknown { kind } => kind.replace('_', " "),
    }
}

/// "4 min 30 s", "2 h 5 min", "800 ms".
pub fn duration_words(ms: i64) -> String {
    let secs = ms / 1000;
    match secs {
        _ if ms < 1000 => format!("{ms} ms"),
        0..=59 => format!("{secs} s"),
        60..=3599 if secs % 60 == 0 => format!("{} min", secs / 60),
        60..=3599 => format!("{} min {} s", secs / 60, secs % 60),
        _ => format!("{} h {} min", secs / 3600, (secs % 3600) / 60),
    }
}

fn step_name(step: &str) -> String {
    match step {
        "provision" => "Provision".to_owned(),
        "deploy" => "Deploy".to_owned(),
        other => other.to_owned(),
    }
}

fn step_view(r: &crate::db::dispatch::RunRow) -> StepView {
    let name = if r.attempt > 1 {
        format!("{} (attempt {})", step_name(&r.step), r.attempt)
    } else {
        step_name(&r.step)
    };
    StepView {
        name,
        state: r.state.clone(),
        job: format!("{}: {}", r.connector, r.target),
        started_at: format_ms(r.started_at),
        finished_at: r.finished_at.map(format_ms),
        url: r.url.clone(),
        log_tail: r.log_tail.clone(),
        message: r.message.clone(),
    }
}

fn stages(
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
    if !may_read(catalog, user, is_ops, &row) {
        return Err(unreadable(catalog, &row.application_id));
    }
    let decisions = decisions::decisions(&db.pool, id).await?;
    let events = crate::db::audit::events(&db.pool, id).await?;
    let tickets = crate::service::tickets::of_request(db, catalog, id).await?;
    let members = users::members(db).await?;
    let runs = crate::db::dispatch::runs(&db.pool, id).await?;
    let job = crate::db::dispatch::job_of(&db.pool, id).await?;
    let now = now_ms();
    let policy = &row.policy;
    let retryable = runs
        .iter()
        .any(|r| r.state == "failed" || r.state == "cancelled");
    let request = subject(&row, &decisions, retryable);
    let eval = approval::evaluate(policy, row.requester_id, &request.approvals, now);
    let actions = lifecycle::allowed_actions(
        &request,
        policy,
        &super::requests::viewer(user, is_ops),
        now,
    );
    let names = names(db, &row, &decisions).await?;
    let pending = row.state == State::PendingApproval;
    let app = catalog.application(&row.application_id);
    let field_label = |k: &str| {
        app.and_then(|a| a.fields.iter().find(|f| f.id == k))
            .map_or_else(|| k.to_owned(), |f| f.label.clone())
    };
    let fields = &row.fields;
    Ok(RequestView {
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
        steps: runs.iter().map(step_view).collect(),
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
                text: event_text(e),
            })
            .collect(),
        can_decide: actions.decide,
        can_edit: actions.edit,
        can_retry: actions.retry,
        can_stop: actions.stop,
        can_cancel: actions.cancel,
        notice,
    })
}

async fn names(
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

/// The requests `user` can decide on now.
pub async fn queue(
    db: &Db,
    catalog: &Catalog,
    user: &User,
    app: &str,
    env: &str,
    oldest_first: bool,
) -> Result<QueueView, Error> {
    let now = now_ms();
    let (pending, decisions) = crate::db::queue::pending(db, app, env, &user.teams).await?;
    let mut applications = BTreeMap::new();
    let mut environments = BTreeMap::new();
    let mut requests = Vec::new();
    for (row, requester) in pending {
        let theirs = decisions
            .get(&row.id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let policy = &row.policy;
        let given = approvals(theirs);
        let eval = approval::evaluate(policy, row.requester_id, &given, now);
        if !approval::can_approve_in(
            policy,
            row.requester_id,
            &given,
            now,
            user.id,
            &user.teams,
            &eval,
        ) {
            continue;
        }
        let (app_name, env_name) = target_names(catalog, &row);
        applications.insert(row.application_id.clone(), app_name);
        environments.insert(row.environment_id.clone(), env_name);
        let waiting_for = eval
            .current
            .and_then(|c| eval.stages.get(c))
            .map(|s| {
                let missing: Vec<String> = s
                    .rules
                    .iter()
                    .filter(|r| !r.satisfied())
                    .map(|r| {
                        format!(
                            "{} more of {}",
                            r.needed as usize - r.counted.len(),
                            catalog.team_name(&r.team)
                        )
                    })
                    .collect();
                format!("{}: {}", s.name, missing.join(", "))
            })
            .unwrap_or_default();
        requests.push(line(catalog, row, requester, waiting_for));
    }
    if oldest_first {
        requests.reverse();
    }
    Ok(QueueView {
        requests,
        applications: applications.into_iter().collect(),
        environments: environments.into_iter().collect(),
    })
}

/// (application name, environment name) of a request, or their ids if the catalog dropped them.
fn target_names(catalog: &Catalog, row: &RequestRow) -> (String, String) {
    let app = catalog.application(&row.application_id);
    (
        app.map_or_else(|| row.application_id.clone(), |a| a.name.clone()),
        app.and_then(|a| a.environment(&row.environment_id))
            .map_or_else(|| row.environment_id.clone(), |e| e.name.clone()),
    )
}

fn line(catalog: &Catalog, row: RequestRow, requester: String, waiting_for: String) -> RequestLine {
    let (app_name, env_name) = target_names(catalog, &row);
    RequestLine {
        id: row.id,
        title: row.title,
        app_name,
        env_name,
        version: row.version,
        state: state_words(row.state),
        requester,
        updated_at: format_ms(row.updated_at),
        waiting_for,
    }
}

const BOARD_PAGE: i64 = 50;

/// Every request for ops: filtered, newest first, a page at a time.
pub async fn board(db: &Db, catalog: &Catalog, filter: &BoardFilter) -> Result<BoardView, Error> {
    let state = match filter.state.trim() {
        "" => "",
        s => State::parse(s)
            .map(State::as_str)
            .ok_or_else(|| Error::NotFound(format!("There is no request state {s}.")))?,
    };
    let search = filter.q.trim();
    let mut rows = crate::db::queue::board(
        db,
        state,
        &filter.app,
        &filter.env,
        search,
        filter.before.max(0),
        BOARD_PAGE + 1,
    )
    .await?;
    let next_before = (rows.len() as i64 > BOARD_PAGE).then(|| {
        rows.truncate(BOARD_PAGE as usize);
        rows.last().map(|(r, _)| r.id).unwrap_or_default()
    });
    let ids: Vec<i64> = rows.iter().map(|(r, _)| r.id).collect();
    let notes = crate::db::dispatch::notes(db, &ids).await?;
    let requests = rows
        .into_iter()
        .map(|(row, requester)| {
            let waiting_for = match (notes.get(&row.id), row.scheduled_at) {
                (Some(note), _) if row.state.is_open() => note.clone(),
                (_, Some(at)) if row.state == State::Scheduled => {
                    format!("scheduled for {}", format_ms(at))
                }
                _ => String::new(),
            };
            line(catalog, row, requester, waiting_for)
        })
        .collect();
    Ok(BoardView {
        in_flight: crate::db::dispatch::in_flight(db).await?,
        requests,
        next_before,
        states: State::ALL.iter().map(|s| s.as_str().to_owned()).collect(),
        applications: catalog
            .applications
            .iter()
            .map(|a| (a.id.clone(), a.name.clone()))
            .collect(),
        environments: {
            let mut envs: Vec<(String, String)> = catalog
                .applications
                .iter()
                .flat_map(|a| {
                    a.environments
                        .iter()
                        .map(|e| (e.id.clone(), e.name.clone()))
                })
                .collect();
            envs.sort();
            envs.dedup_by(|a, b| a.0 == b.0);
            envs
        },
    })
}
