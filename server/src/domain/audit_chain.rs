//! The audit trail's hash chain. Each request's events form one chain: an event's hash covers
//! its content and the hash of the event before it, and the request row keeps the hash of the
//! last one (its head). One chain per request rather than one for the portal: every change of a
//! request already holds that request's row, so chaining costs no lock shared by all writers
//! (replicas never queue behind each other's audit writes), and a removed last event still shows,
//! as the head no longer matches. Pure.

use super::sha256_hex;

/// The hash of an event with this content following `prev` (empty for a request's first event).
pub fn link(prev: &str, e: &Content<'_>) -> String {
    // One field per line, the free-form payload last: no field can pass for another.
    let actor = e.actor_id.map(|a| a.to_string()).unwrap_or_default();
    let text = format!(
        "runway-audit-v1\n{prev}\n{}\n{actor}\n{}\n{}\n{}",
        e.request_id, e.kind, e.at, e.payload
    );
    sha256_hex(text.as_bytes())
}

/// What an event's hash covers.
#[derive(Debug, Clone, Copy)]
pub struct Content<'a> {
    pub request_id: i64,
    pub actor_id: Option<i64>,
    pub kind: &'a str,
    pub payload: &'a str,
    pub at: i64,
}

/// An event as stored, with its place in the chain.
#[derive(Debug, Clone)]
pub struct Stored {
    pub event_id: i64,
    pub request_id: i64,
    pub actor_id: Option<i64>,
    pub kind: String,
    pub payload: String,
    pub at: i64,
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
}

impl Stored {
    pub fn content(&self) -> Content<'_> {
        Content {
            request_id: self.request_id,
            actor_id: self.actor_id,
            kind: &self.kind,
            payload: &self.payload,
            at: self.at,
        }
    }
}

/// The first thing wrong with a request's trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// This event's content no longer matches its hash: it was changed.
    Changed { event_id: i64 },
    /// This event does not follow the one before it, but the event before that one: it was
    /// inserted.
    Inserted { event_id: i64 },
    /// Events between these two (or before the first, when `after` is `None`) were removed.
    Removed { after: Option<i64>, before: i64 },
    /// The last events were removed: the request's head names a later one.
    TailRemoved { after: Option<i64> },
}

impl Finding {
    /// The finding in words, naming the request and the event.
    pub fn describe(&self, request_id: i64) -> String {
        self.describe_in(&format!("request #{request_id}"))
    }

    /// The finding in words, naming the trail (`request #5`, `the administration trail`).
    pub fn describe_in(&self, trail: &str) -> String {
        match self {
            Finding::Changed { event_id } => format!(
                "{trail}, event {event_id}: changed (its content no longer matches its hash)"
            ),
            Finding::Inserted { event_id } => format!(
                "{trail}, event {event_id}: inserted (it does not follow the event before it)"
            ),
            Finding::Removed {
                after: Some(after),
                before,
            } => format!("{trail}: an event between events {after} and {before} was removed"),
            Finding::Removed {
                after: None,
                before,
            } => {
                format!("{trail}: an event before event {before}, its first, was removed")
            }
            Finding::TailRemoved { after: Some(after) } => {
                format!("{trail}: an event after event {after}, its last, was removed")
            }
            Finding::TailRemoved { after: None } => {
                format!("{trail}: every event of its trail was removed")
            }
        }
    }
}

/// Walks one request's `events` (in the order they were written) against the request's `head`.
pub fn check(events: &[Stored], head: &str) -> Option<Finding> {
    let mut prev = String::new();
    let mut prev_prev: Option<String> = None;
    let mut last: Option<i64> = None;
    for e in events {
        let hash = e.hash.as_deref().unwrap_or_default();
        let claimed_prev = e.prev_hash.as_deref().unwrap_or_default();
        if e.hash.is_none() || link(claimed_prev, &e.content()) != hash {
            // A row without a hash was never written by the portal.
            return Some(if e.hash.is_none() {
                Finding::Inserted {
                    event_id: e.event_id,
                }
            } else {
                Finding::Changed {
                    event_id: e.event_id,
                }
            });
        }
        if claimed_prev != prev {
            // Following the event before the previous one: the previous one was slipped in.
            return Some(match (&prev_prev, last) {
                (Some(pp), Some(inserted)) if pp == claimed_prev => {
                    Finding::Inserted { event_id: inserted }
                }
                _ => Finding::Removed {
                    after: last,
                    before: e.event_id,
                },
            });
        }
        prev_prev = Some(std::mem::replace(&mut prev, hash.to_owned()));
        last = Some(e.event_id);
    }
    if prev != head {
        return Some(match (&prev_prev, last) {
            // The head names the one before the last: the last was added behind the portal.
            (Some(pp), Some(inserted)) if pp == head => Finding::Inserted { event_id: inserted },
            _ => Finding::TailRemoved { after: last },
        });
    }
    None
}

#[cfg(test)]
#[path = "audit_chain_tests.rs"]
mod tests;
