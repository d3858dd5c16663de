//! Tickets: raised in the transaction of the failure that matches a catalog rule, worked
//! through open → acknowledged → resolved with comments, and posted to a webhook when the rule
//! names one (at least once, retried with back-off, across restarts).

use crate::db::tickets::{self as t, TicketRow};
use crate::db::users::User;
use crate::db::{now_ms, Db};
use crate::domain::Catalog;
use crate::service::error::Error;
use serde_json::json;

/// What someone does to a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    Acknowledge,
    Resolve,
    Reopen,
    /// A comment alone.
    Comment,
}

impl Move {
    pub fn parse(s: &str) -> Option<Move> {
        match s {
            "acknowledge" => Some(Move::Acknowledge),
            "resolve" => Some(Move::Resolve),
            "reopen" => Some(Move::Reopen),
            "comment" => Some(Move::Comment),
            _ => None,
        }
    }
}

/// Whether `user` may work the ticket: its owner team, operations, administrators.
pub fn may_work(catalog: &Catalog, user: &User, ticket: &TicketRow) -> bool {
    user.is_admin
        || user.teams.iter().any(|team| team == &ticket.owner_team)
        || user.teams.iter().any(|team| catalog.is_ops_team(team))
}

/// Applies a move (with an optional comment) in one transaction; the ticket's new state.
pub async fn work(
    db: &Db,
    catalog: &Catalog,
    user: &User,
    id: i64,
    action: Move,
    comment: &str,
) -> Result<String, Error> {
    let ticket = t::get(&db.pool, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("There is no ticket {id}.")))?;
    if !may_work(catalog, user, &ticket) {
        return Err(Error::Forbidden(format!(
            "Only {}, operations and administrators work this ticket.",
            catalog.team_name(&ticket.owner_team)
        )));
    }
    let comment = comment.trim();
    if let Some(p) = crate::domain::text::block_problem(comment, 4000) {
        return Err(Error::invalid("comment", p));
    }
    let (from, to) = match (action, ticket.state.as_str()) {
        (Move::Acknowledge, "open") => ("open", "acknowledged"),
        (Move::Resolve, "open" | "acknowledged") => (ticket.state.as_str(), "resolved"),
        (Move::Reopen, "resolved") => ("resolved", "open"),
        (Move::Comment, state) => {
            if comment.is_empty() {
                return Err(Error::invalid("comment", "Write something."));
            }
            (state, state)
        }
        (_, state) => {
            return Err(Error::Conflict(format!(
                "The ticket is {state}; it cannot be {} now.",
                match action {
                    Move::Acknowledge => "acknowledged",
                    Move::Resolve => "resolved",
                    _ => "reopened",
                }
            )))
        }
    };
    if action == Move::Resolve && comment.is_empty() {
        return Err(Error::invalid("comment", "Say how it was resolved."));
    }
    let now = now_ms();
    let mut tx = db.write().await?;
    if from != to && !t::set_state(&mut tx, id, from, to, now).await? {
        return Err(Error::Conflict(
            "The ticket changed meanwhile; reload it.".into(),
        ));
    }
    let note = match action {
        Move::Comment => comment.to_owned(),
        _ if comment.is_empty() => format!("{to} the ticket"),
        _ => format!("{to} the ticket: {comment}"),
    };
    t::comment(&mut tx, id, Some(user.id), &note, now).await?;
    // The request's page shows its tickets.
    tx.announce(ticket.request_id);
    tx.commit().await?;
    tracing::info!(ticket = id, state = to, by = %user.username, "ticket worked");
    Ok(to.to_owned())
}

/// Posts due tickets to their webhooks. A failed post is tried again later (after 10 s, 20 s …
/// up to 5 tries); the ticket page says how delivery went.
pub async fn deliver_webhooks(db: &Db, client: &reqwest::Client) -> Result<usize, sqlx::Error> {
    const TRIES: i64 = 5;
    let due = t::webhooks_due(db, now_ms()).await?;
    let mut delivered = 0;
    for ticket in due {
        let body = json!({
            "ticket": ticket.id,
            "kind": ticket.kind,
            "title": ticket.title,
            "detail": ticket.detail,
            "state": ticket.state,
            "owner_team": ticket.owner_team,
            "rule": ticket.rule_id,
            "request": ticket.request_id,
            "request_url": format!("/requests/{}", ticket.request_id),
            "opened_at": jiff::Timestamp::from_millisecond(ticket.opened_at).map(|t| t.to_string()).unwrap_or_default(),
        });
        let outcome = client
            .post(&ticket.webhook_url)
            .header("idempotency-key", format!("runway-ticket-{}", ticket.id))
            .json(&body)
            .send()
            .await;
        let attempt = ticket.webhook_attempts + 1;
        let (state, due_at, note) = match outcome {
            Ok(r) if r.status().is_success() => {
                delivered += 1;
                ("delivered", None, format!("delivered ({})", r.status()))
            }
            Ok(r) => failed(
                attempt,
                TRIES,
                format!("the webhook answered {}", r.status()),
            ),
            Err(e) => failed(
                attempt,
                TRIES,
                format!("the webhook could not be reached: {e}"),
            ),
        };
        t::webhook_attempted(db, ticket.id, state, due_at, &note).await?;
    }
    Ok(delivered)
}

fn failed(attempt: i64, tries: i64, note: String) -> (&'static str, Option<i64>, String) {
    if attempt >= tries {
        (
            "failed",
            None,
            format!("{note}; gave up after {attempt} tries"),
        )
    } else {
        let wait = 10_000 * (1 << (attempt - 1).min(10));
        (
            "pending",
            Some(now_ms() + wait),
            format!("{note}; try {} in {} s", attempt + 1, wait / 1000),
        )
    }
}

fn line(catalog: &Catalog, t: &TicketRow) -> app::model::TicketLine {
    app::model::TicketLine {
        id: t.id,
        kind: t.kind.clone(),
        title: t.title.clone(),
        state: t.state.clone(),
        owner_team: catalog.team_name(&t.owner_team).to_owned(),
        opened_at: crate::domain::format_ms(t.opened_at),
        request_id: t.request_id,
    }
}

/// Tickets for a list: newest first, all or in one state (`open`, `acknowledged`, `resolved`).
pub async fn list(
    db: &Db,
    catalog: &Catalog,
    state: &str,
) -> Result<app::model::TicketsView, Error> {
    let state = state.trim();
    if !matches!(state, "" | "open" | "acknowledged" | "resolved") {
        return Err(Error::invalid(
            "state",
            format!("{state} is not open, acknowledged or resolved."),
        ));
    }
    let rows = t::list(db, (!state.is_empty()).then_some(state), None, 200).await?;
    Ok(app::model::TicketsView {
        tickets: rows.iter().map(|r| line(catalog, r)).collect(),
        state: state.to_owned(),
    })
}

/// The tickets a request's failures raised.
pub async fn of_request(
    db: &Db,
    catalog: &Catalog,
    request_id: i64,
) -> Result<Vec<app::model::TicketLine>, sqlx::Error> {
    Ok(t::list(db, None, Some(request_id), 50)
        .await?
        .iter()
        .map(|r| line(catalog, r))
        .collect())
}

pub async fn view(
    db: &Db,
    catalog: &Catalog,
    user: &User,
    id: i64,
) -> Result<app::model::TicketView, Error> {
    use crate::domain::format_ms;
    let ticket = t::get(&db.pool, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("There is no ticket {id}.")))?;
    let comments = t::comments(db, id)
        .await?
        .into_iter()
        .map(|c| {
            (
                c.author.unwrap_or_else(|| "Runway".to_owned()),
                c.body,
                format_ms(c.created_at),
            )
        })
        .collect();
    Ok(app::model::TicketView {
        ticket: line(catalog, &ticket),
        detail: ticket.detail.clone(),
        rule: ticket.rule_id.clone(),
        acknowledged_at: ticket.acknowledged_at.map(format_ms),
        resolved_at: ticket.resolved_at.map(format_ms),
        webhook: (!ticket.webhook_url.is_empty()).then(|| {
            format!(
                "{} → {} ({} tr{}){}",
                ticket.webhook_url,
                ticket.webhook_state,
                ticket.webhook_attempts,
                if ticket.webhook_attempts == 1 {
                    "y"
                } else {
                    "ies"
                },
                if ticket.webhook_note.is_empty() {
                    String::new()
                } else {
                    format!(": {}", ticket.webhook_note)
                }
            )
        }),
        comments,
        can_work: may_work(catalog, user, &ticket),
        posted: Default::default(),
    })
}
