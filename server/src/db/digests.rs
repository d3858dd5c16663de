//! Daily digests: who asked for one, when their last went, and what they were told since.

use super::Db;
use sqlx::Row;

/// A person who receives one daily digest instead of single mails.
#[derive(Debug, Clone)]
pub struct Subscriber {
    pub user_id: i64,
    pub email: String,
    pub time_zone: String,
    pub mail_prefs: String,
    /// When their last digest went (or they were first seen asking for one).
    pub sent_at: Option<i64>,
}

/// Everyone whose preferences mention the digest, who has an address and who is not away at
/// `now` (their digest waits for their return, and then lists everything since the last); the
/// caller reads the preferences exactly.
pub async fn subscribers(db: &Db, now: i64) -> Result<Vec<Subscriber>, sqlx::Error> {
    sqlx::query(
        "select user_id, email, time_zone, mail_prefs, digest_sent_at from users \
         where mail_prefs like '%digest%' and email <> '' and disabled_at is null \
         and not (coalesce(away_from, $1 + 1) <= $1 and coalesce(away_until, $1) > $1) \
         order by user_id",
    )
    .bind(now)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| {
        Ok(Subscriber {
            user_id: r.try_get("user_id")?,
            email: r.try_get("email")?,
            time_zone: r.try_get("time_zone")?,
            mail_prefs: r.try_get("mail_prefs")?,
            sent_at: r.try_get("digest_sent_at")?,
        })
    })
    .collect()
}

/// Moves `user_id`'s last digest from `was` to `to` if no other worker moved it first.
pub async fn advance(
    db: &Db,
    user_id: i64,
    was: Option<i64>,
    to: Option<i64>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "update users set digest_sent_at = $3 where user_id = $1 \
         and coalesce(digest_sent_at, -1) = $2",
    )
    .bind(user_id)
    .bind(was.unwrap_or(-1))
    .bind(to)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A notification as a digest lists it.
#[derive(Debug, Clone)]
pub struct Told {
    pub request_id: i64,
    pub kind: String,
    pub subject: String,
    pub detail: String,
    pub created_at: i64,
}

/// What `user_id` was told after `after` and up to `until`, oldest first, at most `limit`.
pub async fn told_between(
    db: &Db,
    user_id: i64,
    after: i64,
    until: i64,
    limit: i64,
) -> Result<Vec<Told>, sqlx::Error> {
    sqlx::query(
        "select request_id, kind, subject, detail, created_at from notifications \
         where user_id = $1 and created_at > $2 and created_at <= $3 \
         order by notification_id limit $4",
    )
    .bind(user_id)
    .bind(after)
    .bind(until)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| {
        Ok(Told {
            request_id: r.try_get("request_id")?,
            kind: r.try_get("kind")?,
            subject: r.try_get("subject")?,
            detail: r.try_get("detail")?,
            created_at: r.try_get("created_at")?,
        })
    })
    .collect()
}
