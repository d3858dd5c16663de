//! The database: one pool for SQLite or PostgreSQL, migrations, and one query module per resource.

pub mod accounts;
pub mod admin_events;
pub mod apply;
pub mod board;
pub mod calendar;
pub mod calendar_feeds;
mod change;
pub use change::Change;
pub mod audit;
pub mod audit_trail;
pub mod away;
pub mod catalog_versions;
pub mod chases;
pub mod chat;
pub mod ci_runs;
pub mod decisions;
pub mod deployments;
pub mod digests;
pub mod dispatch;
pub mod gate_checks;
pub mod idempotency;
pub mod login_attempts;
pub mod mail;
pub mod notifications;
pub mod operator_metrics;
pub mod outbox;
pub mod pending_notices;
pub mod provider_accounts;
pub mod queue;
pub mod requests;
pub mod sessions;
pub mod stage_results;
pub mod tickets;
pub mod tokens;
pub mod turns;
pub mod users;

use anyhow::Context;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};
use std::str::FromStr;
use std::time::Duration;

static SQLITE: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("../migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    Sqlite,
    Postgres,
}

impl DbKind {
    /// The placeholders of a multi-row insert: `(?, ?), (?, ?)` on SQLite, which binds plain `?`
    /// in order (a numbered one costs a search through every parameter name), and
    /// `($1, $2), ($3, $4)` on PostgreSQL, which needs numbered ones.
    pub fn values_placeholders(self, rows: usize, columns: usize) -> String {
        let mut out = String::with_capacity(rows * columns * 5);
        for r in 0..rows {
            out.push_str(if r == 0 { "(" } else { ", (" });
            for c in 1..=columns {
                if c > 1 {
                    out.push_str(", ");
                }
                match self {
                    DbKind::Sqlite => out.push('?'),
                    DbKind::Postgres => {
                        out.push('$');
                        out.push_str(&(r * columns + c).to_string());
                    }
                }
            }
            out.push(')');
        }
        out
    }
}

#[derive(Debug, Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub kind: DbKind,
    /// Changes this process committed (see `Write::commit`): what is kept in memory beside the
    /// database (the gate's answers) is stale once it moves.
    commits: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Ids of requests that just changed, for the live pages and the dispatch worker; sent once
    /// the change is committed.
    pub changes: tokio::sync::broadcast::Sender<i64>,
    /// On SQLite, the writers of this process take turns here (see `turns`).
    writers: turns::Turns,
    /// On PostgreSQL, what this handle signs its commit notices with (see `Write::commit`), so
    /// that it can tell its own from other replicas'.
    notices: Option<std::sync::Arc<str>>,
}

/// The channel on which a commit is told to every replica (PostgreSQL only).
pub const COMMITS_CHANNEL: &str = "runway_commits";

/// A transaction that writes (see `Db::write`). It derefs to the transaction; committing it
/// also counts a change, so what this process and the others keep in memory for the gate is read
/// again.
pub struct Write {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    commits: std::sync::Arc<std::sync::atomic::AtomicU64>,
    changes: tokio::sync::broadcast::Sender<i64>,
    /// Requests to announce once committed.
    announced: Vec<i64>,
    /// Held until the transaction ends (SQLite only).
    _turn: Option<turns::Turn>,
    /// The signature of this handle's commit notices (PostgreSQL only).
    notices: Option<std::sync::Arc<str>>,
}

impl std::ops::Deref for Write {
    type Target = sqlx::Transaction<'static, sqlx::Any>;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for Write {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

impl Write {
    /// Tells `user`'s open pages that their inbox changed, once the transaction commits.
    pub fn tell(&mut self, user: i64) {
        self.announce(Change::Inbox(user).encode());
    }

    /// Announces `request` once the transaction commits.
    pub fn announce(&mut self, request: i64) {
        if !self.announced.contains(&request) {
            self.announced.push(request);
        }
    }

    /// Commits a change that cannot alter a gate answer (no request's state, no decision): what
    /// is kept in memory for the gate stays valid. The dispatch worker's progress notes use it:
    /// waiting for a window, a run started or still running, a retry planned.
    pub async fn commit_unseen(self) -> sqlx::Result<()> {
        let Write {
            tx,
            changes,
            announced,
            _turn,
            ..
        } = self;
        tx.commit().await?;
        drop(_turn);
        for id in announced {
            // Nobody listening is no error.
            let _ = changes.send(id);
        }
        Ok(())
    }

    /// Commits a change, counted, and on PostgreSQL told to every replica (a notice is sent
    /// when the transaction commits, and not at all when it does not).
    pub async fn commit(mut self) -> sqlx::Result<()> {
        match &self.notices {
            Some(me) => {
                sqlx::query(
                    "with counted as (update change_counter set n = n + 1 where id = 1 returning n) \
                     select pg_notify($1, $2) from counted",
                )
                .bind(COMMITS_CHANNEL)
                .bind(&**me)
                .execute(&mut *self.tx)
                .await?;
            }
            None => {
                sqlx::query("update change_counter set n = n + 1 where id = 1")
                    .execute(&mut *self.tx)
                    .await?;
            }
        }
        let commits = self.commits.clone();
        self.commit_unseen().await?;
        commits.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        Ok(())
    }
}

/// The URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

impl Db {
    /// Whether a listing query may be kept prepared. On PostgreSQL a kept statement soon runs a
    /// generic plan, which cannot see that a search pattern or a filter is rare and walks the
    /// whole table backwards to fill a page of newest-first results; sent afresh, it is planned
    /// for its own values. Only the listings need that: everything else (the gate's records
    /// above all) keeps its plan.
    pub fn keep_listing_prepared(&self) -> bool {
        self.kind == DbKind::Sqlite
    }

    /// Connects, creating the SQLite file and its folder when needed.
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Db> {
        sqlx::any::install_default_drivers();
        let kind = if url.starts_with("postgres") {
            DbKind::Postgres
        } else {
            DbKind::Sqlite
        };
        if kind == DbKind::Sqlite {
            create_sqlite_folder(url)?;
        }
        let options = AnyConnectOptions::from_str(url).with_context(|| {
            format!(
                "RUNWAY_DATABASE_URL {} is not a valid database URL",
                redact(url)
            )
        })?;
        let pool = pool_options(kind, max_connections)
            .connect_with(options.clone())
            .await
            .with_context(|| format!("cannot connect to the database at {}", redact(url)))?;
        Ok(Db {
            pool,
            kind,
            commits: std::sync::Arc::default(),
            changes: tokio::sync::broadcast::channel(1024).0,
            writers: turns::Turns::default(),
            notices: (kind == DbKind::Postgres)
                .then(|| format!("{:016x}", rand::random::<u64>()).into()),
        })
    }

    /// Begins a transaction that will write. On SQLite it takes the write lock at once
    /// (`begin immediate`), waiting out the busy timeout for another writer: a deferred
    /// transaction that reads first cannot wait when it later writes, and fails with
    /// "database is locked" whenever another connection wrote meanwhile.
    #[track_caller]
    pub fn write(&self) -> impl std::future::Future<Output = sqlx::Result<Write>> + Send + '_ {
        self.write_by(std::panic::Location::caller())
    }

    /// [`Db::write`], the turn taken at `by` (named if it is held too long).
    async fn write_by(&self, by: &'static std::panic::Location<'static>) -> sqlx::Result<Write> {
        let (tx, turn) = match self.kind {
            DbKind::Sqlite => {
                let turn = self.writers.take(by).await?;
                (self.pool.begin_with("begin immediate").await?, Some(turn))
            }
            DbKind::Postgres => (self.pool.begin().await?, None),
        };
        Ok(Write {
            tx,
            commits: self.commits.clone(),
            changes: self.changes.clone(),
            announced: Vec::new(),
            _turn: turn,
            notices: self.notices.clone(),
        })
    }

    /// Runs one statement that writes, on the one write path: on SQLite it waits its turn
    /// behind this process's other writers (see [`Db::write`]) instead of meeting SQLite's busy
    /// handler; on PostgreSQL it runs as it is.
    #[track_caller]
    pub fn write_one<'a, 'q: 'a>(
        &'a self,
        query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> impl std::future::Future<Output = sqlx::Result<sqlx::any::AnyQueryResult>> + Send + use<'a, 'q>
    {
        let by = std::panic::Location::caller();
        async move {
            match self.kind {
                DbKind::Postgres => query.execute(&self.pool).await,
                DbKind::Sqlite => {
                    let mut tx = self.write_by(by).await?;
                    let done = query.execute(&mut **tx).await?;
                    tx.commit_unseen().await?;
                    Ok(done)
                }
            }
        }
    }

    /// What this handle's commit notices carry (PostgreSQL only): a notice carrying it is one's
    /// own.
    pub fn notices(&self) -> Option<std::sync::Arc<str>> {
        self.notices.clone()
    }

    /// The count of changes this process committed, for what keeps answers in memory.
    pub fn commits(&self) -> std::sync::Arc<std::sync::atomic::AtomicU64> {
        self.commits.clone()
    }

    /// The turn SQLite's writers of this process take (see [`Db::write`]), for a writer with a
    /// connection of its own.
    pub fn writers(&self) -> turns::Turns {
        self.writers.clone()
    }

    fn migrator(&self) -> &'static Migrator {
        match self.kind {
            DbKind::Sqlite => &SQLITE,
            DbKind::Postgres => &POSTGRES,
        }
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        self.migrator()
            .run(&self.pool)
            .await
            .context("cannot apply the database migrations")
    }

    /// Reachable, and every migration this build knows is applied.
    pub async fn is_ready(&self) -> bool {
        let expected = i64::try_from(self.migrator().iter().count()).unwrap_or(i64::MAX);
        let applied: Result<i64, _> =
            sqlx::query_scalar("select count(*) from _sqlx_migrations where success = true")
                .fetch_one(&self.pool)
                .await;
        matches!(applied, Ok(n) if n >= expected)
    }
}

fn pool_options(kind: DbKind, max_connections: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        // A pool pings a connection before lending it, a round trip to the database; SQLite's
        // live in this process and cannot have been hung up on.
        .test_before_acquire(kind == DbKind::Postgres)
        .after_connect(move |conn, _| Box::pin(prepare_connection(kind, conn)))
}

/// On SQLite: WAL lets readers run beside the writer; the busy timeout makes a second writer wait
/// instead of failing at once; the log is cut back to 64 MiB after each checkpoint that empties
/// it, so that a burst of writes does not leave a large file behind for good.
pub(crate) async fn prepare_connection(
    kind: DbKind,
    conn: &mut sqlx::AnyConnection,
) -> sqlx::Result<()> {
    if kind == DbKind::Sqlite {
        conn.execute("pragma journal_mode = wal; pragma busy_timeout = 5000; pragma foreign_keys = on; pragma synchronous = normal; pragma journal_size_limit = 67108864")
            .await?;
    }
    Ok(())
}

fn create_sqlite_folder(url: &str) -> anyhow::Result<()> {
    let path = url
        .trim_start_matches("sqlite:")
        .trim_start_matches("//")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    if let Some(dir) = std::path::Path::new(path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the data folder {}", dir.display()))?;
    }
    Ok(())
}

/// Milliseconds since the epoch, UTC: how every timestamp is stored.
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

#[cfg(test)]
#[path = "mod_tests.rs"]
mod tests;
