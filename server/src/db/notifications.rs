//! People's notifications (the inbox) and the mail still to send for them.

use super::Db;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

pub type Tx<'a> = Transaction<'a, Any>;

/// Mail to one address about one request goes at most once a minute; what comes meanwhile is
/// folded into the next message.
pub const FOLD_MS: i64 = 60_000;

/// A person to tell, as stored: where their mail goes and what they turned off.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub user_id: i64,
    pub email: String,
    /// Their changes to the kinds mailed by default: `+kind` or `-kind`.
    pub mail_prefs: String,
}

impl Recipient {
    /// Whether they receive `kind` by email.
    /// Whether they receive `kind` by email now, in a mail of its own (not in their digest).
    pub fn mails(&self, kind: crate::domain::notice::Kind) -> bool {
        use crate::domain::notice::{digest, mailed};
        mailed(kind, &self.mail_prefs) && !self.email.is_empty() && !digest(&self.mail_prefs)
    }
}

fn recipient(r: &AnyRow) -> Result<Recipient, sqlx::Error> {
    Ok(Recipient {
        user_id: r.try_get("user_id")?,
        email: r.try_get("email")?,
        mail_prefs: r.try_get("mail_prefs")?,
    })
}

/// The members of `teams` whose accounts are enabled, less the people `except`.
pub async fn members(
    tx: &mut Tx<'_>,
    teams: &[String],
    except: &[i64],
) -> Result<Vec<Recipient>, sqlx::Error> {
    if teams.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (1..=teams.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "select distinct u.user_id, u.email, u.mail_prefs from users u \
         join memberships m on m.user_id = u.user_id \
         where m.team_id in ({}) and u.disabled_at is null order by u.user_id",
        marks.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for t in teams {
        query = query.bind(t.as_str());
    }
    let rows = query.fetch_all(&mut **tx).await?;
    Ok(rows
        .iter()
        .map(recipient)
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|r| !except.contains(&r.user_id))
        .collect())
}

/// One person by id, unless their account is disabled (a disabled account is told nothing).
pub async fn person(tx: &mut Tx<'_>, user_id: i64) -> Result<Option<Recipient>, sqlx::Error> {
    sqlx::query(
        "select user_id, email, mail_prefs from users where user_id = $1 and disabled_at is null",
    )
    .bind(user_id)
    .fetch_optional(&mut **tx)
    .await?
    .as_ref()
    .map(recipient)
    .transpose()
}

/// Everyone who has decided on the request and whose decision still stands.
pub async fn deciders(tx: &mut Tx<'_>, request_id: i64) -> Result<Vec<i64>, sqlx::Error> {
    // A delegate who decided in someone's place has decided too.
    sqlx::query_scalar(
        "select user_id from decisions where request_id = $1 and voided = 0 \
         union select acted_by from decisions \
         where request_id = $1 and voided = 0 and acted_by is not null",
    )
    .bind(request_id)
    .fetch_all(&mut **tx)
    .await
}

/// One notice, told to several people at once.
pub struct NewNotifications<'a> {
    pub request_id: i64,
    pub kind: &'a str,
    pub subject: &'a str,
    pub detail: &'a str,
    pub now: i64,
}

/// Rows a statement takes at most (SQLite allows 32,766 parameters).
const CHUNK: usize = 500;

/// Writes the notice for each of `to` (user id, and the address when they receive it by email):
/// a few statements whatever their number, so a stage of hundreds of approvers does not slow
/// the change that reaches it.
pub async fn insert(
    tx: &mut Tx<'_>,
    n: &NewNotifications<'_>,
    to: &[(i64, Option<&str>)],
) -> Result<(), sqlx::Error> {
    let mut ids: std::collections::HashMap<i64, i64> = std::collections::HashMap::new();
    for chunk in to.chunks(CHUNK) {
        // The notice's own values are bound once; each person adds one.
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| format!("(${}, $1, $2, $3, $4, $5)", i + 6))
            .collect();
        let sql = format!(
            "insert into notifications (user_id, request_id, kind, subject, detail, created_at) \
             values {} returning notification_id, user_id",
            rows.join(", ")
        );
        let mut query = sqlx::query(&sql)
            .bind(n.request_id)
            .bind(n.kind)
            .bind(n.subject)
            .bind(n.detail)
            .bind(n.now);
        for (user, _) in chunk {
            query = query.bind(*user);
        }
        for r in query.fetch_all(&mut **tx).await? {
            ids.insert(r.try_get("user_id")?, r.try_get("notification_id")?);
        }
    }
    let mailed: Vec<(i64, &str)> = to
        .iter()
        .filter_map(|(user, address)| Some((*ids.get(user)?, (*address)?)))
        .collect();
    if mailed.is_empty() {
        return Ok(());
    }
    // Due at once, or a minute after the last message to that address about this request.
    let last: std::collections::HashMap<String, i64> = sqlx::query(
        "select address, max(sent_at) as last from mail_outbox \
         where request_id = $1 and state = 'sent' group by address",
    )
    .bind(n.request_id)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("address")?, r.try_get("last")?)))
    .collect::<Result<_, sqlx::Error>>()?;
    for chunk in mailed.chunks(CHUNK) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| format!("(${}, ${}, $1, ${})", 3 * i + 2, 3 * i + 3, 3 * i + 4))
            .collect();
        let sql = format!(
            "insert into mail_outbox (notification_id, address, request_id, due_at) values {}",
            rows.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(n.request_id);
        for (id, address) in chunk {
            let due = last.get(*address).map_or(n.now, |l| n.now.max(l + FOLD_MS));
            query = query.bind(*id).bind(*address).bind(due);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// A notification as the inbox shows it.
#[derive(Debug, Clone)]
pub struct NotificationRow {
    pub id: i64,
    pub request_id: i64,
    pub kind: String,
    pub subject: String,
    pub detail: String,
    pub created_at: i64,
    pub read: bool,
}

/// A person's notifications, newest first, before `before` (0: from the newest).
pub async fn inbox(
    db: &Db,
    user_id: i64,
    before: i64,
    limit: i64,
) -> Result<Vec<NotificationRow>, sqlx::Error> {
    sqlx::query(
        "select notification_id, request_id, kind, subject, detail, created_at, read_at \
         from notifications where user_id = $1 and ($2 = 0 or notification_id < $2) \
         order by notification_id desc limit $3",
    )
    .bind(user_id)
    .bind(before)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| {
        Ok(NotificationRow {
            id: r.try_get("notification_id")?,
            request_id: r.try_get("request_id")?,
            kind: r.try_get("kind")?,
            subject: r.try_get("subject")?,
            detail: r.try_get("detail")?,
            created_at: r.try_get("created_at")?,
            read: r.try_get::<Option<i64>, _>("read_at")?.is_some(),
        })
    })
    .collect()
}

pub async fn unread(db: &Db, user_id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("select count(*) from notifications where user_id = $1 and read_at is null")
        .bind(user_id)
        .fetch_one(&db.pool)
        .await
}

/// Marks one of `user_id`'s notifications read, or all of them (`id` = None). Returns how many.
pub async fn mark_read(
    tx: &mut Tx<'_>,
    user_id: i64,
    id: Option<i64>,
    now: i64,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "update notifications set read_at = $3 where user_id = $1 and read_at is null \
         and ($2 = 0 or notification_id = $2)",
    )
    .bind(user_id)
    .bind(id.unwrap_or(0))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}
