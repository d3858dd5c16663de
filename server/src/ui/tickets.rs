//! Tickets as the pages show them: the list, one ticket with its comments, a request's tickets.

use crate::db::tickets::{self as t, TicketRow};
use crate::db::users::User;
use crate::db::Db;
use crate::domain::Catalog;
use crate::service::error::Error;
use crate::service::tickets::may_work;

fn line(catalog: &Catalog, t: &TicketRow, now: i64) -> app::model::TicketLine {
    app::model::TicketLine {
        due: t.due_at.map(crate::domain::format_ms).unwrap_or_default(),
        overdue: t.state != "resolved" && t.due_at.is_some_and(|due| due < now),
        id: t.id,
        kind: t.kind.clone(),
        title: t.title.clone(),
        state: t.state.clone(),
        owner_team: catalog.team_name(&t.owner_team).to_owned(),
        opened_at: crate::domain::format_ms(t.opened_at),
        request_id: t.request_id,
    }
}

/// Tickets for a list: newest first, all or in one state (`open`, `acknowledged`, `resolved`),
/// or `overdue`: not resolved past their due time (emergency changes' reviews).
pub async fn list(
    db: &Db,
    catalog: &Catalog,
    state: &str,
) -> Result<app::model::TicketsView, Error> {
    let state = state.trim();
    if !matches!(state, "" | "open" | "acknowledged" | "resolved" | "overdue") {
        return Err(Error::invalid(
            "state",
            format!("{state} is not open, acknowledged, resolved or overdue."),
        ));
    }
    let now = crate::db::now_ms();
    let rows = t::list(db, (!state.is_empty()).then_some(state), None, 200).await?;
    Ok(app::model::TicketsView {
        tickets: rows.iter().map(|r| line(catalog, r, now)).collect(),
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
        .map(|r| line(catalog, r, crate::db::now_ms()))
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
        ticket: line(catalog, &ticket, crate::db::now_ms()),
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
