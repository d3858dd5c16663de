//! Slows down password guessing: after too many failures for one user name or one client,
//! further attempts are refused for a while. The counts live in the database, so every replica
//! counts the same attempts and a restart forgets none; the rule itself is pure (`Counts`).

use crate::db::{login_attempts, Db};
use std::time::Duration;

/// Failures older than this are forgotten.
const WINDOW_MS: i64 = 15 * 60 * 1000;

/// One key's count: a user name's or a client's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub failures: i64,
    pub first_at: i64,
    pub locked_until: Option<i64>,
}

impl Entry {
    fn fresh(now: i64) -> Entry {
        Entry {
            failures: 0,
            first_at: now,
            locked_until: None,
        }
    }

    /// Whether this count still matters at `now`: within its window, or locked.
    fn live(&self, now: i64) -> bool {
        now - self.first_at < WINDOW_MS || self.locked_until.is_some_and(|u| u > now)
    }
}

#[derive(Debug)]
pub struct LoginThrottle {
    max_failures: u32,
    lockout: Duration,
}

impl LoginThrottle {
    pub fn new(max_failures: u32, lockout: Duration) -> Self {
        Self {
            max_failures,
            lockout,
        }
    }

    /// The two keys an attempt counts under, the user name's first.
    pub fn keys(username: &str, client: &str) -> [String; 2] {
        [
            format!("user:{}", username.to_lowercase()),
            format!("client:{client}"),
        ]
    }

    /// Counts an attempt before its password is checked, or refuses it with the seconds to
    /// wait. `counts` are the two keys' stored counts, changed in place. Counting first is what
    /// makes the limit hold for attempts sent at once: the sixth of ten parallel guesses is
    /// refused even while the first five are checked.
    pub fn admit_counts(&self, counts: &mut [Option<Entry>; 2], now: i64) -> Result<(), u64> {
        for c in counts.iter_mut() {
            if c.is_some_and(|e| !e.live(now)) {
                *c = None;
            }
        }
        let wait = counts
            .iter()
            .filter_map(|c| c.as_ref()?.locked_until)
            .filter(|until| *until > now)
            .max();
        if let Some(until) = wait {
            return Err(((until - now) as u64).div_ceil(1000).max(1));
        }
        let lockout = i64::try_from(self.lockout.as_millis()).unwrap_or(i64::MAX);
        for c in counts.iter_mut() {
            // A lockout that has run out: counting starts afresh.
            let entry = c.get_or_insert(Entry::fresh(now));
            if entry.locked_until.is_some() {
                *entry = Entry::fresh(now);
            }
            entry.failures += 1;
            if entry.failures >= i64::from(self.max_failures) {
                entry.locked_until = Some(now.saturating_add(lockout));
            }
        }
        Ok(())
    }

    /// An admitted attempt signed in: the user name's failures are forgotten and the client's
    /// count gets this attempt back.
    pub fn success_counts(&self, counts: &mut [Option<Entry>; 2]) {
        counts[0] = None;
        if let Some(entry) = counts[1].as_mut() {
            entry.failures = (entry.failures - 1).max(0);
            if entry.failures < i64::from(self.max_failures) {
                entry.locked_until = None;
            }
        }
    }

    /// `admit_counts` on the stored counts, in one transaction that holds both keys' rows.
    pub async fn admit(
        &self,
        db: &Db,
        username: &str,
        client: &str,
    ) -> sqlx::Result<Result<(), u64>> {
        let keys = Self::keys(username, client);
        let now = crate::db::now_ms();
        // Forgetting stale counts first, on its own, so that it never waits on (or holds) a key
        // another attempt holds.
        login_attempts::forget_before(db, now - WINDOW_MS, now).await?;
        let mut tx = db.write().await?;
        let mut counts = login_attempts::take(&mut tx, db.kind, &keys).await?;
        let verdict = self.admit_counts(&mut counts, now);
        if verdict.is_ok() {
            login_attempts::store(&mut tx, &keys, &counts).await?;
        }
        tx.commit_unseen().await?;
        Ok(verdict)
    }

    pub async fn succeeded(&self, db: &Db, username: &str, client: &str) -> sqlx::Result<()> {
        let keys = Self::keys(username, client);
        let mut tx = db.write().await?;
        let mut counts = login_attempts::take(&mut tx, db.kind, &keys).await?;
        self.success_counts(&mut counts);
        login_attempts::store(&mut tx, &keys, &counts).await?;
        tx.commit_unseen().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admit(
        t: &LoginThrottle,
        store: &mut std::collections::HashMap<String, Entry>,
        user: &str,
        client: &str,
        now: i64,
    ) -> Result<(), u64> {
        let keys = LoginThrottle::keys(user, client);
        let mut counts = [store.get(&keys[0]).copied(), store.get(&keys[1]).copied()];
        let verdict = t.admit_counts(&mut counts, now);
        for (k, c) in keys.iter().zip(counts) {
            match c {
                Some(e) => store.insert(k.clone(), e),
                None => store.remove(k),
            };
        }
        verdict
    }

    #[test]
    fn locks_a_user_name_after_too_many_failures_then_lets_it_retry() {
        let t = LoginThrottle::new(3, Duration::from_secs(60));
        let mut s = Default::default();
        for i in 0..3 {
            assert_eq!(
                admit(&t, &mut s, "ada", "1.2.3.4", 0),
                Ok(()),
                "attempt {i}"
            );
        }
        assert_eq!(admit(&t, &mut s, "ADA", "5.6.7.8", 0), Err(60));
        assert_eq!(
            admit(&t, &mut s, "ben", "1.2.3.4", 0),
            Err(60),
            "the client is locked too"
        );
        assert_eq!(admit(&t, &mut s, "ben", "5.6.7.8", 0), Ok(()));
        assert_eq!(admit(&t, &mut s, "ada", "9.9.9.9", 61_000), Ok(()));
    }

    #[test]
    fn a_success_clears_the_user_names_failures() {
        let t = LoginThrottle::new(2, Duration::from_secs(60));
        let mut counts = [None, None];
        assert_eq!(t.admit_counts(&mut counts, 0), Ok(()));
        t.success_counts(&mut counts);
        assert_eq!(counts[0], None);
        assert_eq!(counts[1].map(|e| e.failures), Some(0));
        assert_eq!(t.admit_counts(&mut counts, 0), Ok(()));
        assert_eq!(t.admit_counts(&mut counts, 0), Ok(()), "the second locks");
        assert_eq!(
            t.admit_counts(&mut counts, 0),
            Err(60),
            "two attempts since"
        );
    }

    #[test]
    fn failures_older_than_the_window_are_forgotten() {
        let t = LoginThrottle::new(2, Duration::from_secs(60));
        let mut counts = [None, None];
        assert_eq!(t.admit_counts(&mut counts, 0), Ok(()));
        assert_eq!(t.admit_counts(&mut counts, WINDOW_MS), Ok(()));
        assert_eq!(counts[0].map(|e| e.failures), Some(1));
    }
}
