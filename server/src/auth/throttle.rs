//! Slows down password guessing: after too many failures for one user name or one client,
//! further attempts are refused for a while.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures older than this are forgotten.
const WINDOW: Duration = Duration::from_secs(15 * 60);

#[derive(Debug)]
struct Entry {
    failures: u32,
    first: Instant,
    locked_until: Option<Instant>,
}

#[derive(Debug)]
pub struct LoginThrottle {
    max_failures: u32,
    lockout: Duration,
    entries: Mutex<HashMap<String, Entry>>,
}

impl LoginThrottle {
    pub fn new(max_failures: u32, lockout: Duration) -> Self {
        Self {
            max_failures,
            lockout,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn keys(username: &str, client: &str) -> [String; 2] {
        [
            format!("user:{}", username.to_lowercase()),
            format!("client:{client}"),
        ]
    }

    /// Counts an attempt before its password is checked, or refuses it with the seconds to
    /// wait. Counting first, under one lock, is what makes the limit hold for attempts sent at
    /// once: the sixth of ten parallel guesses is refused even while the first five are checked.
    pub fn admit(&self, username: &str, client: &str, now: Instant) -> Result<(), u64> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|_, e| {
            now.duration_since(e.first) < WINDOW || e.locked_until.is_some_and(|u| u > now)
        });
        let keys = Self::keys(username, client);
        let wait = keys
            .iter()
            .filter_map(|k| entries.get(k)?.locked_until)
            .filter(|until| *until > now)
            .map(|until| (until - now).as_secs_f64().ceil() as u64)
            .max();
        if let Some(secs) = wait {
            return Err(secs.max(1));
        }
        for key in keys {
            let entry = entries.entry(key).or_insert(Entry {
                failures: 0,
                first: now,
                locked_until: None,
            });
            if entry.locked_until.is_some() {
                // A lockout that has run out: start counting afresh.
                *entry = Entry {
                    failures: 0,
                    first: now,
                    locked_until: None,
                };
            }
            entry.failures += 1;
            if entry.failures >= self.max_failures {
                entry.locked_until = Some(now + self.lockout);
            }
        }
        Ok(())
    }

    /// An admitted attempt signed in: the user name's failures are forgotten and the client's
    /// count gets this attempt back.
    pub fn succeeded(&self, username: &str, client: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let [user, client] = Self::keys(username, client);
        entries.remove(&user);
        if let Some(entry) = entries.get_mut(&client) {
            entry.failures = entry.failures.saturating_sub(1);
            if entry.failures < self.max_failures {
                entry.locked_until = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_a_user_name_after_too_many_failures_then_lets_it_retry() {
        let t = LoginThrottle::new(3, Duration::from_secs(60));
        let now = Instant::now();
        for i in 0..3 {
            assert_eq!(t.admit("ada", "1.2.3.4", now), Ok(()), "attempt {i}");
        }
        assert_eq!(t.admit("ADA", "5.6.7.8", now), Err(60));
        assert_eq!(
            t.admit("ben", "1.2.3.4", now),
            Err(60),
            "the client is locked too"
        );
        assert_eq!(t.admit("ben", "5.6.7.8", now), Ok(()));
        assert_eq!(
            t.admit("ada", "9.9.9.9", now + Duration::from_secs(61)),
            Ok(())
        );
    }

    #[test]
    fn a_success_clears_the_user_names_failures() {
        let t = LoginThrottle::new(2, Duration::from_secs(60));
        let now = Instant::now();
        assert_eq!(t.admit("ada", "a", now), Ok(()));
        t.succeeded("ada", "a");
        assert_eq!(t.admit("ada", "b", now), Ok(()));
        assert_eq!(
            t.admit("ada", "c", now),
            Ok(()),
            "the first try is forgotten"
        );
        assert_eq!(t.admit("ada", "d", now), Err(60), "two attempts since");
    }

    #[test]
    fn attempts_at_once_are_counted_before_any_is_checked() {
        let t = std::sync::Arc::new(LoginThrottle::new(5, Duration::from_secs(60)));
        let now = Instant::now();
        let admitted = std::thread::scope(|s| {
            let handles: Vec<_> = (0..10)
                .map(|_| s.spawn(|| t.admit("ada", "1.2.3.4", now).is_ok()))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or(false))
                .filter(|ok| *ok)
                .count()
        });
        assert_eq!(admitted, 5);
    }
}
