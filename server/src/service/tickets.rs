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
