//! Reading what a pipeline sends: the checks the API's use cases share, each naming its field.
//! Values are taken exactly as sent, never trimmed, so that the API's document (built from the
//! same rules in `domain::text_patterns`) says exactly what is accepted.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A commit a pipeline names, with when it was made.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommitInput {
    /// The commit's id (its hash).
    pub id: String,
    /// When it was committed (RFC 3339).
    pub at: String,
}

/// The most commits one call may name.
pub const MAX_COMMITS: usize = 250;

/// When the change was committed: the earliest of `commit_at` and the `commits`' times, each
/// mistake named by its field (`commits.2.at`).
pub(crate) fn commit_time(
    commit_at: Option<&str>,
    commits: &[CommitInput],
    errors: &mut BTreeMap<String, String>,
) -> Option<i64> {
    if commits.len() > MAX_COMMITS {
        errors.insert(
            "commits".into(),
            format!("At most {MAX_COMMITS} commits; name the earliest ones."),
        );
        return None;
    }
    let mut times = vec![parse_time("commit_at", commit_at, errors)];
    for (i, c) in commits.iter().enumerate() {
        if let Some(p) = crate::domain::text::version_problem(&c.id) {
            errors.insert(format!("commits.{i}.id"), p);
        }
        times.push(parse_time(&format!("commits.{i}.at"), Some(&c.at), errors));
    }
    times.into_iter().flatten().min()
}

/// An optional text value: empty is the same as not given.
pub(crate) fn optional(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

pub(crate) fn check_url(field: &str, url: Option<&str>, errors: &mut BTreeMap<String, String>) {
    if let Some(p) = url.and_then(crate::domain::text::url_problem) {
        errors.insert(field.into(), p);
    }
}

/// A moment in RFC 3339 (`2026-12-24T17:00:00Z`, `2026-12-24t18:00:00.5+01:00`), as
/// milliseconds; anything else (a missing second, a space for the `T`, a bare date) names the
/// field.
pub(crate) fn parse_time(
    field: &str,
    value: Option<&str>,
    errors: &mut BTreeMap<String, String>,
) -> Option<i64> {
    let v = value?;
    match rfc3339(v) {
        Some(ms) => Some(ms),
        None => {
            errors.insert(
                field.into(),
                format!("{v} is not a time like 2026-12-24T17:00:00Z (RFC 3339)."),
            );
            None
        }
    }
}

/// RFC 3339's `date-time`, strictly: what JSON Schema's `date-time` format admits.
fn rfc3339(v: &str) -> Option<i64> {
    let b = v.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let shape = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && matches!(b[10], b'T' | b't')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !shape {
        return None;
    }
    let mut rest = &v[19..];
    // A fraction of any length; jiff reads nine digits, so the rest is dropped.
    let mut fraction = "";
    if let Some(after) = rest.strip_prefix('.') {
        let n = after.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        fraction = &after[..n.min(9)];
        rest = &after[n..];
    }
    let offset = match rest.as_bytes() {
        [b'Z' | b'z'] => "Z".to_owned(),
        [b'+' | b'-', h1, h2, b':', m1, m2]
            if [h1, h2, m1, m2].iter().all(|d| d.is_ascii_digit()) =>
        {
            if (*h1 - b'0') * 10 + (*h2 - b'0') > 23 || (*m1 - b'0') * 10 + (*m2 - b'0') > 59 {
                return None;
            }
            rest.to_owned()
        }
        _ => return None,
    };
    // A leap second (`:60`) is the last moment of its minute.
    let second = if &v[17..19] == "60" { "59" } else { &v[17..19] };
    let dot = if fraction.is_empty() { "" } else { "." };
    let text = format!(
        "{}T{}:{second}{dot}{fraction}{offset}",
        &v[..10],
        &v[11..16]
    );
    text.parse::<jiff::Timestamp>()
        .ok()
        .map(|t| t.as_millisecond())
}

/// A day as `YYYY-MM-DD`, strictly (no other ISO 8601 spelling).
pub(crate) fn parse_day(v: &str) -> Option<jiff::civil::Date> {
    let b = v.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    shape.then(|| v.parse().ok()).flatten()
}

pub(crate) fn check_version(version: &str, errors: &mut BTreeMap<String, String>) {
    if let Some(p) = crate::domain::text::version_problem(version) {
        errors.insert("version".into(), p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_and_nothing_else() {
        let ms = |v: &str| rfc3339(v);
        assert_eq!(ms("1970-01-01T00:00:01Z"), Some(1000));
        assert_eq!(ms("1970-01-01t01:00:01.5+01:00"), Some(1500));
        assert_eq!(ms("1970-01-01T00:00:00.1234567891234z"), Some(123));
        assert_eq!(ms("1970-01-01T00:00:60Z"), Some(59_000));
        for bad in [
            "",
            "1970-01-01",
            "1970-01-01 00:00:00Z",
            "1970-01-01T00:00Z",
            "1970-01-01T00:00:00",
            "1970-01-01T00:00:00+0100",
            "1970-01-01T00:00:00.Z",
            "1970-02-30T00:00:00Z",
            "1970-01-01T24:00:00Z",
            "1970-01-01T00:00:00+24:00",
            "+01970-01-01T00:00:00Z",
        ] {
            assert_eq!(ms(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn days_are_iso_calendar_dates() {
        assert!(parse_day("2026-12-06").is_some());
        for bad in [
            "20261206",
            "2026-12-6",
            "2026-02-30",
            "+2026-12-06",
            " 2026-12-06",
        ] {
            assert!(parse_day(bad).is_none(), "{bad:?}");
        }
    }
}
