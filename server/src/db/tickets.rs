//! Tickets raised by failures, their comments, and their webhook deliveries.

use super::Db;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

pub type Tx<'a> = Transaction<'a, Any>;

#[derive(Debug, Clone)]
pub struct TicketRow {
    pub id: i64,
    pub request_id: i64,
    pub rule_id: String,
    pub kind: String,
    pub title: String,
    pub detail: String,
    pub owner_team: String,
    pub state: String,
    pub opened_at: i64,
    pub acknowledged_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub webhook_url: String,
    pub webhook_state: String,
    pub webhook_attempts: i64,
    pub webhook_note: String,
    pub updated_at: i64,
    /// When it must be resolved by (an emergency change's review), if it has a limit.
    pub due_at: Option<i64>,
}

const COLUMNS: &str = "ticket_id, request_id, rule_id, kind, title, detail, owner_team, state, \
     opened_at, acknowledged_at, resolved_at, webhook_url, webhook_state, webhook_attempts, \
     webhook_note, updated_at, due_at";

fn ticket(r: &AnyRow) -> Result<TicketRow, sqlx::Error> {
    Ok(TicketRow {
        id: r.try_get("ticket_id")?,
        request_id: r.try_get("request_id")?,
        rule_id: r.try_get("rule_id")?,
        kind: r.try_get("kind")?,
        title: r.try_get("title")?,
        detail: r.try_get("detail")?,
        owner_team: r.try_get("owner_team")?,
        state: r.try_get("state")?,
        opened_at: r.try_get("opened_at")?,
        acknowledged_at: r.try_get("acknowledged_at")?,
        resolved_at: r.try_get("resolved_at")?,
        webhook_url: r.try_get("webhook_url")?,
        webhook_state: r.try_get("webhook_state")?,
        webhook_attempts: r.try_get("webhook_attempts")?,
        webhook_note: r.try_get("webhook_note")?,
        updated_at: r.try_get("updated_at")?,
        due_at: r.try_get("due_at")?,
    })
}

/// The rule id of an emergency change's post-implementation review, which no catalog rule
/// raises.
pub const EMERGENCY_REVIEW: &str = "emergency-review";

pub struct NewTicket<'a> {
    pub request_id: i64,
    pub rule_id: &'a str,
    pub kind: &'a str,
    pub title: &'a str,
    pub detail: &'a str,
    pub owner_team: &'a str,
    pub webhook_url: &'a str,
    /// When it must be resolved by, if it has a limit.
    pub due_at: Option<i64>,
    pub now: i64,
}

pub async fn insert(tx: &mut Tx<'_>, t: &NewTicket<'_>) -> Result<i64, sqlx::Error> {
    if t.kind == crate::domain::catalog::TicketKind::Incident.as_str() {
        super::deployments::metrics_changed(tx).await?;
    }
    sqlx::query_scalar(
        "insert into tickets (request_id, rule_id, kind, title, detail, owner_team, state, opened_at, \
         webhook_url, webhook_state, webhook_due_at, updated_at, due_at) \
         values ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $9, $10, $7, $11) returning ticket_id",
    )
    .bind(t.request_id)
    .bind(t.rule_id)
    .bind(t.kind)
    .bind(t.title)
    .bind(t.detail)
    .bind(t.owner_team)
    .bind(t.now)
    .bind(t.webhook_url)
    .bind(if t.webhook_url.is_empty() { "" } else { "pending" })
    .bind((!t.webhook_url.is_empty()).then_some(t.now))
    .bind(t.due_at)
    .fetch_one(&mut **tx)
    .await
}

/// Whether request `request_id` has a ticket of the rule `rule_id`.
pub async fn has_rule(
    tx: &mut Tx<'_>,
    request_id: i64,
    rule_id: &str,
) -> Result<bool, sqlx::Error> {
    let found: Option<i64> = sqlx::query_scalar(
        "select ticket_id from tickets where request_id = $1 and rule_id = $2 limit 1",
    )
    .bind(request_id)
    .bind(rule_id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(found.is_some())
}

pub async fn get(
    exec: impl sqlx::Executor<'_, Database = Any>,
    id: i64,
) -> Result<Option<TicketRow>, sqlx::Error> {
    sqlx::query(&format!(
        "select {COLUMNS} from tickets where ticket_id = $1"
    ))
    .bind(id)
    .fetch_optional(exec)
    .await?
    .as_ref()
    .map(ticket)
    .transpose()
}

/// Tickets, newest first: all of them, or those in `state` (`overdue`: not resolved past their
/// due time), or those of one request.
pub async fn list(
    db: &Db,
    state: Option<&str>,
    request_id: Option<i64>,
    limit: i64,
) -> Result<Vec<TicketRow>, sqlx::Error> {
    let condition = match (state, request_id) {
        (_, Some(_)) => " where request_id = $2",
        (Some("overdue"), None) => " where state <> 'resolved' and due_at < $2",
        (Some(_), None) => " where state = $2",
        (None, None) => "",
    };
    let sql = format!("select {COLUMNS} from tickets{condition} order by ticket_id desc limit $1");
    let mut query = sqlx::query(&sql).bind(limit);
    if let Some(id) = request_id {
        query = query.bind(id);
    } else if state == Some("overdue") {
        query = query.bind(super::now_ms());
    } else if let Some(s) = state {
        query = query.bind(s);
    }
    query
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(ticket)
        .collect()
}

/// Moves a ticket from `from` to `to`; false when it was not in `from` (changed meanwhile).
pub async fn set_state(
    tx: &mut Tx<'_>,
    id: i64,
    from: &str,
    to: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "update tickets set state = $3, updated_at = $4, \
         acknowledged_at = case when $3 = 'acknowledged' then $4 else acknowledged_at end, \
         resolved_at = case when $3 = 'resolved' then $4 when $3 = 'open' then null else resolved_at end \
         where ticket_id = $1 and state = $2",
    )
    .bind(id)
    .bind(from)
    .bind(to)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(Debug, Clone)]
pub struct CommentRow {
    pub author: Option<String>,
    pub body: String,
    pub created_at: i64,
}

pub async fn comment(
    tx: &mut Tx<'_>,
    ticket_id: i64,
    user_id: Option<i64>,
    body: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into ticket_comments (ticket_id, user_id, body, created_at) values ($1, $2, $3, $4)",
    )
    .bind(ticket_id)
    .bind(user_id)
    .bind(body)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn comments(db: &Db, ticket_id: i64) -> Result<Vec<CommentRow>, sqlx::Error> {
    sqlx::query(
        "select u.display_name as author, c.body, c.created_at from ticket_comments c \
         left join users u on u.user_id = c.user_id where c.ticket_id = $1 order by c.ticket_comment_id",
    )
    .bind(ticket_id)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| {
        Ok(CommentRow {
            author: r.try_get("author")?,
            body: r.try_get("body")?,
            created_at: r.try_get("created_at")?,
        })
    })
    .collect()
}

/// Tickets whose webhook delivery is due.
pub async fn webhooks_due(db: &Db, now: i64) -> Result<Vec<TicketRow>, sqlx::Error> {
    sqlx::query(&format!(
        "select {COLUMNS} from tickets where webhook_state = 'pending' and webhook_due_at <= $1 \
         order by ticket_id limit 50"
    ))
    .bind(now)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(ticket)
    .collect()
}

/// Records a delivery attempt: `delivered`, `failed` (no more tries) or `pending` again at `due_at`.
pub async fn webhook_attempted(
    db: &Db,
    id: i64,
    state: &str,
    due_at: Option<i64>,
    note: &str,
) -> Result<(), sqlx::Error> {
    db.write_one(sqlx::query(
        "update tickets set webhook_state = $2, webhook_due_at = $3, webhook_note = $4, \
         webhook_attempts = webhook_attempts + 1 where ticket_id = $1 and webhook_state = 'pending'",
    )
    .bind(id)
    .bind(state)
    .bind(due_at)
    .bind(note))
    .await?;
    Ok(())
}

/// The tickets still open on `application`'s requests.
pub async fn open_on_application(
    tx: &mut Tx<'_>,
    application: &str,
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "select t.ticket_id from tickets t join requests r on r.request_id = t.request_id \
          where r.application_id = $1 and t.state = 'open' order by t.ticket_id",
    )
    .bind(application)
    .fetch_all(&mut **tx)
    .await
}
