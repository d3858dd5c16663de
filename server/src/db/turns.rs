//! SQLite takes one writer at a time. This process's writers take turns here (see `Db::write`)
//! rather than in SQLite's busy handler, which sleeps in steps of up to 100 ms when it finds the
//! database locked. A turn not given within `TURN_WAIT` is an error that names where the turn is
//! held and for how long, never a wait without end: a writer that waits for another write
//! while it holds its turn would otherwise stop every writer of the process, silently.

use std::panic::Location;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::OwnedMutexGuard;

/// The longest wait for a turn: far beyond any write's own time.
const TURN_WAIT: Duration = Duration::from_secs(20);

type Holder = Option<(&'static Location<'static>, Instant)>;

#[derive(Debug, Clone, Default)]
pub struct Turns {
    lock: Arc<tokio::sync::Mutex<()>>,
    /// Where the turn was taken, and when.
    holder: Arc<Mutex<Holder>>,
}

/// A turn, held until dropped.
pub struct Turn {
    _guard: OwnedMutexGuard<()>,
    holder: Arc<Mutex<Holder>>,
}

impl Drop for Turn {
    fn drop(&mut self) {
        *self.holder.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

impl Turns {
    /// Waits for the turn; `by` is where it is taken, named if it is held too long.
    pub async fn take(&self, by: &'static Location<'static>) -> sqlx::Result<Turn> {
        match tokio::time::timeout(TURN_WAIT, self.lock.clone().lock_owned()).await {
            Ok(guard) => {
                *self.holder.lock().unwrap_or_else(|e| e.into_inner()) = Some((by, Instant::now()));
                Ok(Turn {
                    _guard: guard,
                    holder: self.holder.clone(),
                })
            }
            Err(_) => {
                let held = match *self.holder.lock().unwrap_or_else(|e| e.into_inner()) {
                    Some((at, since)) => {
                        format!("held at {at} for {} s", since.elapsed().as_secs())
                    }
                    None => "held".to_owned(),
                };
                let message = format!(
                    "no turn to write within {} s (wanted at {by}; the turn is {held})",
                    TURN_WAIT.as_secs()
                );
                tracing::error!("{message}");
                Err(sqlx::Error::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    message,
                )))
            }
        }
    }
}
