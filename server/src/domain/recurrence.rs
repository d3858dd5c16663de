//! Days of the month that recur by the calendar, as a catalog writes them: "first mon",
//! "2nd tue", "last fri", "last business day", "day 15", "last day". The building block of
//! recurring windows and blackouts; business days are Monday to Friday.

use jiff::civil::{Date, Weekday};
use serde::{Deserialize, Serialize};

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

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
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
