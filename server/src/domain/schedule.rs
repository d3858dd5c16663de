//! When a release may be deployed: change windows and freezes, checked at dispatch time. Pure.

use super::{Catalog, Freeze, Policy, Window};

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

/// Whether a release of `app` to `env` under `policy` may start at `now_ms`. Freezes come from
/// the catalog as it is now (unless the policy is an emergency's that ignores them); the
/// policy's windows are looked up by id in it.
pub fn dispatch_gate(
    catalog: &Catalog,
    policy: &Policy,
    app: &str,
    env: &str,
    now_ms: i64,
) -> Gate {
    let windows: Vec<&Window> = catalog
        .windows
        .iter()
        .filter(|w| policy.windows.contains(&w.id))
        .collect();
    let freezes: Vec<&Freeze> = catalog
        .freezes
        .iter()
        .filter(|f| !policy.ignores_freezes && f.applies(app, env))
        .collect();
    let mut at = now_ms;
    let mut reason = String::new();
    // Alternate between "next window opening" and "end of the freeze covering it" until both hold.
    for _ in 0..64 {
        if !windows.is_empty() {
            let Some(opening) = windows
                .iter()
                .filter_map(|w| w.when.next_span(at).map(|(start, _)| start))
                .min()
            else {
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
        match freezes
            .iter()
            .filter_map(|f| f.covering(at).map(|end| (f, end)))
            .max_by_key(|(_, end)| *end)
        {
            Some((f, end)) => {
                if reason.is_empty() {
                    reason = format!("freeze: {}", f.reason);
                }
                at = end;
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
            .filter_map(|w| w.when.next_span(at))
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
}
