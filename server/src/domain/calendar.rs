//! The change calendar's periods, as a page's address names them (`?month=2026-12`,
//! `?week=2026-W51`), and what each day shows of the windows and freezes. Pure.

use super::{Catalog, Freeze, FreezePeriod};
use jiff::civil::{Date, ISOWeekDate, Weekday};
use jiff::tz::TimeZone;
use jiff::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Month { year: i16, month: i8 },
    Week { year: i16, week: i8 },
}

impl Period {
    /// From the page's address: a month, or an ISO week, or else the week of `today`.
    pub fn parse(month: &str, week: &str, today: Date) -> Result<Period, (String, String)> {
        let refused = |field: &str, example: &str, given: &str| {
            (
                field.to_owned(),
                format!("\"{given}\" is not a {field} (write e.g. {example})"),
            )
        };
        if !month.is_empty() {
            let parsed = month.split_once('-').and_then(|(y, m)| {
                let (year, month) = (y.parse::<i16>().ok()?, m.parse::<i8>().ok()?);
                (y.len() == 4 && m.len() == 2 && Date::new(year, month, 1).is_ok())
                    .then_some(Period::Month { year, month })
            });
            return parsed.ok_or_else(|| refused("month", "2026-12", month));
        }
        if !week.is_empty() {
            let parsed = week.split_once("-W").and_then(|(y, w)| {
                let (year, week) = (y.parse::<i16>().ok()?, w.parse::<i8>().ok()?);
                (y.len() == 4
                    && w.len() == 2
                    && ISOWeekDate::new(year, week, Weekday::Monday).is_ok())
                .then_some(Period::Week { year, week })
            });
            return parsed.ok_or_else(|| refused("week", "2026-W51", week));
        }
        let iso = today.iso_week_date();
        Ok(Period::Week {
            year: iso.year(),
            week: iso.week(),
        })
    }

    /// Its first day and how many days it has.
    pub fn days(self) -> (Date, i32) {
        match self {
            Period::Month { year, month } => {
                let first = Date::new(year, month, 1).unwrap_or_default();
                (first, i32::from(first.days_in_month()))
            }
            Period::Week { year, week } => (
                ISOWeekDate::new(year, week, Weekday::Monday)
                    .map(|d| d.date())
                    .unwrap_or_default(),
                7,
            ),
        }
    }

    /// "December 2026", "Week 51, 2026 (14–20 Dec)".
    pub fn title(self) -> String {
        let (first, count) = self.days();
        match self {
            Period::Month { .. } => first.strftime("%B %Y").to_string(),
            Period::Week { year, week } => {
                let last = first.saturating_add(jiff::Span::new().days(count - 1));
                format!(
                    "Week {week}, {year} ({} – {})",
                    first.strftime("%-d %b"),
                    last.strftime("%-d %b")
                )
            }
        }
    }

    /// The address's query for this period: `month=2026-12` or `week=2026-W51`.
    pub fn query(self) -> String {
        match self {
            Period::Month { year, month } => format!("month={year:04}-{month:02}"),
            Period::Week { year, week } => format!("week={year:04}-W{week:02}"),
        }
    }

    /// The period before (`-1`) or after (`1`) this one.
    pub fn step(self, by: i32) -> Period {
        match self {
            Period::Month { year, month } => {
                let index = i32::from(year) * 12 + i32::from(month) - 1 + by;
                Period::Month {
                    year: i16::try_from(index.div_euclid(12)).unwrap_or(year),
                    month: i8::try_from(index.rem_euclid(12) + 1).unwrap_or(month),
                }
            }
            Period::Week { .. } => {
                let (first, _) = self.days();
                let iso = first
                    .saturating_add(jiff::Span::new().weeks(by))
                    .iso_week_date();
                Period::Week {
                    year: iso.year(),
                    week: iso.week(),
                }
            }
        }
    }
}

/// The local midnight that starts `date` in `tz`, in epoch milliseconds.
pub fn day_start(date: Date, tz: &TimeZone) -> i64 {
    tz.to_timestamp(date.at(0, 0, 0, 0))
        .map_or(0, Timestamp::as_millisecond)
}

/// The (start, end) spans in which `f` holds during [`from`, `to`), epoch milliseconds.
pub fn freeze_spans(f: &Freeze, from: i64, to: i64) -> Vec<(i64, i64)> {
    match &f.period {
        FreezePeriod::Once { start_ms, end_ms } => (*start_ms < to && from < *end_ms)
            .then_some((*start_ms, *end_ms))
            .into_iter()
            .collect(),
        FreezePeriod::Recurring(r) => spans(|at| r.next_span(at), from, to),
    }
}

/// The openings of the windows named `ids` during [`from`, `to`).
pub fn window_spans(
    catalog: &Catalog,
    ids: &[String],
    from: i64,
    to: i64,
) -> Vec<(String, i64, i64)> {
    catalog
        .windows
        .iter()
        .filter(|w| ids.contains(&w.id))
        .flat_map(|w| {
            spans(|at| w.when.next_span(at), from, to)
                .into_iter()
                .map(|(s, e)| (w.name.clone(), s, e))
        })
        .collect()
}

/// Walks `next` (the occurrence in progress at a moment, or the next one) across the range.
fn spans(next: impl Fn(i64) -> Option<(i64, i64)>, from: i64, to: i64) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    let mut at = from;
    // Bounded by the range: a feed's 210 days of a daily window or blackout is 210 occurrences.
    for _ in 0..1000 {
        match next(at) {
            Some((start, end)) if start < to && end > at => {
                out.push((start, end));
                at = end;
            }
            _ => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn periods_read_from_the_address_and_step() {
        let today = date(2026, 12, 7);
        let week = Period::parse("", "2026-W51", today).expect("week");
        assert_eq!(week.days(), (date(2026, 12, 14), 7));
        assert_eq!(week.title(), "Week 51, 2026 (14 Dec – 20 Dec)");
        // 2026 has 53 ISO weeks.
        assert_eq!(week.step(2).query(), "week=2026-W53");
        assert_eq!(week.step(3).query(), "week=2027-W01");
        let month = Period::parse("2026-12", "", today).expect("month");
        assert_eq!(month.days(), (date(2026, 12, 1), 31));
        assert_eq!(month.title(), "December 2026");
        assert_eq!(month.step(1).query(), "month=2027-01");
        assert_eq!(month.step(-12).query(), "month=2025-12");
        assert_eq!(
            Period::parse("", "", today).expect("this week").query(),
            "week=2026-W50"
        );
        for (m, w) in [
            ("2026-13", ""),
            ("26-12", ""),
            ("", "2026-W54"),
            ("", "2026-51"),
        ] {
            let (field, message) = Period::parse(m, w, today).expect_err("refused");
            assert!(message.contains(&format!("is not a {field}")), "{message}");
        }
    }
}
