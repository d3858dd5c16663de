//! Reading what a pipeline sends: the checks the API's use cases share, each naming its field.

use std::collections::BTreeMap;

pub(crate) fn optional(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

pub(crate) fn check_url(field: &str, url: Option<&str>, errors: &mut BTreeMap<String, String>) {
    if let Some(u) = url {
        if !(u.starts_with("https://") || u.starts_with("http://"))
            || u.len() > 2000
            || u.chars().any(|c| c.is_control() || c.is_whitespace())
        {
            errors.insert(
                field.into(),
                "An http(s) address of at most 2000 characters.".into(),
            );
        }
    }
}

pub(crate) fn parse_time(
    field: &str,
    value: Option<&str>,
    errors: &mut BTreeMap<String, String>,
) -> Option<i64> {
    let v = value?;
    match v.parse::<jiff::Timestamp>() {
        Ok(t) => Some(t.as_millisecond()),
        Err(_) => {
            errors.insert(
                field.into(),
                format!("{v} is not a time like 2026-12-24T17:00:00Z (RFC 3339)."),
            );
            None
        }
    }
}

pub(crate) fn check_version(version: &str, errors: &mut BTreeMap<String, String>) {
    if let Some(p) = crate::domain::text::version_problem(version) {
        errors.insert("version".into(), p);
    }
}
