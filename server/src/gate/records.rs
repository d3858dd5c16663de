//! The gate-check writer: commits the records of concurrent gate calls together on a connection
//! of its own (each call still waits until its record is committed), and on SQLite keeps the
//! write-ahead log from growing while it writes.

use super::cache::ApiCache;
use crate::db::gate_checks::GateCheck;
use sqlx::any::AnyConnectOptions;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{AnyConnection, AnyPool, Connection, Executor};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// A record waiting to be written, and who waits for it.
pub(super) type Pending = (GateCheck, oneshot::Sender<Result<(), String>>);

/// The most records one commit takes.
const BATCH: usize = 256;

/// Where the gate's records are written: a connection of their own (they never wait behind a
/// page's queries for one), connected on first use and held by
/// their writer alone. Not a pool: a pool tests a connection with a round trip to the database
/// each time it is taken and each time it is given back, which would triple a batch's round
/// trips.
pub enum Records {
    /// With the process's turn for SQLite writers (see `Db::write`).
    Sqlite(AnyConnectOptions, crate::db::turns::Turns),
    Postgres(Box<PgConnectOptions>),
}

impl Records {
    /// The records' connection to the database `db` at `url`.
    pub(super) fn of(db: &crate::db::Db, url: &str) -> anyhow::Result<Records> {
        use std::str::FromStr;
        Ok(match db.kind {
            crate::db::DbKind::Sqlite => {
                Records::Sqlite(AnyConnectOptions::from_str(url)?, db.writers())
            }
            // Named, so that an administrator can tell it apart in `pg_stat_activity`.
            crate::db::DbKind::Postgres => Records::Postgres(Box::new(
                PgConnectOptions::from_str(url)?.application_name("runway gate records"),
            )),
        })
    }
}

enum RecordsConnection {
    Sqlite(AnyConnection),
    Postgres(PgConnection),
}

/// The longest wait for the records' connection to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest wait for PostgreSQL to take a batch: a connection that died without a word (a
/// firewall's idle drop, a failover) would otherwise hold every gate call until TCP gives up.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

fn timed_out(what: &str, limit: Duration) -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        format!("{what} within {} s", limit.as_secs()),
    ))
}

/// Whether an error says the connection itself is gone (not the statement refused).
fn connection_lost(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) => true,
        // Connection exceptions, and the server shutting down or terminating this backend.
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("08") || matches!(&*c, "57P01" | "57P02" | "57P03")),
        _ => false,
    }
}

/// Why a batch was not written.
struct Failure {
    error: sqlx::Error,
    /// The batch surely recorded nothing, and failed because the connection is gone: it may be
    /// written again on a new one.
    may_retry: bool,
}

impl Records {
    async fn connect(&self) -> Result<RecordsConnection, sqlx::Error> {
        let connect = async {
            Ok(match self {
                Records::Sqlite(options, _) => {
                    let mut conn = AnyConnection::connect_with(options).await?;
                    crate::db::prepare_connection(crate::db::DbKind::Sqlite, &mut conn).await?;
                    // Checkpoints run beside this writer (`checkpoint_wal`), never inside a
                    // batch's commit.
                    conn.execute("pragma wal_autocheckpoint = 0").await?;
                    RecordsConnection::Sqlite(conn)
                }
                Records::Postgres(options) => {
                    let mut conn = PgConnection::connect_with(options).await?;
                    // A gate record's commit does not wait for the flush of PostgreSQL's log to
                    // disk, much as on SQLite (WAL, `synchronous = normal`): the record is
                    // committed before the answer is given, so a crash of the portal loses none;
                    // a crash of PostgreSQL or of its host may lose the last moments of records
                    // (never a request or a decision: only this connection skips the wait).
                    conn.execute("set synchronous_commit = off").await?;
                    RecordsConnection::Postgres(conn)
                }
            })
        };
        tokio::time::timeout(CONNECT_TIMEOUT, connect)
            .await
            .unwrap_or_else(|_| {
                Err(timed_out(
                    "cannot connect to the database for the gate's records",
                    CONNECT_TIMEOUT,
                ))
            })
    }
}

impl RecordsConnection {
    async fn insert(&mut self, checks: &[GateCheck]) -> Result<(), Failure> {
        match self {
            // SQLite's connection lives in this process: nothing to lose, nothing to retry (a
            // locked database already waited out the busy timeout).
            RecordsConnection::Sqlite(conn) => {
                crate::db::gate_checks::insert_gate_checks(conn, checks)
                    .await
                    .map_err(|error| Failure {
                        error,
                        may_retry: false,
                    })
            }
            RecordsConnection::Postgres(conn) => {
                let mut ending = false;
                let copy = crate::db::gate_checks::copy_gate_checks(conn, checks, &mut ending);
                let outcome = tokio::time::timeout(WRITE_TIMEOUT, copy)
                    .await
                    .unwrap_or_else(|_| {
                        Err(timed_out(
                            "the database did not take the gate's records",
                            WRITE_TIMEOUT,
                        ))
                    });
                outcome.map_err(|error| Failure {
                    may_retry: !ending && connection_lost(&error),
                    error,
                })
            }
        }
    }

    async fn close(self) {
        let _ = match self {
            RecordsConnection::Sqlite(conn) => conn.close().await,
            RecordsConnection::Postgres(conn) => conn.close().await,
        };
    }
}

/// Writes a batch on the kept connection, opening one first when there is none. The connection
/// is kept only when the batch is written. A batch that fails on a connection kept from before,
/// because that connection is gone and before any row could be committed, is written once more
/// on a new one: PostgreSQL may have restarted or dropped it since the last batch.
async fn write_batch(
    records: &Records,
    connection: &mut Option<RecordsConnection>,
    checks: &[GateCheck],
) -> Result<(), sqlx::Error> {
    // On SQLite a batch waits its turn behind the other writers of this process.
    let _turn = match records {
        Records::Sqlite(_, writers) => Some(writers.take(std::panic::Location::caller()).await?),
        Records::Postgres(_) => None,
    };
    if let Some(mut conn) = connection.take() {
        match conn.insert(checks).await {
            Ok(()) => {
                *connection = Some(conn);
                return Ok(());
            }
            Err(Failure {
                error,
                may_retry: true,
            }) => {
                tracing::warn!(%error, "the gate records' connection was lost: writing on a new one");
            }
            Err(Failure { error, .. }) => return Err(error),
        }
    }
    let mut conn = records.connect().await?;
    conn.insert(checks).await.map_err(|f| f.error)?;
    *connection = Some(conn);
    Ok(())
}

/// A batch of fewer records than this first lets the runtime run its other ready tasks
/// (`TURNS` times), so that the calls being answered meanwhile join it.
const SMALL_BATCH: usize = 32;
/// How many times a small batch lets the runtime run first. No timer: with nothing else ready,
/// the runtime comes straight back, so a lone call loses microseconds. Under a steady load the
/// batches grew, and the log SQLite writes in a second fell from 75 to 47 MB while calls/s rose
/// a little (each commit rewrites the table's last page, however few records it adds).
const TURNS: usize = 2;

/// Moves the records waiting in `inbox` into the batch, up to `BATCH`.
fn take_waiting(
    inbox: &mut mpsc::Receiver<Pending>,
    checks: &mut Vec<GateCheck>,
    waiting: &mut Vec<oneshot::Sender<Result<(), String>>>,
) {
    while checks.len() < BATCH {
        let Ok((check, done)) = inbox.try_recv() else {
            return;
        };
        checks.push(check);
        waiting.push(done);
    }
}

/// Commits whatever gate records wait, together, then tells each caller; then the records that
/// came meanwhile. One batch at a time: while it is written the next one grows, so a busy gate
/// writes few large batches (on PostgreSQL, four batches side by side measured a quarter slower
/// than one); a small one waits a few turns of the runtime (`TURNS`). The connection opens on
/// the first batch (see `write_batch`).
pub(super) async fn write_gate_checks(
    records: Records,
    mut inbox: mpsc::Receiver<Pending>,
    wal: Arc<Wal>,
) {
    let mut connection: Option<RecordsConnection> = None;
    let mut checks = Vec::with_capacity(BATCH);
    let mut waiting = Vec::with_capacity(BATCH);
    while let Some((check, done)) = inbox.recv().await {
        checks.push(check);
        waiting.push(done);
        take_waiting(&mut inbox, &mut checks, &mut waiting);
        for _ in 0..TURNS {
            if checks.len() >= SMALL_BATCH {
                break;
            }
            tokio::task::yield_now().await;
            take_waiting(&mut inbox, &mut checks, &mut waiting);
        }
        let outcome = write_batch(&records, &mut connection, &checks)
            .await
            .map_err(|e| e.to_string());
        wal.recorded.store(true, Ordering::Release);
        if let Err(e) = &outcome {
            tracing::error!(error = %e, records = checks.len(), "cannot record gate answers");
        }
        checks.clear();
        for done in waiting.drain(..) {
            let _ = done.send(outcome.clone());
        }
        if wal.catch_up.swap(false, Ordering::AcqRel) {
            if let Some(RecordsConnection::Sqlite(conn)) = &mut connection {
                if let Err(e) = conn.execute("pragma wal_checkpoint(passive)").await {
                    tracing::debug!(error = %e, "cannot checkpoint the database's log");
                }
            }
        }
    }
    if let Some(conn) = connection {
        conn.close().await;
    }
}

/// How often SQLite's log is copied into the database file while the gate records.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// What the gate's writer and the checkpoints of SQLite's log tell each other.
#[derive(Default)]
pub(super) struct Wal {
    /// Records were written since the last checkpoint.
    recorded: AtomicBool,
    /// A checkpoint found frames in the log, and records may have been added while it ran: the
    /// writer checkpoints after its next batch.
    catch_up: AtomicBool,
}

/// Copies SQLite's write-ahead log into the database file every `CHECKPOINT_EVERY` in which gate
/// records were written, beside their writer: the records' connection does not checkpoint as it
/// commits (see `Records::connect`), so a batch of records never waits for the bulk of a
/// checkpoint's writes and flushes to disk, and neither do the calls waiting on it. A passive
/// checkpoint takes no lock a writer needs.
///
/// But SQLite starts the log over only when a write begins with every frame copied, and a writer
/// that never pauses has always appended more by then: under a steady load the file grew without
/// bound (750 MB in 10 s at 60,000 calls/s, before this catch-up). So after each checkpoint that
/// found frames in the log, the writer runs one itself after its next batch (`Wal::catch_up`),
/// which copies only the frames added while the first one ran, with nobody appending meanwhile;
/// the next batch and the calls behind it wait for that one, once per interval. That batch then
/// starts the log over.
/// The file keeps the size of the longest stretch between two restarts (46–48 MB after a
/// steady load of 60,000–77,000 calls/s), and is reused from its start.
pub(super) async fn checkpoint_wal(pool: AnyPool, cache: Weak<ApiCache>, wal: Arc<Wal>) {
    loop {
        tokio::time::sleep(CHECKPOINT_EVERY).await;
        if cache.strong_count() == 0 {
            return;
        }
        // Without gate records since the last look, the other connections' commits checkpoint
        // as usual.
        if !wal.recorded.swap(false, Ordering::AcqRel) {
            continue;
        }
        // (busy, frames in the log, frames copied so far): both count only the frames there
        // were when the checkpoint began, never those the writer added meanwhile.
        match sqlx::query_as::<_, (i64, i64, i64)>("pragma wal_checkpoint(passive)")
            .fetch_one(&pool)
            .await
        {
            Ok((_, log, _)) if log > 0 => wal.catch_up.store(true, Ordering::Release),
            Ok(_) => {}
            Err(e) => tracing::debug!(error = %e, "cannot checkpoint the database's log"),
        }
    }
}
