//! People's private calendar feed addresses: a hashed key each.

use super::Db;

/// Gives `user_id` the key hashed as `key_hash`, replacing any they had.
pub async fn replace(db: &Db, user_id: i64, key_hash: &str, now: i64) -> Result<(), sqlx::Error> {
    let mut tx = db.write().await?;
    sqlx::query("delete from calendar_feeds where user_id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("insert into calendar_feeds (user_id, key_hash, created_at) values ($1, $2, $3)")
        .bind(user_id)
        .bind(key_hash)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    tx.commit_unseen().await?;
    Ok(())
}

/// Ends `user_id`'s address; whether they had one.
pub async fn revoke(db: &Db, user_id: i64) -> Result<bool, sqlx::Error> {
    let mut tx = db.write().await?;
    let done = sqlx::query("delete from calendar_feeds where user_id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    tx.commit_unseen().await?;
    Ok(done.rows_affected() > 0)
}

/// Whose key is hashed as `key_hash`.
pub async fn owner(db: &Db, key_hash: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("select user_id from calendar_feeds where key_hash = $1")
        .bind(key_hash)
        .fetch_optional(&db.pool)
        .await
}

/// When `user_id`'s address was made, if they have one.
pub async fn made_at(db: &Db, user_id: i64) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("select created_at from calendar_feeds where user_id = $1")
        .bind(user_id)
        .fetch_optional(&db.pool)
        .await
}
