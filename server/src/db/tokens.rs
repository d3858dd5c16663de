//! API tokens.

use super::Db;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

pub type Tx<'a> = Transaction<'a, Any>;

#[derive(Debug, Clone)]
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<String>,
    /// Application ids, or `["*"]` for every application.
    pub applications: Vec<String>,
    pub user_id: i64,
    pub user_name: String,
    pub created_by: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

const TOKEN_COLUMNS: &str = "t.api_token_id, t.name, t.prefix, t.scopes, t.applications, t.user_id, \
     u.display_name as user_name, c.display_name as created_by, t.created_at, t.last_used_at, t.revoked_at";

const TOKEN_FROM: &str = "api_tokens t join users u on u.user_id = t.user_id \
     join users c on c.user_id = t.created_by";

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

fn token(r: &AnyRow) -> Result<TokenRow, sqlx::Error> {
    Ok(TokenRow {
        id: r.try_get("api_token_id")?,
        name: r.try_get("name")?,
        prefix: r.try_get("prefix")?,
        scopes: words(&r.try_get::<String, _>("scopes")?),
        applications: words(&r.try_get::<String, _>("applications")?),
        user_id: r.try_get("user_id")?,
        user_name: r.try_get("user_name")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        last_used_at: r.try_get("last_used_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

pub struct NewToken<'a> {
    pub name: &'a str,
    pub prefix: &'a str,
    pub secret_hash: &'a str,
    pub scopes: &'a [String],
    pub applications: &'a [String],
    pub user_id: i64,
    pub created_by: i64,
    pub now: i64,
}

pub async fn insert_token(tx: &mut Tx<'_>, t: &NewToken<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "insert into api_tokens (name, prefix, secret_hash, scopes, applications, user_id, created_by, created_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning api_token_id",
    )
    .bind(t.name)
    .bind(t.prefix)
    .bind(t.secret_hash)
    .bind(t.scopes.join(" "))
    .bind(t.applications.join(" "))
    .bind(t.user_id)
    .bind(t.created_by)
    .bind(t.now)
    .fetch_one(&mut **tx)
    .await
}

/// Every token, newest first (revoked ones too: their history stays readable).
pub async fn tokens(db: &Db) -> Result<Vec<TokenRow>, sqlx::Error> {
    sqlx::query(&format!(
        "select {TOKEN_COLUMNS} from {TOKEN_FROM} order by t.api_token_id desc"
    ))
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(token)
    .collect()
}

/// The live token whose secret hashes to `hash`: not revoked, and acting as an enabled account.
pub async fn live_token(db: &Db, hash: &str) -> Result<Option<TokenRow>, sqlx::Error> {
    sqlx::query(&format!(
        "select {TOKEN_COLUMNS} from {TOKEN_FROM} where t.secret_hash = $1 and t.revoked_at is null \
         and u.disabled_at is null"
    ))
    .bind(hash)
    .fetch_optional(&db.pool)
    .await?
    .as_ref()
    .map(token)
    .transpose()
}

/// Revokes a token; false when there is none or it was revoked before. Committed as a change,
/// so that every replica's gate forgets the token at once.
pub async fn revoke_token(db: &Db, id: i64, now: i64) -> Result<bool, sqlx::Error> {
    let mut tx = db.write().await?;
    let done = sqlx::query(
        "update api_tokens set revoked_at = $2 where api_token_id = $1 and revoked_at is null",
    )
    .bind(id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

/// Records a use of the token; written at most once a minute per token, so a busy pipeline does
/// not turn every read into a write.
pub async fn touch_token(db: &Db, id: i64, now: i64) -> Result<(), sqlx::Error> {
    db.write_one(
        sqlx::query(
            "update api_tokens set last_used_at = $2 where api_token_id = $1 \
         and (last_used_at is null or last_used_at < $3)",
        )
        .bind(id)
        .bind(now)
        .bind(now - 60_000),
    )
    .await?;
    Ok(())
}
