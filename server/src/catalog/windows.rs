//! Checks of the catalog's change windows and freezes.

use super::raw::*;
use super::validate::Checker;
use crate::domain::recurrence::DAYS;
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
    Window {
        name: w.name.clone().unwrap_or_else(|| capitalise(&id)),
        id,
        when: recurring(c, &field, &w.timezone, &w.days, &w.from, &w.to),
    }
}

/// Days and hours in a time zone, as windows and recurring blackouts write them.
fn recurring(
    c: &mut Checker<'_>,
    field: &str,
    timezone: &S<String>,
    days: &S<Vec<String>>,
    from: &S<String>,
    to: &S<String>,
) -> Recurring {
    if jiff::tz::TimeZone::get(timezone.get_ref()).is_err() {
        c.issue(
            timezone,
            format!("{field}.timezone"),
            format!("unknown time zone \"{}\"", timezone.get_ref()),
        );
    }
    let (mut weekdays, mut month_days) = (Vec::new(), Vec::new());
    for d in days.get_ref() {
        if let Some(range) = parse_days(d) {
            weekdays.extend(range);
        } else if let Ok(day) = MonthDay::parse(d) {
            month_days.push(day);
        } else {
            c.issue(
                days,
                format!("{field}.days"),
                format!(
                    "\"{d}\" is not a day (use mon … sun, a range like \"mon-fri\", or a day \
                     of the month like \"first mon\", \"last fri\", \"last business day\", \
                     \"day 15\" or \"last day\")"
                ),
            );
        }
    }
    weekdays.sort_unstable();
    weekdays.dedup();
    month_days.dedup();
    if days.get_ref().is_empty() {
        c.issue(days, format!("{field}.days"), "name at least one day");
    }
    let start = clock(c, from, &format!("{field}.from"));
    let end = clock(c, to, &format!("{field}.to"));
    if start >= end && end != 0 {
        c.issue(
            to,
            format!("{field}.to"),
            "must be later than `from` (split a time that crosses midnight in two)",
        );
    }
    Recurring {
        timezone: timezone.get_ref().clone(),
        days: weekdays,
        month_days,
        start_minute: start,
        end_minute: if end == 0 { 24 * 60 } else { end },
    }
}

/// A weekday ("mon") or a range of them ("mon-fri"), Monday = 1.
fn parse_days(text: &str) -> Option<Vec<u8>> {
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
        // "24:00" ends a time at midnight, as "00:00" does.
        ((h < 24 && m < 60 || h == 24 && m == 0) && m.to_string().len() <= 2).then_some(h * 60 + m)
    });
    parsed.unwrap_or_else(|| {
        c.issue(
            at,
            field,
            format!(
                "\"{}\" is not a time of day (write HH:MM, 00:00 to 24:00)",
                at.get_ref()
            ),
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
    let period = match (&f.timezone, &f.days) {
        (Some(timezone), Some(days)) => {
            FreezePeriod::Recurring(recurring(c, &field, timezone, days, &f.from, &f.to))
        }
        (None, None) => once(c, &field, f),
        (Some(timezone), None) => {
            c.issue(
                timezone,
                format!("{field}.days"),
                "a recurring blackout names its `days` beside its `timezone`",
            );
            once(c, &field, f)
        }
        (None, Some(days)) => {
            c.issue(
                days,
                format!("{field}.timezone"),
                "a recurring blackout names its `timezone` beside its `days`",
            );
            once(c, &field, f)
        }
    };
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
        period,
        applications: f.applications.iter().map(|a| a.get_ref().clone()).collect(),
        environments: f.environments.iter().map(|e| e.get_ref().clone()).collect(),
    }
}

/// A freeze from one instant to another.
fn once(c: &mut Checker<'_>, field: &str, f: &RawFreeze) -> FreezePeriod {
    let mut instant = |at: &S<String>, name: &str| match at.get_ref().parse::<jiff::Timestamp>() {
        Ok(t) => t.as_millisecond(),
        Err(_) => {
            c.issue(
                at,
                format!("{field}.{name}"),
                format!(
                    "\"{}\" is not a date-time with a zone (write e.g. 2026-12-20T00:00:00Z, or \
                     give `timezone` and `days` for a recurring blackout)",
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
    FreezePeriod::Once { start_ms, end_ms }
}

/// "72h", "3 days", "1 day 12h" or ISO 8601 "P3D"; a day counts as 24 hours.
pub(super) fn parse_duration(text: &str) -> Result<jiff::SignedDuration, jiff::Error> {
    text.parse::<jiff::SignedDuration>().or_else(|_| {
        text.parse::<jiff::Span>()?
            .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
    })
}
