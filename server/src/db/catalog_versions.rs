use super::{now_ms, Db};
use sqlx::Row;

#[derive(Debug, Clone)]
pub struct CatalogVersion {
    pub id: i64,
    pub checksum: String,
    pub source: String,
    pub origin: String,
    pub applied_at: i64,
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<CatalogVersion, sqlx::Error> {
    Ok(CatalogVersion {
        id: row.try_get("catalog_version_id")?,
        checksum: row.try_get("checksum")?,
        source: row.try_get("source")?,
        origin: row.try_get("origin")?,
        applied_at: row.try_get("applied_at")?,
    })
}

#[tracing::instrument(skip(db))]
pub async fn latest(db: &Db) -> Result<Option<CatalogVersion>, sqlx::Error> {
    sqlx::query(
        "select catalog_version_id, checksum, source, origin, applied_at
         from catalog_versions order by catalog_version_id desc limit 1",
    )
    .fetch_optional(&db.pool)
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

/// Newest first, without their text.
pub async fn history(db: &Db, limit: i64) -> Result<Vec<CatalogVersion>, sqlx::Error> {
    sqlx::query(
        "select catalog_version_id, checksum, '' as source, origin, applied_at
         from catalog_versions order by catalog_version_id desc limit $1",
    )
    .bind(limit)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(from_row)
    .collect()
}

/// The channel on which a newly applied catalog version is told to every replica (PostgreSQL).
pub const CATALOG_CHANNEL: &str = "runway_catalog";

#[tracing::instrument(skip(db, source))]
pub async fn insert(
    db: &Db,
    checksum: &str,
    source: &str,
    origin: &str,
) -> Result<CatalogVersion, sqlx::Error> {
    let applied_at = now_ms();
    let mut tx = db.write().await?;
    let id: i64 = sqlx::query_scalar(
        "insert into catalog_versions (checksum, source, origin, applied_at)
         values ($1, $2, $3, $4) returning catalog_version_id",
    )
    .bind(checksum)
    .bind(source)
    .bind(origin)
    .bind(applied_at)
    .fetch_one(&mut **tx)
    .await?;
    if db.kind == crate::db::DbKind::Postgres {
        // Sent when the version commits: the other replicas apply it at once.
        sqlx::query("select pg_notify($1, $2)")
            .bind(CATALOG_CHANNEL)
            .bind(id.to_string())
            .execute(&mut **tx)
            .await?;
    }
    tx.commit().await?;
    Ok(CatalogVersion {
        id,
        checksum: checksum.to_owned(),
        source: source.to_owned(),
        origin: origin.to_owned(),
        applied_at,
    })
}
