//! SQLite takes one writer at a time. This process's writers take turns here (see `Db::write`)
//! rather than in SQLite's busy handler, which sleeps in steps of up to 100 ms when it finds the
//! database locked. A turn not given within `TURN_WAIT` is an error that names where the turn is
//! held and for how long, never a wait without end: a writer that waits for another write
//! while it holds its turn would otherwise stop every writer of the process, silently.
//!
//! Work in the background (the dispatch worker's claims, polls and notes, run inside
//! [`in_background`]) queues for the turn one writer at a time, so a person's change (an approval
//! above all) waits for at most one background write besides the one under way, however many
//! runs are being looked at.

use std::panic::Location;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::OwnedMutexGuard;

/// The longest wait for a turn: far beyond any write's own time.
const TURN_WAIT: Duration = Duration::from_secs(20);

type Holder = Option<(&'static Location<'static>, Instant)>;

tokio::task_local! {
    static BACKGROUND: ();
}

/// Runs `work` as background work: its writes give way to people's (see the module).
pub async fn in_background<F: std::future::Future>(work: F) -> F::Output {
    BACKGROUND.scope((), work).await
}

#[derive(Debug, Clone, Default)]
pub struct Turns {
    lock: Arc<tokio::sync::Mutex<()>>,
    /// Background writers pass here one at a time before they queue for the turn.
    background: Arc<tokio::sync::Mutex<()>>,
    /// Where the turn was taken, and when.
    holder: Arc<Mutex<Holder>>,
}

/// A turn, held until dropped. The turn is given back before the background passage, so a person
/// queued meanwhile goes before the next background writer.
pub struct Turn {
    _guard: OwnedMutexGuard<()>,
    _passage: Option<OwnedMutexGuard<()>>,
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
        let background = BACKGROUND.try_with(|()| ()).is_ok();
        let queue = async {
            let passage = if background {
                Some(self.background.clone().lock_owned().await)
            } else {
                None
            };
            (self.lock.clone().lock_owned().await, passage)
        };
        match tokio::time::timeout(TURN_WAIT, queue).await {
            Ok((guard, passage)) => {
                *self.holder.lock().unwrap_or_else(|e| e.into_inner()) = Some((by, Instant::now()));
                Ok(Turn {
                    _guard: guard,
                    _passage: passage,
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
