//! Times that recur by the calendar, as a catalog writes them: weekdays ("mon-fri") and days of
//! the month ("first mon", "2nd tue", "last fri", "last business day", "day 15", "last day"),
//! between two times of day in a time zone. Change windows allow in them, recurring blackouts
//! deny; business days are Monday to Friday.

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Days and hours that recur, in a time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recurring {
    pub timezone: String,
    /// ISO weekday numbers, Monday = 1.
    pub days: Vec<u8>,
    /// Days of the month, besides the weekdays.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub month_days: Vec<MonthDay>,
    /// Minutes after midnight, local time; an end of 1440 is the next day's midnight.
    pub start_minute: u16,
    pub end_minute: u16,
}

/// How far ahead an occurrence is looked for: a fifth weekday can be months away.
const LOOKAHEAD_DAYS: usize = 400;

impl Recurring {
    /// Whether it occurs on `date` (a local date).
    pub fn on(&self, date: Date) -> bool {
        let weekday = u8::try_from(date.weekday().to_monday_one_offset()).unwrap_or(0);
        self.days.contains(&weekday) || self.month_days.iter().any(|d| d.matches(date))
    }

    /// The occurrence in progress at `now_ms` (starting at `now_ms`) or else the next one, as
    /// (start, end) in epoch milliseconds; `None` when it never occurs within a year.
    pub fn next_span(&self, now_ms: i64) -> Option<(i64, i64)> {
        let tz = TimeZone::get(&self.timezone).ok()?;
        let now = Timestamp::from_millisecond(now_ms).ok()?;
        let mut date = now.to_zoned_datetime(tz.clone()).date();
        for _ in 0..LOOKAHEAD_DAYS {
            if self.on(date) {
                let (start, end) = (
                    local_ms(&tz, date, self.start_minute)?,
                    local_ms(&tz, date, self.end_minute)?,
                );
                if now_ms < end {
                    return Some((start.max(now_ms), end));
                }
            }
            date = date.tomorrow().ok()?;
        }
        None
    }

    /// The end of the occurrence that covers `at_ms`, if one does.
    pub fn covering(&self, at_ms: i64) -> Option<i64> {
        self.next_span(at_ms)
            .filter(|(start, _)| *start <= at_ms)
            .map(|(_, end)| end)
    }
}

/// `minute` after the local midnight that starts `date`; minute 1440 is the next day's 00:00.
fn local_ms(tz: &TimeZone, date: Date, minute: u16) -> Option<i64> {
    let (day, minute) = if minute >= 24 * 60 {
        (date.tomorrow().ok()?, minute - 24 * 60)
    } else {
        (date, minute)
    };
    let at = day.at(
        i8::try_from(minute / 60).ok()?,
        i8::try_from(minute % 60).ok()?,
        0,
        0,
    );
    tz.to_timestamp(at).ok().map(Timestamp::as_millisecond)
}

/// One recurring day of the month. `nth` counts from the month's start (1 = first) or, when
/// negative, from its end (-1 = last).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum MonthDay {
    /// The nth given weekday (ISO number, Monday = 1).
    Weekday { nth: i8, weekday: i8 },
    /// The nth business day.
    BusinessDay { nth: i8 },
    /// The nth day of the month.
    Day { nth: i8 },
}

/// Weekdays as a catalog abbreviates them, Monday first.
pub const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const ORDINALS: [(&str, i8); 11] = [
    ("first", 1),
    ("1st", 1),
    ("second", 2),
    ("2nd", 2),
    ("third", 3),
    ("3rd", 3),
    ("fourth", 4),
    ("4th", 4),
    ("fifth", 5),
    ("5th", 5),
    ("last", -1),
];

impl MonthDay {
    /// Reads one token; the error says what is accepted.
    pub fn parse(token: &str) -> Result<Self, String> {
        let text = token.trim().to_ascii_lowercase();
        let words: Vec<&str> = text.split_whitespace().collect();
        let refused = || {
            format!(
                "\"{}\" is not a day of the month (write e.g. \"first mon\", \"last fri\", \
                 \"last business day\", \"day 15\" or \"last day\")",
                token.trim()
            )
        };
        let ordinal = |w: &str| ORDINALS.iter().find(|(o, _)| *o == w).map(|(_, n)| *n);
        match words.as_slice() {
            ["day", n] => {
                let nth = n.parse::<i8>().ok().filter(|n| (1..=31).contains(n));
                nth.map(|nth| Self::Day { nth }).ok_or_else(refused)
            }
            ["last", "day"] => Ok(Self::Day { nth: -1 }),
            [o, "business", "day"] => ordinal(o)
                .map(|nth| Self::BusinessDay { nth })
                .ok_or_else(refused),
            [o, day] => {
                let weekday = DAYS
                    .iter()
                    .position(|d| day.starts_with(d))
                    .and_then(|p| i8::try_from(p + 1).ok());
                match (ordinal(o), weekday) {
                    (Some(nth), Some(weekday)) => Ok(Self::Weekday { nth, weekday }),
                    _ => Err(refused()),
                }
            }
            _ => Err(refused()),
        }
    }

    /// Whether `date` is this day of its month. A fifth Monday, or a day 31, is missing from
    /// months that have none: such a month simply has no occurrence.
    pub fn matches(&self, date: Date) -> bool {
        match *self {
            Self::Day { nth } => counted(nth, date.day(), date.days_in_month()),
            Self::Weekday { nth, weekday } => {
                Weekday::from_monday_one_offset(weekday)
                    .ok()
                    .and_then(|w| date.nth_weekday_of_month(nth, w).ok())
                    == Some(date)
            }
            Self::BusinessDay { nth } => {
                if !is_business_day(date) {
                    return false;
                }
                let days = business_days(date);
                let index = days.iter().position(|d| *d == date);
                let total = i8::try_from(days.len()).unwrap_or(i8::MAX);
                index
                    .and_then(|i| i8::try_from(i + 1).ok())
                    .is_some_and(|place| counted(nth, place, total))
            }
        }
    }
}

impl std::fmt::Display for MonthDay {
    /// The words a catalog would write: "first Mon", "last business day", "day 15".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ordinal = |nth: i8| match nth {
            -1 => "last".to_owned(),
            1 => "first".to_owned(),
            2 => "2nd".to_owned(),
            3 => "3rd".to_owned(),
            n => format!("{n}th"),
        };
        match *self {
            Self::Day { nth: -1 } => f.write_str("last day"),
            Self::Day { nth } => write!(f, "day {nth}"),
            Self::BusinessDay { nth } => write!(f, "{} business day", ordinal(nth)),
            Self::Weekday { nth, weekday } => {
                let name = DAY_NAMES
                    .get(usize::try_from(weekday - 1).unwrap_or(0))
                    .copied()
                    .unwrap_or("?");
                write!(f, "{} {name}", ordinal(nth))
            }
        }
    }
}

/// Weekdays as people read them, Monday first.
pub const DAY_NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// Whether `place` (1-based, of `total`) is the `nth` one, counted from the end when negative.
fn counted(nth: i8, place: i8, total: i8) -> bool {
    if nth > 0 {
        place == nth
    } else {
        total + 1 + nth == place
    }
}

fn is_business_day(date: Date) -> bool {
    date.weekday().to_monday_one_offset() <= 5
}

/// The business days of `date`'s month, in order.
fn business_days(date: Date) -> Vec<Date> {
    (1..=date.days_in_month())
        .filter_map(|day| Date::new(date.year(), date.month(), day).ok())
        .filter(|d| is_business_day(*d))
        .collect()
}

#[cfg(test)]
#[path = "recurrence_tests.rs"]
mod tests;
