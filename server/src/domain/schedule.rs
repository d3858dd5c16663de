//! When a release may be deployed: change windows and freezes, checked at dispatch time. Pure.

use super::{Catalog, Freeze, Window};
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// Whether a deployment may start now, or when it next may and why it waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    Open,
    /// Not before `at_ms`; `reason` says what holds it ("Year-end closing …", "outside Business hours").
    WaitUntil {
        at_ms: i64,
        reason: String,
    },
    /// No allowed time in the next year (a window with no days, a freeze without end …).
    Never {
        reason: String,
    },
}

fn freeze_applies(f: &Freeze, app: &str, env: &str) -> bool {
    (f.applications.is_empty() || f.applications.iter().any(|a| a == app))
        && (f.environments.is_empty() || f.environments.iter().any(|e| e == env))
}

/// The start of the next opening of `w` at or after `now_ms`, or `now_ms` itself when inside.
fn window_opening(w: &Window, now_ms: i64) -> Option<i64> {
    window_span(w, now_ms).map(|(start, _)| start)
}

/// The next opening of `w` at or after `now_ms` (from `now_ms` itself when inside), with its end.
fn window_span(w: &Window, now_ms: i64) -> Option<(i64, i64)> {
    let tz = TimeZone::get(&w.timezone).ok()?;
    let now = Timestamp::from_millisecond(now_ms).ok()?;
    let mut date = now.to_zoned_datetime(tz.clone()).date();
    for _ in 0..8 {
        let weekday = u8::try_from(date.weekday().to_monday_one_offset()).unwrap_or(0);
        if w.days.contains(&weekday) {
            let at = |minute: u16| {
                // A window that ends at midnight ends at the next day's 00:00 (minute 1440).
                let (day, minute) = if minute >= 24 * 60 {
                    (date.tomorrow().ok()?, minute - 24 * 60)
                } else {
                    (date, minute)
                };
                let dt = day.at(
                    i8::try_from(minute / 60).unwrap_or(0),
                    i8::try_from(minute % 60).unwrap_or(0),
                    0,
                    0,
                );
                tz.to_timestamp(dt).ok().map(Timestamp::as_millisecond)
            };
            let (start, end) = (at(w.start_minute)?, at(w.end_minute)?);
            if now_ms < end {
                return Some((start.max(now_ms), end));
            }
        }
        date = date.tomorrow().ok()?;
    }
    None
}

/// Whether a release of `app` to `env`, whose policy names `windows`, may start at `now_ms`.
/// Freezes come from the catalog as it is now; windows are looked up by id in it.
pub fn dispatch_gate(
    catalog: &Catalog,
    windows: &[String],
    app: &str,
    env: &str,
    now_ms: i64,
) -> Gate {
    let windows: Vec<&Window> = catalog
        .windows
        .iter()
        .filter(|w| windows.contains(&w.id))
        .collect();
    let mut at = now_ms;
    let mut reason = String::new();
    // Alternate between "next window opening" and "end of the freeze covering it" until both hold.
    for _ in 0..64 {
        if !windows.is_empty() {
            let Some(opening) = windows.iter().filter_map(|w| window_opening(w, at)).min() else {
                return Gate::Never {
                    reason: "no change window ever opens".into(),
                };
            };
            if opening > at {
                if reason.is_empty() {
                    let names: Vec<&str> = windows.iter().map(|w| w.name.as_str()).collect();
                    reason = format!("outside {}", names.join(" or "));
                }
                at = opening;
            }
        }
        match catalog
            .freezes
            .iter()
            .filter(|f| freeze_applies(f, app, env) && f.start_ms <= at && at < f.end_ms)
            .max_by_key(|f| f.end_ms)
        {
            Some(f) => {
                if reason.is_empty() {
                    reason = format!("freeze: {}", f.reason);
                }
                at = f.end_ms;
            }
            None if at == now_ms => return Gate::Open,
            None => return Gate::WaitUntil { at_ms: at, reason },
        }
    }
    Gate::Never {
        reason: "freezes and windows leave no time to deploy".into(),
    }
}

/// The instant `secs` of counted time after `from_ms`: the whole clock when `windows` is empty,
/// else only the hours inside them (business hours). `None` when the windows never open.
pub fn counted_after(
    catalog: &Catalog,
    windows: &[String],
    from_ms: i64,
    secs: i64,
) -> Option<i64> {
    let mut left = secs.saturating_mul(1000);
    if windows.is_empty() {
        return Some(from_ms.saturating_add(left));
    }
    let windows: Vec<&Window> = catalog
        .windows
        .iter()
        .filter(|w| windows.contains(&w.id))
        .collect();
    let mut at = from_ms;
    // Each turn spends one opening; a year of daily openings bounds the walk.
    for _ in 0..400 {
        let (start, end) = windows
            .iter()
            .filter_map(|w| window_span(w, at))
            .min_by_key(|(start, _)| *start)?;
        if left <= end - start {
            return Some(start + left);
        }
        left -= end - start;
        at = end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        s.parse::<Timestamp>().expect("timestamp").as_millisecond()
    }

    fn catalog() -> Catalog {
        Catalog {
            windows: vec![Window {
                id: "business-hours".into(),
                name: "Business hours".into(),
                timezone: "Europe/Paris".into(),
                days: vec![1, 2, 3, 4],
                start_minute: 9 * 60,
                end_minute: 17 * 60,
            }],
            freezes: vec![Freeze {
                id: "year-end".into(),
                reason: "Year-end closing".into(),
                start_ms: ms("2026-12-21T00:00:00Z"),
                end_ms: ms("2027-01-04T00:00:00Z"),
                applications: vec!["banking".into()],
                environments: vec!["production".into()],
            }],
            ..Catalog::default()
        }
    }

    fn gate(app: &str, env: &str, windows: &[&str], now: &str) -> Gate {
        let windows: Vec<String> = windows.iter().map(|w| (*w).to_owned()).collect();
        dispatch_gate(&catalog(), &windows, app, env, ms(now))
    }

    #[test]
    fn inside_a_window_and_outside_freezes_is_open() {
        // Tuesday 10:00 in Paris (UTC+1 in winter).
        assert_eq!(
            gate(
                "banking",
                "production",
                &["business-hours"],
                "2026-12-01T09:00:00Z"
            ),
            Gate::Open
        );
        assert_eq!(
            gate("storefront", "production", &[], "2026-12-24T12:00:00Z"),
            Gate::Open
        );
    }

    #[test]
    fn a_friday_waits_for_monday_morning_in_the_window_zone() {
        assert_eq!(
            gate(
                "banking",
                "production",
                &["business-hours"],
                "2026-11-27T10:00:00Z"
            ),
            Gate::WaitUntil {
                at_ms: ms("2026-11-30T08:00:00Z"),
                reason: "outside Business hours".into()
            }
        );
        // Wednesday evening waits for Thursday 09:00.
        assert_eq!(
            gate(
                "banking",
                "production",
                &["business-hours"],
                "2026-12-02T17:30:00Z"
            ),
            Gate::WaitUntil {
                at_ms: ms("2026-12-03T08:00:00Z"),
                reason: "outside Business hours".into()
            }
        );
    }

    #[test]
    fn a_freeze_holds_until_its_end_then_the_next_window() {
        assert_eq!(
            gate("banking", "production", &[], "2026-12-24T12:00:00Z"),
            Gate::WaitUntil {
                at_ms: ms("2027-01-04T00:00:00Z"),
                reason: "freeze: Year-end closing".into()
            }
        );
        // The freeze ends on Monday 4 January at 01:00 Paris: the window opens at 09:00.
        assert_eq!(
            gate(
                "banking",
                "production",
                &["business-hours"],
                "2026-12-22T10:00:00Z"
            ),
            Gate::WaitUntil {
                at_ms: ms("2027-01-04T08:00:00Z"),
                reason: "freeze: Year-end closing".into()
            }
        );
        // Staging is not frozen.
        assert_eq!(
            gate("banking", "staging", &[], "2026-12-24T12:00:00Z"),
            Gate::Open
        );
    }

    #[test]
    fn a_window_without_days_never_opens() {
        let mut c = catalog();
        c.windows[0].days.clear();
        assert!(matches!(
            dispatch_gate(
                &c,
                &["business-hours".into()],
                "banking",
                "staging",
                ms("2026-12-01T09:00:00Z")
            ),
            Gate::Never { .. }
        ));
    }

    #[test]
    fn counted_time_skips_the_hours_outside_the_windows() {
        let c = catalog();
        let hours = |h: i64| h * 3600;
        let windows = ["business-hours".to_owned()];
        // The whole clock without windows.
        assert_eq!(
            counted_after(&c, &[], ms("2026-12-03T10:00:00Z"), hours(4)),
            Some(ms("2026-12-03T14:00:00Z"))
        );
        // Thursday 15:00 Paris (14:00 UTC) + 4 h: 2 h left on Thursday, Friday to Sunday closed,
        // 2 h on Monday from 09:00 Paris.
        assert_eq!(
            counted_after(&c, &windows, ms("2026-12-03T14:00:00Z"), hours(4)),
            Some(ms("2026-12-07T10:00:00Z"))
        );
        // Saturday night counts from Monday's opening.
        assert_eq!(
            counted_after(&c, &windows, ms("2026-12-05T22:00:00Z"), hours(1)),
            Some(ms("2026-12-07T09:00:00Z"))
        );
        // An opening used up exactly ends at its close.
        assert_eq!(
            counted_after(&c, &windows, ms("2026-12-07T08:00:00Z"), hours(8)),
            Some(ms("2026-12-07T16:00:00Z"))
        );
        assert_eq!(counted_after(&c, &["nowhere".to_owned()], 0, 60), None);
    }

    #[test]
    fn a_window_that_ends_at_midnight_ends_at_the_next_days_start() {
        let mut c = catalog();
        c.windows[0].start_minute = 20 * 60;
        c.windows[0].end_minute = 24 * 60;
        // Monday 23:00 Paris (22:00 UTC) + 2 h: 1 h on Monday, then Tuesday from 20:00.
        assert_eq!(
            counted_after(
                &c,
                &["business-hours".to_owned()],
                ms("2026-12-07T22:00:00Z"),
                7_200
            ),
            Some(ms("2026-12-08T20:00:00Z"))
        );
    }
}
