//! Finished Insights reports kept in memory, so that people opening the page and pipelines
//! polling the API do not each read and compute the same period again.
//!
//! A report is used again only while the database's metrics counter is what it was computed
//! under (the counter moves in the transaction that keeps a deployment, records a commit time or
//! opens an incident, on whichever replica), and for at most `FRESH`, after which the period's
//! edges have moved enough to matter. Readers asking for the same report while it is computed
//! wait for that computation rather than starting their own: it began after they asked, so it
//! holds everything committed before they did.

use crate::service::insights::DoraReport;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a report stays good while nothing it is computed from changes.
const FRESH: Duration = Duration::from_secs(60);
/// The most reports kept (a few kilobytes each): when full, the stale ones are dropped, then all
/// of them.
const MOST: usize = 512;

/// A report, shared by the readers it was kept for.
pub type Answer = Arc<DoraReport>;

/// What a report is for: the application asked for (if one), the environment, the period, and
/// the applications it covers once the team and the reader's rights are applied.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub application: Option<String>,
    pub environment: String,
    pub days: i64,
    pub applications: Vec<String>,
}

struct Kept {
    counter: i64,
    started: Instant,
    answer: Answer,
}

type Slot = Arc<tokio::sync::Mutex<Option<Kept>>>;

#[derive(Default)]
pub struct Reports {
    slots: Mutex<HashMap<Key, Slot>>,
}

impl std::fmt::Debug for Reports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reports").finish_non_exhaustive()
    }
}

impl Reports {
    /// The report for `key`: the one kept when still good under `counter` (read just now), else
    /// the one `compute` makes, kept for the readers that follow.
    pub async fn get<E, F, Fut>(&self, key: Key, counter: i64, compute: F) -> Result<Answer, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Answer, E>>,
    {
        let asked = Instant::now();
        let slot = self.slot(key);
        let mut kept = slot.lock().await;
        if let Some(k) = kept.as_ref() {
            let fresh = k.started.elapsed() < FRESH;
            if fresh && (k.counter == counter || k.started >= asked) {
                return Ok(k.answer.clone());
            }
        }
        let started = Instant::now();
        let answer = compute().await?;
        *kept = Some(Kept {
            counter,
            started,
            answer: answer.clone(),
        });
        Ok(answer)
    }

    fn slot(&self, key: Key) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if slots.len() >= MOST && !slots.contains_key(&key) {
            // A slot being computed is locked; one holding a stale report or nothing is not
            // worth its memory.
            slots.retain(|_, slot| {
                slot.try_lock().map_or(true, |k| {
                    k.as_ref().is_some_and(|k| k.started.elapsed() < FRESH)
                })
            });
            if slots.len() >= MOST {
                slots.clear();
            }
        }
        slots.entry(key).or_default().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn key(days: i64) -> Key {
        Key {
            application: None,
            environment: "production".into(),
            days,
            applications: vec!["banking".into()],
        }
    }

    async fn answer(runs: &AtomicUsize, days: i64) -> Result<Answer, ()> {
        runs.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(20)).await;
        let report = crate::service::insights::report(&[], &[], None, "production", days, 0, 1);
        Ok(Arc::new(report))
    }

    #[tokio::test]
    async fn a_report_is_computed_again_only_when_its_counter_moves() {
        let (reports, runs) = (Reports::default(), AtomicUsize::new(0));
        for counter in [1, 1, 2, 2] {
            reports
                .get(key(90), counter, || answer(&runs, 90))
                .await
                .expect("computed");
        }
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        let other = reports.get(key(30), 2, || answer(&runs, 30)).await;
        let other = other.expect("computed");
        assert_eq!(other.days, 30, "each filter has its own report");
        assert_eq!(runs.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn readers_asking_together_share_one_computation() {
        let (reports, runs) = (Reports::default(), AtomicUsize::new(0));
        let asks = (0..8).map(|i| reports.get(key(90), i, || answer(&runs, 90)));
        let answers = futures_util::future::join_all(asks).await;
        assert!(answers.iter().all(Result::is_ok));
        // The first computes; the others asked before it started, so each counter change they
        // bring makes one more, until one started after all of them asked.
        assert!(runs.load(Ordering::SeqCst) <= 2, "{runs:?}");
    }
}
