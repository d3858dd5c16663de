//! Accounts of people who sign in through the company's OpenID provider, found by the subject
//! the provider names them with. Each function works in the caller's transaction.

use super::Write;
use sqlx::Row;

/// The account the provider's subject names: its id, user name and whether it is disabled.
pub async fn find(tx: &mut Write, subject: &str) -> sqlx::Result<Option<(i64, String, bool)>> {
    let row =
        sqlx::query("select user_id, username, disabled_at from users where idp_subject = $1")
            .bind(subject)
            .fetch_optional(&mut ***tx)
            .await?;
    row.map(|r| {
        Ok((
            r.try_get("user_id")?,
            r.try_get("username")?,
            r.try_get::<Option<i64>, _>("disabled_at")?.is_some(),
        ))
    })
    .transpose()
}

pub async fn name_taken(tx: &mut Write, username: &str) -> sqlx::Result<bool> {
    // Without regard to case: a newcomer "root" must not sit beside a local "Root".
    let n: i64 = sqlx::query_scalar("select count(*) from users where lower(username) = lower($1)")
        .bind(username)
        .fetch_one(&mut ***tx)
        .await?;
    Ok(n > 0)
}

/// Names the account by the provider's subject: from now on only the provider signs it in.
pub async fn link(tx: &mut Write, user_id: i64, subject: &str) -> sqlx::Result<()> {
    sqlx::query("update users set idp_subject = $2, password_hash = '' where user_id = $1")
        .bind(user_id)
        .bind(subject)
        .execute(&mut ***tx)
        .await?;
    Ok(())
}

/// The name to show, as the provider knows it today.
pub async fn set_display_name(tx: &mut Write, user_id: i64, name: &str) -> sqlx::Result<()> {
    sqlx::query("update users set display_name = $2 where user_id = $1")
        .bind(user_id)
        .bind(name)
        .execute(&mut ***tx)
        .await?;
    Ok(())
}

/// Whether the account signs in through the provider (and so has no password to reset and
/// takes its teams from there).
pub async fn is_linked(tx: &mut Write, user_id: i64) -> sqlx::Result<bool> {
    let subject: Option<Option<String>> =
        sqlx::query_scalar("select idp_subject from users where user_id = $1")
            .bind(user_id)
            .fetch_optional(&mut ***tx)
            .await?;
    Ok(subject.flatten().is_some())
}
