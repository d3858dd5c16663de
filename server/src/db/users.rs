use super::{now_ms, Db};
use sqlx::Row;

#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub is_admin: bool,
    pub teams: Vec<String>,
    /// The zone their profile names for times; empty: their browser's.
    pub time_zone: String,
    /// Someone away now named them their delegate.
    pub stands_in: bool,
    /// An administrator disabled the account: it signs in nowhere.
    pub disabled: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("a user named {0} already exists")]
    Exists(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

fn is_unique_violation(e: &sqlx::Error, constraint: &str) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            db.constraint() == Some(constraint)
                // SQLite does not report constraint names; its message names the column.
                || (db.is_unique_violation() && db.message().contains("users.username"))
        }
        _ => false,
    }
}

/// The password hash of an account, for login.
pub async fn password_hash(db: &Db, username: &str) -> Result<Option<(i64, String)>, sqlx::Error> {
    let row = sqlx::query("select user_id, password_hash from users where username = $1")
        .bind(username)
        .fetch_optional(&db.pool)
        .await?;
    row.map(|r| Ok((r.try_get("user_id")?, r.try_get("password_hash")?)))
        .transpose()
}

/// The account named `username`, with its teams.
pub async fn by_username(db: &Db, username: &str) -> Result<Option<User>, sqlx::Error> {
    let id: Option<i64> = sqlx::query_scalar("select user_id from users where username = $1")
        .bind(username)
        .fetch_optional(&db.pool)
        .await?;
    match id {
        Some(id) => by_id(db, id).await,
        None => Ok(None),
    }
}

pub async fn by_id(db: &Db, user_id: i64) -> Result<Option<User>, sqlx::Error> {
    let Some(row) = sqlx::query(
        "select u.user_id, u.username, u.display_name, u.is_admin, u.time_zone, u.disabled_at, \
         (select count(*) from users d where d.delegate_id = u.user_id \
          and d.away_from <= $2 and d.away_until > $2) as away_for \
         from users u where u.user_id = $1",
    )
    .bind(user_id)
    .bind(now_ms())
    .fetch_optional(&db.pool)
    .await?
    else {
        return Ok(None);
    };
    let teams: Vec<String> =
        sqlx::query_scalar("select team_id from memberships where user_id = $1 order by team_id")
            .bind(user_id)
            .fetch_all(&db.pool)
            .await?;
    Ok(Some(User {
        id: row.try_get("user_id")?,
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        is_admin: row.try_get::<i64, _>("is_admin")? != 0,
        teams,
        time_zone: row.try_get("time_zone")?,
        stands_in: row.try_get::<i64, _>("away_for")? > 0,
        disabled: row.try_get::<Option<i64>, _>("disabled_at")?.is_some(),
    }))
}

/// Creates an account and its memberships in one transaction.
pub async fn create(
    db: &Db,
    username: &str,
    display_name: &str,
    password_hash: &str,
    is_admin: bool,
    teams: &[String],
) -> Result<i64, CreateUserError> {
    let mut tx = db.write().await?;
    let id = insert(
        &mut tx,
        username,
        display_name,
        password_hash,
        is_admin,
        teams,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Creates an account and its memberships in the caller's transaction.
pub async fn insert(
    tx: &mut super::Write,
    username: &str,
    display_name: &str,
    password_hash: &str,
    is_admin: bool,
    teams: &[String],
) -> Result<i64, CreateUserError> {
    let id: i64 = sqlx::query_scalar(
        "insert into users (username, display_name, password_hash, is_admin, created_at)
         values ($1, $2, $3, $4, $5) returning user_id",
    )
    .bind(username)
    .bind(display_name)
    .bind(password_hash)
    .bind(i64::from(is_admin))
    .bind(now_ms())
    .fetch_one(&mut ***tx)
    .await
    .map_err(|e| {
        if is_unique_violation(&e, "users_username_key") {
            CreateUserError::Exists(username.to_owned())
        } else {
            CreateUserError::Db(e)
        }
    })?;
    super::accounts::set_teams(tx, id, teams).await?;
    Ok(id)
}

/// Sets a person's email address (checked by the caller). Returns false when no such user exists.
pub async fn set_email(db: &Db, username: &str, email: &str) -> Result<bool, sqlx::Error> {
    let done = db
        .write_one(
            sqlx::query("update users set email = $1 where username = $2")
                .bind(email)
                .bind(username),
        )
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Sets a person's email address unless they have one.
pub async fn set_email_if_unset(db: &Db, username: &str, email: &str) -> Result<(), sqlx::Error> {
    db.write_one(
        sqlx::query("update users set email = $1 where username = $2 and email = ''")
            .bind(email)
            .bind(username),
    )
    .await?;
    Ok(())
}

pub async fn count(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("select count(*) from users")
        .fetch_one(&db.pool)
        .await
}

/// Every membership as (team id, user id, display name), ordered by team then name.
pub async fn members(db: &Db) -> Result<Vec<(String, i64, String)>, sqlx::Error> {
    sqlx::query(
        "select m.team_id, u.user_id, u.display_name from memberships m
         join users u on u.user_id = m.user_id order by m.team_id, u.display_name",
    )
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| {
        Ok((
            r.try_get("team_id")?,
            r.try_get("user_id")?,
            r.try_get("display_name")?,
        ))
    })
    .collect()
}

/// What a person set on their profile.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    pub email: String,
    pub time_zone: String,
    pub mail_prefs: String,
}

pub async fn profile(db: &Db, user_id: i64) -> Result<Profile, sqlx::Error> {
    let row = sqlx::query("select email, time_zone, mail_prefs from users where user_id = $1")
        .bind(user_id)
        .fetch_optional(&db.pool)
        .await?;
    row.map_or(Ok(Profile::default()), |r| {
        Ok(Profile {
            email: r.try_get("email")?,
            time_zone: r.try_get("time_zone")?,
            mail_prefs: r.try_get("mail_prefs")?,
        })
    })
}

/// Saves a profile with the person's absence: (from, until, delegate), or none.
pub async fn set_profile(
    db: &Db,
    user_id: i64,
    p: &Profile,
    away: Option<(i64, i64, i64)>,
) -> Result<(), sqlx::Error> {
    db.write_one(
        sqlx::query(
            "update users set email = $2, time_zone = $3, mail_prefs = $4, away_from = $5, \
             away_until = $6, delegate_id = $7, \
             digest_sent_at = case when $4 like '%+digest%' then digest_sent_at end \
             where user_id = $1",
        )
        .bind(user_id)
        .bind(&p.email)
        .bind(&p.time_zone)
        .bind(&p.mail_prefs)
        .bind(away.map(|a| a.0))
        .bind(away.map(|a| a.1))
        .bind(away.map(|a| a.2)),
    )
    .await?;
    Ok(())
}
