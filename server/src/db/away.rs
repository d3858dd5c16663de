//! Out of office: from when until when a person is away, and the delegate who decides and is
//! told in their place meanwhile.

use super::requests::Tx;
use super::Db;
use sqlx::Row;

/// A person's absence, as set on their profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Away {
    pub from: i64,
    /// The first instant they are back.
    pub until: i64,
    pub delegate_id: i64,
    pub delegate_username: String,
}

pub async fn get(db: &Db, user_id: i64) -> Result<Option<Away>, sqlx::Error> {
    let row = sqlx::query(
        "select u.away_from, u.away_until, u.delegate_id, d.username from users u \
         join users d on d.user_id = u.delegate_id \
         where u.user_id = $1 and u.away_from is not null and u.away_until is not null",
    )
    .bind(user_id)
    .fetch_optional(&db.pool)
    .await?;
    row.map(|r| {
        Ok(Away {
            from: r.try_get(0)?,
            until: r.try_get(1)?,
            delegate_id: r.try_get(2)?,
            delegate_username: r.try_get(3)?,
        })
    })
    .transpose()
}

/// Those away at `now` who named `delegate_id` to act in their place: (id, display name).
pub async fn delegators(
    db: &Db,
    delegate_id: i64,
    now: i64,
) -> Result<Vec<(i64, String)>, sqlx::Error> {
    sqlx::query(
        "select user_id, display_name from users where delegate_id = $1 \
         and away_from <= $2 and away_until > $2 order by user_id",
    )
    .bind(delegate_id)
    .bind(now)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
    .collect()
}

/// Of `ids`, those away at `now`, each with their delegate.
pub async fn delegates(
    tx: &mut Tx<'_>,
    ids: &[i64],
    now: i64,
) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    // The ids are numbers from the database itself, never text from a person.
    sqlx::query(&format!(
        "select user_id, delegate_id from users where user_id in ({}) \
         and delegate_id is not null and away_from <= $1 and away_until > $1",
        list.join(", ")
    ))
    .bind(now)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
    .collect()
}
