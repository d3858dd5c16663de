//! The sign-in throttle's counts (see `auth::throttle`), one row per user name or client.

use super::{Db, DbKind, Write};
use crate::auth::throttle::Entry;
use sqlx::Row;

/// Drops the counts that no longer matter: begun before `before` and not locked at `now`.
pub async fn forget_before(db: &Db, before: i64, now: i64) -> sqlx::Result<()> {
    db.write_one(
        sqlx::query(
            "delete from login_attempts where first_at < $1 \
             and (locked_until is null or locked_until <= $2)",
        )
        .bind(before)
        .bind(now),
    )
    .await?;
    Ok(())
}

/// The counts of `keys`, held until the transaction ends. On SQLite the transaction's write turn
/// already keeps other writers out; on PostgreSQL a lock per key (taken in one order, so two
/// attempts never wait on each other) covers keys that have no row yet.
pub async fn take(
    tx: &mut Write,
    kind: DbKind,
    keys: &[String; 2],
) -> sqlx::Result<[Option<Entry>; 2]> {
    if kind == DbKind::Postgres {
        let mut sorted: Vec<&String> = keys.iter().collect();
        sorted.sort();
        for key in sorted {
            sqlx::query("select pg_advisory_xact_lock(hashtextextended($1, 7041))")
                .bind(key)
                .execute(&mut ***tx)
                .await?;
        }
    }
    let mut out = [None, None];
    for (slot, key) in out.iter_mut().zip(keys) {
        let row = sqlx::query(
            "select failures, first_at, locked_until from login_attempts where attempt_key = $1",
        )
        .bind(key)
        .fetch_optional(&mut ***tx)
        .await?;
        *slot = row
            .map(|r| {
                Ok::<_, sqlx::Error>(Entry {
                    failures: r.try_get("failures")?,
                    first_at: r.try_get("first_at")?,
                    locked_until: r.try_get("locked_until")?,
                })
            })
            .transpose()?;
    }
    Ok(out)
}

/// Writes the counts back: a key without one is removed.
pub async fn store(
    tx: &mut Write,
    keys: &[String; 2],
    counts: &[Option<Entry>; 2],
) -> sqlx::Result<()> {
    for (key, count) in keys.iter().zip(counts) {
        match count {
            Some(e) => sqlx::query(
                "insert into login_attempts (attempt_key, failures, first_at, locked_until) \
                 values ($1, $2, $3, $4) on conflict (attempt_key) do update set \
                 failures = excluded.failures, first_at = excluded.first_at, \
                 locked_until = excluded.locked_until",
            )
            .bind(key)
            .bind(e.failures)
            .bind(e.first_at)
            .bind(e.locked_until),
            None => sqlx::query("delete from login_attempts where attempt_key = $1").bind(key),
        }
        .execute(&mut ***tx)
        .await?;
    }
    Ok(())
}
