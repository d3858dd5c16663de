//! Checks of the catalog's change windows and freezes.

use super::raw::*;
use super::validate::Checker;
use crate::domain::text::capitalise;
use crate::domain::*;
use std::collections::HashSet;

pub(super) fn window(
    c: &mut Checker<'_>,
    i: usize,
    w: &RawWindow,
    seen: &mut HashSet<String>,
) -> Window {
    let field = format!("windows[{i}]");
    let id = c.id(&w.id, &format!("{field}.id"), seen, "window");
    if jiff::tz::TimeZone::get(w.timezone.get_ref()).is_err() {
        c.issue(
            &w.timezone,
            format!("{field}.timezone"),
            format!("unknown time zone \"{}\"", w.timezone.get_ref()),
        );
    }
    let mut days = Vec::new();
    for d in w.days.get_ref() {
        match parse_days(d) {
            Some(range) => days.extend(range),
            None => c.issue(
                &w.days,
                format!("{field}.days"),
                format!("\"{d}\" is not a day (use mon … sun, or a range like \"mon-fri\")"),
            ),
        }
    }
    days.sort_unstable();
    days.dedup();
    if w.days.get_ref().is_empty() {
        c.issue(&w.days, format!("{field}.days"), "name at least one day");
    }
    let start = clock(c, &w.from, &format!("{field}.from"));
    let end = clock(c, &w.to, &format!("{field}.to"));
    if start >= end && end != 0 {
        c.issue(
            &w.to,
            format!("{field}.to"),
            "must be later than `from` (split a window that crosses midnight in two)",
        );
    }
    Window {
        name: w.name.clone().unwrap_or_else(|| capitalise(&id)),
        id,
        timezone: w.timezone.get_ref().clone(),
        days,
        start_minute: start,
        end_minute: if end == 0 { 24 * 60 } else { end },
    }
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

pub(super) fn parse_days(text: &str) -> Option<Vec<u8>> {
    let day = |s: &str| {
        let s = s.trim().to_ascii_lowercase();
        DAYS.iter()
            .position(|d| s.starts_with(d))
            .and_then(|p| u8::try_from(p + 1).ok())
    };
    match text.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (day(a)?, day(b)?);
            (a <= b).then(|| (a..=b).collect())
        }
        None => day(text).map(|d| vec![d]),
    }
}

pub(super) fn clock(c: &mut Checker<'_>, at: &S<String>, field: &str) -> u16 {
    let parsed = at.get_ref().split_once(':').and_then(|(h, m)| {
        let (h, m) = (h.parse::<u16>().ok()?, m.parse::<u16>().ok()?);
        (h < 24 && m < 60 && m.to_string().len() <= 2).then_some(h * 60 + m)
    });
    parsed.unwrap_or_else(|| {
        c.issue(
            at,
            field,
            format!("\"{}\" is not a time of day (write HH:MM)", at.get_ref()),
        );
        0
    })
}

pub(super) fn freeze(
    c: &mut Checker<'_>,
    i: usize,
    f: &RawFreeze,
    seen: &mut HashSet<String>,
    apps: &HashSet<String>,
    envs: &HashSet<String>,
) -> Freeze {
    let field = format!("freezes[{i}]");
    let id = c.id(&f.id, &format!("{field}.id"), seen, "freeze");
    let mut instant = |at: &S<String>, name: &str| match at.get_ref().parse::<jiff::Timestamp>() {
        Ok(t) => t.as_millisecond(),
        Err(_) => {
            c.issue(
                at,
                format!("{field}.{name}"),
                format!(
                    "\"{}\" is not a date-time with a zone (write e.g. 2026-12-20T00:00:00Z)",
                    at.get_ref()
                ),
            );
            0
        }
    };
    let (start_ms, end_ms) = (instant(&f.from, "from"), instant(&f.to, "to"));
    if end_ms <= start_ms && end_ms != 0 {
        c.issue(&f.to, format!("{field}.to"), "must be later than `from`");
    }
    for a in &f.applications {
        if !apps.contains(a.get_ref()) {
            c.issue(
                a,
                format!("{field}.applications"),
                format!("unknown application \"{}\"", a.get_ref()),
            );
        }
    }
    for e in &f.environments {
        if !envs.contains(e.get_ref()) {
            c.issue(
                e,
                format!("{field}.environments"),
                format!("no application has an environment \"{}\"", e.get_ref()),
            );
        }
    }
    Freeze {
        id,
        reason: c.name(&f.reason, &format!("{field}.reason")),
        start_ms,
        end_ms,
        applications: f.applications.iter().map(|a| a.get_ref().clone()).collect(),
        environments: f.environments.iter().map(|e| e.get_ref().clone()).collect(),
    }
}

/// "72h", "3 days", "1 day 12h" or ISO 8601 "P3D"; a day counts as 24 hours.
pub(super) fn parse_duration(text: &str) -> Result<jiff::SignedDuration, jiff::Error> {
    text.parse::<jiff::SignedDuration>().or_else(|_| {
        text.parse::<jiff::Span>()?
            .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
    })
}
