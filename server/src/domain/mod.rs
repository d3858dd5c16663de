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

/// SHA-256 of `bytes` as 64 lower-case hex digits.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    use std::fmt::Write;
    Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
