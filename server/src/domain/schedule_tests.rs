//! Change windows and freezes worked out by hand, in the windows' own time zone.

use super::*;
use crate::domain::{Freeze, FreezePeriod, MonthDay, Recurring};
use jiff::Timestamp;

fn ms(s: &str) -> i64 {
    s.parse::<Timestamp>().expect("timestamp").as_millisecond()
}

fn catalog() -> Catalog {
    Catalog {
        windows: vec![Window {
            id: "business-hours".into(),
            name: "Business hours".into(),
            when: Recurring {
                timezone: "Europe/Paris".into(),
                days: vec![1, 2, 3, 4],
                month_days: Vec::new(),
                start_minute: 9 * 60,
                end_minute: 17 * 60,
            },
        }],
        freezes: vec![Freeze {
            id: "year-end".into(),
            reason: "Year-end closing".into(),
            period: FreezePeriod::Once {
                start_ms: ms("2026-12-21T00:00:00Z"),
                end_ms: ms("2027-01-04T00:00:00Z"),
            },
            applications: vec!["banking".into()],
            environments: vec!["production".into()],
        }],
        ..Catalog::default()
    }
}

/// A policy that names `windows`.
fn within(windows: &[&str]) -> Policy {
    Policy {
        windows: windows.iter().map(|w| (*w).to_owned()).collect(),
        ..crate::domain::fixtures::policy(&[])
    }
}

fn gate(app: &str, env: &str, windows: &[&str], now: &str) -> Gate {
    dispatch_gate(&catalog(), &within(windows), app, env, ms(now))
}

/// Banking production under the business hours, at `now`.
fn in_business_hours(now: &str) -> Gate {
    gate("banking", "production", &["business-hours"], now)
}

fn waits(until: &str, reason: &str) -> Gate {
    Gate::WaitUntil {
        at_ms: ms(until),
        reason: reason.into(),
    }
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
        in_business_hours("2026-11-27T10:00:00Z"),
        waits("2026-11-30T08:00:00Z", "outside Business hours")
    );
    // Wednesday evening waits for Thursday 09:00.
    assert_eq!(
        in_business_hours("2026-12-02T17:30:00Z"),
        waits("2026-12-03T08:00:00Z", "outside Business hours")
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
        in_business_hours("2026-12-22T10:00:00Z"),
        waits("2027-01-04T08:00:00Z", "freeze: Year-end closing")
    );
    // An evening in the freeze, outside the window too: the freeze is what holds it.
    assert_eq!(
        in_business_hours("2026-12-22T20:00:00Z"),
        waits("2027-01-04T08:00:00Z", "freeze: Year-end closing")
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
    c.windows[0].when.days.clear();
    assert!(matches!(
        dispatch_gate(
            &c,
            &within(&["business-hours"]),
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
    c.windows[0].when.start_minute = 20 * 60;
    c.windows[0].when.end_minute = 24 * 60;
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

fn month_end(app: &str) -> Freeze {
    Freeze {
        id: "month-end".into(),
        reason: "Month-end closing".into(),
        period: FreezePeriod::Recurring(Recurring {
            timezone: "Europe/Paris".into(),
            days: Vec::new(),
            month_days: vec![MonthDay::BusinessDay { nth: -1 }],
            start_minute: 0,
            end_minute: 24 * 60,
        }),
        applications: vec![app.into()],
        environments: Vec::new(),
    }
}

#[test]
fn a_recurring_blackout_holds_until_its_occurrence_ends_then_the_next_window() {
    let mut c = catalog();
    c.freezes.push(month_end("storefront"));
    let at = |now: &str, windows: &[&str]| {
        dispatch_gate(&c, &within(windows), "storefront", "production", ms(now))
    };
    // Monday 30 November 2026 is November's last business day: frozen until midnight, Paris.
    assert_eq!(
        at("2026-11-30T10:00:00Z", &[]),
        Gate::WaitUntil {
            at_ms: ms("2026-11-30T23:00:00Z"),
            reason: "freeze: Month-end closing".into()
        }
    );
    // With business hours, the wait runs on to Tuesday's opening.
    assert_eq!(
        at("2026-11-30T10:00:00Z", &["business-hours"]),
        Gate::WaitUntil {
            at_ms: ms("2026-12-01T08:00:00Z"),
            reason: "freeze: Month-end closing".into()
        }
    );
    // The day before and the day after are open; other applications never see it.
    assert_eq!(at("2026-11-27T10:00:00Z", &[]), Gate::Open);
    assert_eq!(at("2026-12-01T10:00:00Z", &[]), Gate::Open);
    assert_eq!(
        dispatch_gate(
            &c,
            &within(&[]),
            "banking",
            "staging",
            ms("2026-11-30T10:00:00Z")
        ),
        Gate::Open
    );
}

#[test]
fn a_window_on_days_of_the_month_opens_only_on_them() {
    let mut c = catalog();
    c.windows[0].when.days.clear();
    c.windows[0].when.month_days = vec![MonthDay::Weekday { nth: 1, weekday: 1 }];
    // Tuesday 8 December waits for the first Monday of January, 09:00 Paris.
    assert_eq!(
        dispatch_gate(
            &c,
            &within(&["business-hours"]),
            "storefront",
            "production",
            ms("2026-12-08T09:00:00Z")
        ),
        Gate::WaitUntil {
            at_ms: ms("2027-01-04T08:00:00Z"),
            reason: "outside Business hours".into()
        }
    );
}

#[test]
fn an_emergency_that_bypasses_them_ignores_freezes() {
    let policy = Policy {
        ignores_freezes: true,
        ..within(&[])
    };
    let at = ms("2026-12-24T12:00:00Z");
    assert_eq!(
        dispatch_gate(&catalog(), &policy, "banking", "production", at),
        Gate::Open
    );
}
