//! Pure rules of the portal: the catalog's model, policies and how they read in plain words.
//! Nothing in here performs I/O.

pub mod admin_audit;
pub mod approval;
pub mod audit;
pub mod audit_chain;
pub mod calendar;
pub mod catalog;
pub mod change;
pub mod dora;
pub mod fan_out;
#[cfg(test)]
mod fixtures;
pub mod gate;
pub mod ics;
pub mod lead_time;
pub mod lifecycle;
mod lifecycle_actions;
mod lifecycle_chase;
mod lifecycle_decisions;
mod lifecycle_rules;
mod lifecycle_steps;
pub mod notice;
pub mod policy;
mod policy_model;
pub mod recurrence;
pub mod request;
pub mod schedule;
pub mod standard;
pub mod text;
pub mod text_patterns;

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
    const HEX: &[u8; 16] = b"0123456789abcdef";
    Sha256::digest(bytes)
        .iter()
        .flat_map(|b| [HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]])
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn sha256_hex_gives_the_standard_digest() {
        assert_eq!(
            super::sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
