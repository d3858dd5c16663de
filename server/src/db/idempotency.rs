//! Idempotency keys of pipeline-opened requests.

use sqlx::{Any, Row, Transaction};

pub type Tx<'a> = Transaction<'a, Any>;

/// The request an idempotency key made, and the hash of the body it came with.
pub async fn idempotent(
    tx: &mut Tx<'_>,
    token: i64,
    key: &str,
) -> Result<Option<(String, i64)>, sqlx::Error> {
    let row = sqlx::query(
        "select body_hash, request_id from idempotency_keys where api_token_id = $1 and key = $2",
    )
    .bind(token)
    .bind(key)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|r| Ok((r.try_get("body_hash")?, r.try_get("request_id")?)))
        .transpose()
}

pub async fn insert_idempotency(
    tx: &mut Tx<'_>,
    token: i64,
    key: &str,
    body_hash: &str,
    request_id: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into idempotency_keys (api_token_id, key, body_hash, request_id, created_at) \
         values ($1, $2, $3, $4, $5)",
    )
    .bind(token)
    .bind(key)
    .bind(body_hash)
    .bind(request_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
