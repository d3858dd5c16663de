//! Pure rules of the portal: the catalog's model, policies and how they read in plain words.
//! Nothing in here performs I/O.

pub mod approval;
pub mod catalog;
pub mod gate;
pub mod policy;
pub mod request;
pub mod schedule;

pub use catalog::*;

/// "2026-11-27 18:52 UTC".
pub fn format_ms(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}
