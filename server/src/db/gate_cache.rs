//! What the API keeps in memory beside the database: live tokens (so a busy pipeline's calls do
//! not each read the tokens table) and the gate-check writer, which commits the records of
//! concurrent gate calls together (each call still waits until its record is committed).

use super::api::{GateCheck, TokenRow};
use sqlx::AnyPool;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// How long a token or a user's teams, read from the database, are trusted before they are read
/// again: a revocation on another replica (on this one, at once) or a change of team membership
/// takes effect within this time.
pub const TOKEN_TTL: Duration = Duration::from_secs(5);
/// A token's last use is written at most this often.
pub const TOUCH_EVERY: Duration = Duration::from_secs(60);

struct Cached {
    token: TokenRow,
    read_at: Instant,
    touched_at: Option<Instant>,
}

type Pending = (GateCheck, oneshot::Sender<Result<(), String>>);

/// A user as the gate knows an actor: username and teams (`None`: no such user).
pub type Member = Option<(String, Vec<String>)>;

pub struct ApiCache {
    tokens: Mutex<HashMap<String, Cached>>,
    /// Actors named in gate calls, by name, with when they were read (kept for `TOKEN_TTL`).
    members: Mutex<HashMap<String, (Member, Instant)>>,
    writer: mpsc::Sender<Pending>,
}

impl std::fmt::Debug for ApiCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiCache").finish_non_exhaustive()
    }
}

impl ApiCache {
    pub fn new(pool: AnyPool) -> ApiCache {
        let (writer, inbox) = mpsc::channel(4096);
        tokio::spawn(write_gate_checks(pool, inbox));
        ApiCache {
            tokens: Mutex::new(HashMap::new()),
            members: Mutex::new(HashMap::new()),
            writer,
        }
    }

    /// The cached live token for `hash`, while fresh.
    pub fn token(&self, hash: &str) -> Option<TokenRow> {
        let tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        tokens
            .get(hash)
            .filter(|c| c.read_at.elapsed() < TOKEN_TTL)
            .map(|c| c.token.clone())
    }

    pub fn keep(&self, hash: &str, token: TokenRow) {
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
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

    pub fn keep_member(&self, name: &str, member: Member) {
        let mut members = self.members.lock().unwrap_or_else(|e| e.into_inner());
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

/// The most records one commit takes.
const BATCH: usize = 256;

/// Commits whatever gate records wait, together, then tells each caller.
async fn write_gate_checks(pool: AnyPool, mut inbox: mpsc::Receiver<Pending>) {
    while let Some(first) = inbox.recv().await {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match inbox.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let outcome = insert_all(&pool, &batch).await.map_err(|e| e.to_string());
        if let Err(e) = &outcome {
            tracing::error!(error = %e, records = batch.len(), "cannot record gate answers");
        }
        for (_, done) in batch {
            let _ = done.send(outcome.clone());
        }
    }
}

async fn insert_all(pool: &AnyPool, batch: &[Pending]) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    for (check, _) in batch {
        super::api::insert_gate_check(&mut *tx, check).await?;
    }
    tx.commit().await
}
