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

    /// Seconds to wait before another attempt, if the user name or client is locked out.
    pub fn retry_after(&self, username: &str, client: &str, now: Instant) -> Option<u64> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        Self::keys(username, client)
            .iter()
            .filter_map(|k| entries.get(k)?.locked_until)
            .filter(|until| *until > now)
            .map(|until| (until - now).as_secs_f64().ceil() as u64)
            .max()
    }

    pub fn record_failure(&self, username: &str, client: &str, now: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|_, e| {
            now.duration_since(e.first) < WINDOW || e.locked_until.is_some_and(|u| u > now)
        });
        for key in Self::keys(username, client) {
            let entry = entries.entry(key).or_insert(Entry {
                failures: 0,
                first: now,
                locked_until: None,
            });
            entry.failures += 1;
            if entry.failures >= self.max_failures {
                entry.locked_until = Some(now + self.lockout);
                entry.failures = 0;
                entry.first = now;
            }
        }
    }

    pub fn record_success(&self, username: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(&Self::keys(username, "")[0]);
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
            assert_eq!(t.retry_after("ada", "1.2.3.4", now), None, "attempt {i}");
            t.record_failure("ada", "1.2.3.4", now);
        }
        assert_eq!(t.retry_after("ADA", "5.6.7.8", now), Some(60));
        assert_eq!(
            t.retry_after("ben", "1.2.3.4", now),
            Some(60),
            "the client is locked too"
        );
        assert_eq!(t.retry_after("ben", "5.6.7.8", now), None);
        assert_eq!(
            t.retry_after("ada", "5.6.7.8", now + Duration::from_secs(61)),
            None
        );
    }

    #[test]
    fn a_success_clears_the_user_names_failures() {
        let t = LoginThrottle::new(2, Duration::from_secs(60));
        let now = Instant::now();
        t.record_failure("ada", "a", now);
        t.record_success("ada");
        t.record_failure("ada", "b", now);
        assert_eq!(t.retry_after("ada", "c", now), None);
    }
}
