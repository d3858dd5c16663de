//! The one apply step: writes a lifecycle transition (see `domain::lifecycle`) and every one of
//! its effects in the caller's transaction, so a crash leaves either all of it or none. Nothing
//! else moves a request to another state.

use super::requests::{self as q, RequestRow};
use super::{
    audit, chases, decisions, deployments, outbox, pending_notices, queue, tickets, Write,
};
use crate::domain::audit::AuditEvent;
use crate::domain::lifecycle::{Due, Effect, Transition, Verdict};
use crate::domain::request::State;
use crate::domain::{schedule, Catalog};

/// The request a transition applies to, as stored before it.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub id: i64,
    pub requester_id: i64,
    pub application_id: &'a str,
    pub environment_id: &'a str,
    pub version: &'a str,
    /// Its state before the transition.
    pub state: State,
    /// Its policy lets delegates act for away approvers.
    pub delegation: bool,
}

impl<'a> From<&'a RequestRow> for Target<'a> {
    fn from(row: &'a RequestRow) -> Self {
        Target {
            id: row.id,
            requester_id: row.requester_id,
            application_id: &row.application_id,
            environment_id: &row.environment_id,
            version: &row.version,
            state: row.state,
            delegation: row.policy.delegation,
        }
    }
}

/// Writes `t` for `target`; the catalog gives the ticket rules a failure may match.
pub async fn apply(
    tx: &mut Write,
    catalog: &Catalog,
    target: Target<'_>,
    t: &Transition,
    now: i64,
) -> Result<(), sqlx::Error> {
    let id = target.id;
    if t.state != target.state {
        q::set_state(tx, id, t.state).await?;
    }
    for effect in &t.effects {
        match effect {
            Effect::Audit { actor, event } => audit::event(tx, id, *actor, event, now).await?,
            Effect::Decision {
                user_id,
                acted_by,
                teams,
                stage,
                verdict,
                comment,
            } => {
                let stage = i64::try_from(*stage).unwrap_or_default();
                decisions::void_own_decisions(tx, id, *user_id, stage).await?;
                let verdict = match verdict {
                    Verdict::Approve => "approve",
                    Verdict::Reject => "reject",
                };
                decisions::insert_decision(
                    tx,
                    &decisions::NewDecision {
                        request_id: id,
                        user_id: *user_id,
                        acted_by: *acted_by,
                        teams,
                        stage,
                        verdict,
                        comment,
                        now,
                    },
                )
                .await?;
            }
            Effect::VoidApprovals { .. } => {
                decisions::void_decisions(tx, id).await?;
            }
            Effect::Rewrite(draft) => q::update_body(tx, id, draft).await?,
            Effect::Enqueue { at } => outbox::enqueue_dispatch(tx, id, *at, now).await?,
            Effect::Reschedule { at } => outbox::reschedule_dispatch(tx, id, *at).await?,
            Effect::Withdraw => {
                outbox::withdraw_dispatch(tx, id).await?;
            }
            Effect::Reindex { teams } => queue::set_waits(tx, id, teams).await?,
            Effect::RaiseTicket {
                on,
                what,
                detail,
                quiet,
            } => {
                let said = Said {
                    what,
                    detail,
                    quiet: *quiet,
                };
                raise(tx, catalog, &target, on, &said, now).await?;
            }
            Effect::Notify(notice) => {
                pending_notices::insert(tx, (id, target.version), notice, now).await?;
            }
            Effect::Chase {
                remind,
                escalate,
                in_windows,
            } => {
                let at = |due: &Due| match due {
                    Due::Keep => None,
                    Due::Stop => Some(None),
                    Due::After(secs) => {
                        Some(schedule::counted_after(catalog, in_windows, now, *secs))
                    }
                };
                chases::set(tx, id, at(remind), at(escalate)).await?;
            }
            Effect::Announce => tx.announce(id),
            Effect::RecordDeployment { succeeded } => {
                deployments::record(tx, id, *succeeded, now).await?;
            }
            Effect::CommitTime { at } => deployments::commit_time(tx, id, *at).await?,
            Effect::NextInLine => {
                let (app, env) = (target.application_id, target.environment_id);
                if let Some(next) = outbox::next_in_line(tx, app, env, now).await? {
                    tx.announce(next);
                }
            }
            Effect::OpenReview { due_in_secs } => {
                review(tx, catalog, &target, *due_in_secs, now).await?;
            }
        }
    }
    Ok(())
}

/// What a ticket says, and whether its team is told.
struct Said<'a> {
    what: &'a str,
    detail: &'a str,
    quiet: bool,
}

/// Opens a ticket for each catalog rule the failure matches, each with its audit entry.
async fn raise(
    tx: &mut Write,
    catalog: &Catalog,
    target: &Target<'_>,
    on: &[crate::domain::TicketTrigger],
    said: &Said<'_>,
    now: i64,
) -> Result<(), sqlx::Error> {
    let Said {
        what,
        detail,
        quiet,
    } = *said;
    let (app_id, env_id) = (target.application_id, target.environment_id);
    let rules = catalog
        .ticket_rules
        .iter()
        .filter(|r| on.iter().any(|o| r.matches(*o, app_id, env_id)));
    for rule in rules {
        let ticket = tickets::NewTicket {
            request_id: target.id,
            rule_id: &rule.id,
            kind: rule.kind.as_str(),
            title: &format!(
                "{what}: {} (request #{})",
                named(catalog, target),
                target.id
            ),
            detail,
            owner_team: &rule.team,
            webhook_url: rule.webhook.as_deref().unwrap_or_default(),
            due_at: None,
            now,
        };
        open(tx, target, &ticket, what, quiet).await?;
    }
    Ok(())
}

/// "Banking 2.4.0 to Production".
fn named(catalog: &Catalog, target: &Target<'_>) -> String {
    let (app_id, env_id) = (target.application_id, target.environment_id);
    let app = catalog.application(app_id);
    format!(
        "{} {} to {}",
        app.map_or(app_id, |a| a.name.as_str()),
        target.version,
        app.and_then(|a| a.environment(env_id))
            .map_or(env_id, |e| e.name.as_str())
    )
}

/// The post-implementation review of an emergency change: a task for the application's owner
/// team, due `due_in_secs` from now.
async fn review(
    tx: &mut Write,
    catalog: &Catalog,
    target: &Target<'_>,
    due_in_secs: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    if tickets::has_rule(tx, target.id, tickets::EMERGENCY_REVIEW).await? {
        return Ok(());
    }
    let owner = catalog
        .application(target.application_id)
        .map_or("", |a| a.owner.as_str());
    let what = "Post-implementation review of an emergency change";
    let due_at = now.saturating_add(due_in_secs.saturating_mul(1000));
    let detail = format!(
        "Review why {} could not wait, what it changed and what follows from it, by {}.",
        named(catalog, target),
        crate::domain::format_ms(due_at)
    );
    let ticket = tickets::NewTicket {
        request_id: target.id,
        rule_id: tickets::EMERGENCY_REVIEW,
        kind: crate::domain::catalog::TicketKind::Task.as_str(),
        title: &format!(
            "{what}: {} (request #{})",
            named(catalog, target),
            target.id
        ),
        detail: &detail,
        owner_team: owner,
        webhook_url: "",
        due_at: Some(due_at),
        now,
    };
    open(tx, target, &ticket, what, false).await?;
    Ok(())
}

/// Opens `t` with its audit entry, telling its team unless `quiet`.
async fn open(
    tx: &mut Write,
    target: &Target<'_>,
    t: &tickets::NewTicket<'_>,
    what: &str,
    quiet: bool,
) -> Result<(), sqlx::Error> {
    let ticket = tickets::insert(tx, t).await?;
    let opened = AuditEvent::TicketOpened {
        ticket,
        kind: t.kind.to_owned(),
        team: t.owner_team.to_owned(),
        title: what.to_owned(),
    };
    audit::event(tx, target.id, None, &opened, t.now).await?;
    if !quiet {
        let told = crate::domain::notice::Notice {
            kind: crate::domain::notice::Kind::TicketOpened,
            audience: crate::domain::notice::Audience::Team(t.owner_team.to_owned()),
            detail: t.detail.to_owned(),
            actor: None,
        };
        pending_notices::insert(tx, (target.id, target.version), &told, t.now).await?;
    }
    tracing::info!(ticket, request = target.id, rule = %t.rule_id, "ticket opened");
    Ok(())
}

#[cfg(test)]
mod tests {
    /// Every source file of the server, as (path, text).
    fn sources() -> Vec<(String, String)> {
        fn walk(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
            for entry in std::fs::read_dir(dir).expect("source folder").flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).expect("source file");
                    out.push((path.display().to_string(), text));
                }
            }
        }
        let mut out = Vec::new();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        walk(&root.join("src"), &mut out);
        walk(&root.join("../app/src"), &mut out);
        out
    }

    #[test]
    fn only_the_apply_step_writes_a_requests_state() {
        let mut found = 0;
        for (path, text) in sources() {
            // The code, not its tests (which name what they look for).
            let text = text.split("#[cfg(test)]").next().unwrap_or_default();
            let calls = text.matches("q::set_state(").count()
                + text.matches("requests::set_state(").count();
            let statements = text.matches("update requests set state").count();
            if path.ends_with("db/apply.rs") {
                found += calls;
                continue;
            }
            assert_eq!(
                calls, 0,
                "{path} moves a request to a state outside db::apply"
            );
            let defines = path.ends_with("db/requests.rs");
            assert!(
                statements == usize::from(defines),
                "{path} writes a request's state in SQL outside db::requests::set_state"
            );
        }
        assert_eq!(found, 1, "db::apply writes the state in one place");
    }

    /// A newcomer reads a room in one sitting: no source file over 400 lines (tests aside).
    #[test]
    fn no_source_file_is_over_400_lines() {
        for (path, text) in sources() {
            if path.ends_with("tests.rs") {
                continue;
            }
            let lines = text.lines().count();
            assert!(lines <= 400, "{path} has {lines} lines");
        }
    }
}
