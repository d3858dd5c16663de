//! What the API keeps in memory beside the database: live tokens (so a busy pipeline's calls do
//! not each read the tokens table), the requests that cover each release the gate was asked
//! about, and the gate-check writer, which commits the records of concurrent gate calls together
//! (each call still waits until its record is committed).
//!
//! Kept releases are dropped whenever a change is committed: at once for this process's own
//! changes (counted by `Write::commit`), and as soon as another process's is heard of (see
//! `watch`).

use crate::db::gate_checks::GateCheck;
use crate::db::tokens::TokenRow;
use crate::db::Db;
use crate::domain::gate::Candidate;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// How long a token or a user's teams, read from the database, are trusted before they are read
/// again: a revocation on another replica (on this one, at once) or a change of team membership
/// takes effect within this time.
pub const TOKEN_TTL: Duration = Duration::from_secs(5);
/// A token's last use is written at most this often.
pub const TOUCH_EVERY: Duration = Duration::from_secs(60);
/// The most releases kept: when the map is full it is emptied, and the calls that follow fill it
/// again with the releases still asked about.
const RELEASES_KEPT: usize = 50_000;

struct Cached {
    token: Arc<TokenRow>,
    read_at: Instant,
    touched_at: Option<Instant>,
}

use super::records::{checkpoint_wal, write_gate_checks, Pending, Records, Wal};

/// The requests covering one release, newest first.
pub type Release = Arc<Vec<Candidate>>;

/// A user as the gate knows an actor: username and teams (`None`: no such user).
pub type Member = Option<(String, Vec<String>)>;

pub struct ApiCache {
    tokens: Mutex<HashMap<String, Cached>>,
    /// Actors named in gate calls, by name, with when they were read (kept for `TOKEN_TTL`).
    members: Mutex<HashMap<String, (Member, Instant)>>,
    /// Bumped when another process's change is seen; with this process's own commits (counted
    /// by the database handle) it makes the generation a kept release was read under.
    seen: AtomicU64,
    commits: Arc<AtomicU64>,
    /// The requests covering a release ("application\0environment\0version"), newest first, with
    /// the generation they were read under.
    releases: RwLock<HashMap<String, (u64, Release)>>,
    writer: mpsc::Sender<Pending>,
    /// Dropped with the cache, which ends its watcher.
    _watched: oneshot::Sender<()>,
}

impl std::fmt::Debug for ApiCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiCache").finish_non_exhaustive()
    }
}

impl ApiCache {
    /// The cache of the database `db` (at `url`), with its gate-check writer and its change
    /// watcher running.
    pub fn start(db: &Db, url: &str) -> anyhow::Result<Arc<ApiCache>> {
        let pool = db.pool.clone();
        let records = Records::of(db, url)?;
        let (writer, inbox) = mpsc::channel(4096);
        let sqlite = matches!(records, Records::Sqlite(..));
        let wal = Arc::new(Wal::default());
        tokio::spawn(write_gate_checks(records, inbox, wal.clone()));
        let (watched, unwatched) = oneshot::channel();
        let cache = Arc::new(ApiCache {
            tokens: Mutex::new(HashMap::new()),
            members: Mutex::new(HashMap::new()),
            seen: AtomicU64::new(0),
            commits: db.commits(),
            releases: RwLock::new(HashMap::new()),
            writer,
            _watched: watched,
        });
        if sqlite {
            tokio::spawn(checkpoint_wal(pool.clone(), Arc::downgrade(&cache), wal));
        }
        let kept = Arc::downgrade(&cache);
        match db.notices() {
            Some(me) => tokio::spawn(super::watch::listen(
                url.to_owned(),
                pool,
                me,
                kept,
                unwatched,
            )),
            None => tokio::spawn(super::watch::poll_counter(pool, kept)),
        };
        Ok(cache)
    }

    /// The generation to read a release under: take it before reading. Both counts only grow,
    /// so their sum moves whenever either does.
    pub fn generation(&self) -> u64 {
        self.seen.load(Ordering::Acquire) + self.commits.load(Ordering::Acquire)
    }

    /// Another process committed a change: every kept release may be stale, and so may every
    /// kept token (revoked) and actor (teams changed).
    pub(super) fn changed(&self) {
        self.seen.fetch_add(1, Ordering::AcqRel);
        // Tokens are read again, but when each was last written as used is kept: a busy gate
        // would otherwise write every token's last use again after each change elsewhere.
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        match Instant::now().checked_sub(TOKEN_TTL) {
            Some(expired) => tokens.values_mut().for_each(|c| c.read_at = expired),
            None => tokens.clear(),
        }
        drop(tokens);
        self.members
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    fn release_key(app: &str, env: &str, version: &str) -> String {
        format!("{app}\0{env}\0{version}")
    }

    /// The requests covering a release, when kept and nothing changed since they were read.
    pub fn release(&self, app: &str, env: &str, version: &str) -> Option<Release> {
        let current = self.generation();
        let releases = self.releases.read().unwrap_or_else(|e| e.into_inner());
        releases
            .get(&Self::release_key(app, env, version))
            .filter(|(read_under, _)| *read_under == current)
            .map(|(_, candidates)| candidates.clone())
    }

    /// Keeps the requests covering a release, read under `generation`.
    pub fn keep_release(
        &self,
        generation: u64,
        app: &str,
        env: &str,
        version: &str,
        candidates: Release,
    ) {
        let mut releases = self.releases.write().unwrap_or_else(|e| e.into_inner());
        if releases.len() >= RELEASES_KEPT {
            releases.clear();
        }
        releases.insert(
            Self::release_key(app, env, version),
            (generation, candidates),
        );
    }

    /// The cached live token for `hash`, while fresh.
    pub fn token(&self, hash: &str) -> Option<Arc<TokenRow>> {
        let tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        tokens
            .get(hash)
            .filter(|c| c.read_at.elapsed() < TOKEN_TTL)
            .map(|c| c.token.clone())
    }

    /// Keeps a token read under `generation` (taken before reading): not when a change was
    /// committed meanwhile, which may have revoked it.
    pub fn keep(&self, generation: u64, hash: &str, token: Arc<TokenRow>) {
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        if self.generation() != generation {
            return;
        }
        let touched_at = tokens.get(hash).and_then(|c| c.touched_at);
        tokens.insert(
            hash.to_owned(),
            Cached {
                token,
                read_at: Instant::now(),
                touched_at,
            },
        );
    }

    /// Whether the token's last use is due to be written (and notes that it is being written).
    pub fn touch_due(&self, hash: &str) -> bool {
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        match tokens.get_mut(hash) {
            Some(c) if c.touched_at.is_some_and(|t| t.elapsed() < TOUCH_EVERY) => false,
            Some(c) => {
                c.touched_at = Some(Instant::now());
                true
            }
            None => true,
        }
    }

    /// The user named `name` and their teams, read within `TOKEN_TTL`; `None` when not cached.
    pub fn member(&self, name: &str) -> Option<Member> {
        let members = self.members.lock().unwrap_or_else(|e| e.into_inner());
        members
            .get(name)
            .filter(|(_, at)| at.elapsed() < TOKEN_TTL)
            .map(|(m, _)| m.clone())
    }

    /// Keeps an actor read under `generation` (taken before reading), as `keep` does a token.
    pub fn keep_member(&self, generation: u64, name: &str, member: Member) {
        let mut members = self.members.lock().unwrap_or_else(|e| e.into_inner());
        if self.generation() != generation {
            return;
        }
        if members.len() > 10_000 {
            members.retain(|_, (_, at)| at.elapsed() < TOKEN_TTL);
        }
        members.insert(name.to_owned(), (member, Instant::now()));
    }

    /// Forgets a token at once (revoked here).
    pub fn forget(&self, id: i64) {
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        tokens.retain(|_, c| c.token.id != id);
    }

    /// Records a gate answer; returns once it is committed.
    pub async fn record(&self, check: GateCheck) -> Result<(), sqlx::Error> {
        let (done, committed) = oneshot::channel();
        self.writer
            .send((check, done))
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        committed
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?
            .map_err(sqlx::Error::Protocol)
    }
}
