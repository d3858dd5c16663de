use super::*;
use jiff::civil::date;
use proptest::prelude::*;

fn day(token: &str) -> MonthDay {
    MonthDay::parse(token).expect(token)
}

/// The dates of December 2026 that `token` names.
fn in_december(token: &str) -> Vec<i8> {
    let rule = day(token);
    (1..=31)
        .filter(|d| rule.matches(date(2026, 12, *d)))
        .collect()
}

#[test]
fn reads_the_catalog_words() {
    assert_eq!(day("first mon"), MonthDay::Weekday { nth: 1, weekday: 1 });
    assert_eq!(
        day(" 2nd Tuesday "),
        MonthDay::Weekday { nth: 2, weekday: 2 }
    );
    assert_eq!(
        day("last fri"),
        MonthDay::Weekday {
            nth: -1,
            weekday: 5
        }
    );
    assert_eq!(day("last business day"), MonthDay::BusinessDay { nth: -1 });
    assert_eq!(day("first business day"), MonthDay::BusinessDay { nth: 1 });
    assert_eq!(day("day 15"), MonthDay::Day { nth: 15 });
    assert_eq!(day("last day"), MonthDay::Day { nth: -1 });
}

#[test]
fn refuses_what_it_cannot_read_and_says_what_it_can() {
    for bad in [
        "mon",
        "sixth mon",
        "first",
        "day 0",
        "day 32",
        "last business",
        "every day",
        "",
    ] {
        let error = MonthDay::parse(bad).expect_err(bad);
        assert!(error.contains("last business day"), "{bad}: {error}");
    }
}

#[test]
fn names_the_right_days_of_december_2026() {
    // December 2026 starts on a Tuesday and ends on a Thursday.
    assert_eq!(in_december("first mon"), [7]);
    assert_eq!(in_december("first tue"), [1]);
    assert_eq!(in_december("last mon"), [28]);
    assert_eq!(in_december("5th thu"), [31]);
    assert_eq!(in_december("5th fri"), Vec::<i8>::new());
    assert_eq!(in_december("first business day"), [1]);
    assert_eq!(in_december("last business day"), [31]);
    assert_eq!(in_december("day 15"), [15]);
    assert_eq!(in_december("last day"), [31]);
}

#[test]
fn the_last_business_day_skips_a_weekend() {
    // January 2027 ends on a Sunday: its last business day is Friday the 29th.
    let rule = day("last business day");
    let hits: Vec<i8> = (1..=31)
        .filter(|d| rule.matches(date(2027, 1, *d)))
        .collect();
    assert_eq!(hits, [29]);
    // A day 31 does not happen in a 30-day month.
    assert!(!(1..=30).any(|d| day("day 31").matches(date(2026, 11, d))));
}

proptest! {
    /// Every rule names at most one day a month, and "last" agrees with counting from the end.
    #[test]
    fn at_most_one_day_a_month_and_last_counts_from_the_end(
        year in 2000i16..2100, month in 1i8..=12, nth in 1i8..=5, weekday in 1i8..=7,
    ) {
        let first = date(year, month, 1);
        let days: Vec<Date> = (1..=first.days_in_month()).map(|d| date(year, month, d)).collect();
        for rule in [
            MonthDay::Weekday { nth, weekday },
            MonthDay::BusinessDay { nth },
            MonthDay::Day { nth },
            MonthDay::Weekday { nth: -1, weekday },
            MonthDay::BusinessDay { nth: -1 },
        ] {
            prop_assert!(days.iter().filter(|d| rule.matches(**d)).count() <= 1, "{rule:?}");
        }
        let same_weekday: Vec<&Date> = days
            .iter()
            .filter(|d| d.weekday().to_monday_one_offset() == weekday)
            .collect();
        let last = MonthDay::Weekday { nth: -1, weekday };
        let last_one = **same_weekday.last().expect("every weekday occurs");
        prop_assert!(last.matches(last_one));
        let nth_one = same_weekday.get(usize::try_from(nth - 1).unwrap_or(0));
        let nth_rule = MonthDay::Weekday { nth, weekday };
        let found = days.iter().find(|d| nth_rule.matches(**d));
        prop_assert_eq!(found, nth_one.copied());
        let business: Vec<&Date> = days.iter().filter(|d| d.weekday().to_monday_one_offset() <= 5).collect();
        let last_business = MonthDay::BusinessDay { nth: -1 };
        let last_one = **business.last().expect("a month has business days");
        prop_assert!(last_business.matches(last_one));
    }
}
