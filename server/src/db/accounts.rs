//! Accounts as administrators change them: listed and searched, and each change made in the
//! caller's transaction so that it commits with its entry in the administration trail.

use super::{DbKind, Write};
use sqlx::{Any, Row};

/// One account as the administration page lists it.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub is_admin: bool,
    pub teams: Vec<String>,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
    /// Sessions open now.
    pub sessions: i64,
    /// Signs in through the company's identity provider.
    pub via_provider: bool,
}

/// Accounts whose name, display name or email contains `query` (every account when it is
/// empty), by user name, at most `limit`.
pub async fn search(
    exec: impl sqlx::Executor<'_, Database = Any> + Copy,
    query: &str,
    now: i64,
    limit: i64,
) -> sqlx::Result<Vec<Account>> {
    let pattern = format!("%{}%", super::board::like_escaped(&query.to_lowercase()));
    let like = "like $1 escape '\\'";
    let rows = sqlx::query(&format!(
        "select u.user_id, u.username, u.display_name, u.email, u.is_admin, u.created_at, \
         u.disabled_at, u.idp_subject, (select count(*) from sessions s where s.user_id = u.user_id \
         and s.expires_at > $2) as sessions from users u \
         where lower(u.username) {like} or lower(u.display_name) {like} or lower(u.email) {like} \
         order by u.username limit $3"
    ))
    .bind(pattern)
    .bind(now)
    .bind(limit)
    .fetch_all(exec)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let id: i64 = r.try_get("user_id")?;
        out.push(Account {
            id,
            username: r.try_get("username")?,
            display_name: r.try_get("display_name")?,
            email: r.try_get("email")?,
            is_admin: r.try_get::<i64, _>("is_admin")? != 0,
            teams: teams(exec, id).await?,
            created_at: r.try_get("created_at")?,
            disabled_at: r.try_get("disabled_at")?,
            sessions: r.try_get("sessions")?,
            via_provider: r.try_get::<Option<String>, _>("idp_subject")?.is_some(),
        });
    }
    Ok(out)
}

pub async fn teams(
    exec: impl sqlx::Executor<'_, Database = Any>,
    user_id: i64,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("select team_id from memberships where user_id = $1 order by team_id")
        .bind(user_id)
        .fetch_all(exec)
        .await
}

/// The account's id, name, admin flag and whether it is disabled, its row held until the
/// transaction ends (on SQLite the write turn holds it).
pub async fn take(
    tx: &mut Write,
    kind: DbKind,
    user_id: i64,
) -> sqlx::Result<Option<(String, bool, bool)>> {
    let lock = if kind == DbKind::Postgres {
        " for update"
    } else {
        ""
    };
    let row = sqlx::query(&format!(
        "select username, is_admin, disabled_at from users where user_id = $1{lock}"
    ))
    .bind(user_id)
    .fetch_optional(&mut ***tx)
    .await?;
    row.map(|r| {
        Ok((
            r.try_get("username")?,
            r.try_get::<i64, _>("is_admin")? != 0,
            r.try_get::<Option<i64>, _>("disabled_at")?.is_some(),
        ))
    })
    .transpose()
}

/// The enabled administrators, their rows held until the transaction ends (in one order, so two
/// administrators' changes queue rather than deadlock): two who demote each other at once cannot
/// both see the other still there.
pub async fn lock_admins(tx: &mut Write, kind: DbKind) -> sqlx::Result<Vec<i64>> {
    let lock = if kind == DbKind::Postgres {
        " for update"
    } else {
        ""
    };
    sqlx::query_scalar(&format!(
        "select user_id from users where is_admin = 1 and disabled_at is null \
         order by user_id{lock}"
    ))
    .fetch_all(&mut ***tx)
    .await
}

/// Ends every session of the account; how many there were.
pub async fn end_sessions(tx: &mut Write, user_id: i64) -> sqlx::Result<u64> {
    let done = sqlx::query("delete from sessions where user_id = $1")
        .bind(user_id)
        .execute(&mut ***tx)
        .await?;
    Ok(done.rows_affected())
}

/// Disables (at `at`) or enables the account.
pub async fn set_disabled(tx: &mut Write, user_id: i64, at: Option<i64>) -> sqlx::Result<()> {
    sqlx::query("update users set disabled_at = $2 where user_id = $1")
        .bind(user_id)
        .bind(at)
        .execute(&mut ***tx)
        .await?;
    Ok(())
}

pub async fn set_admin(tx: &mut Write, user_id: i64, admin: bool) -> sqlx::Result<()> {
    sqlx::query("update users set is_admin = $2 where user_id = $1")
        .bind(user_id)
        .bind(i64::from(admin))
        .execute(&mut ***tx)
        .await?;
    Ok(())
}

pub async fn set_password(tx: &mut Write, user_id: i64, hash: &str) -> sqlx::Result<()> {
    sqlx::query("update users set password_hash = $2 where user_id = $1")
        .bind(user_id)
        .bind(hash)
        .execute(&mut ***tx)
        .await?;
    Ok(())
}

/// Replaces the account's teams.
pub async fn set_teams(tx: &mut Write, user_id: i64, teams: &[String]) -> sqlx::Result<()> {
    sqlx::query("delete from memberships where user_id = $1")
        .bind(user_id)
        .execute(&mut ***tx)
        .await?;
    for team in teams {
        sqlx::query("insert into memberships (user_id, team_id) values ($1, $2)")
            .bind(user_id)
            .bind(team)
            .execute(&mut ***tx)
            .await?;
    }
    Ok(())
}

pub async fn set_email(tx: &mut Write, user_id: i64, email: &str) -> sqlx::Result<()> {
    sqlx::query("update users set email = $2 where user_id = $1")
        .bind(user_id)
        .bind(email)
        .execute(&mut ***tx)
        .await?;
    Ok(())
}
