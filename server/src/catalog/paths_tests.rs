//! The catalog's change-control sections: recurring blackouts and days of the month, and the
//! emergency, rollback and standard-change paths, read and refused with file, line and field.

use super::parse;
use super::tests::{demo, errors};
use crate::domain::{FreezePeriod, MonthDay, Recurring};

const BLACKOUT: &str = "\n[[freezes]]\nid = \"month-end\"\nreason = \"Month-end closing\"\n\
    timezone = \"Europe/Paris\"\ndays = [\"last business day\", \"first mon\"]\n\
    from = \"18:00\"\nto = \"24:00\"\nenvironments = [\"production\"]\n";

#[test]
fn a_recurring_blackout_and_a_window_on_days_of_the_month_are_read() {
    let src = format!("{}{BLACKOUT}", demo()).replace("\"mon-thu\"", "\"mon-thu\", \"day 15\"");
    let loaded = parse("test.toml", src).expect("valid");
    let freeze = loaded.catalog.freezes.last().expect("freeze");
    assert_eq!(
        freeze.period,
        FreezePeriod::Recurring(Recurring {
            timezone: "Europe/Paris".into(),
            days: Vec::new(),
            month_days: vec![
                MonthDay::BusinessDay { nth: -1 },
                MonthDay::Weekday { nth: 1, weekday: 1 }
            ],
            start_minute: 18 * 60,
            end_minute: 24 * 60,
        })
    );
    let window = &loaded.catalog.windows[0].when;
    assert_eq!(window.days, [1, 2, 3, 4]);
    assert_eq!(window.month_days, [MonthDay::Day { nth: 15 }]);
}

#[test]
fn a_bad_recurring_blackout_is_named_with_its_line_and_field() {
    // The blackout is appended last: its lines are the last that hold these texts.
    let line_of = |src: &str, text: &str| {
        let lines: Vec<&str> = src.lines().collect();
        lines.iter().rposition(|l| l.contains(text)).map(|p| p + 1)
    };
    let src = format!("{}{BLACKOUT}", demo())
        .replace("\"first mon\"", "\"last blursday\"")
        .replace("from = \"18:00\"", "from = \"25:00\"");
    let err = errors(&src);
    let found: Vec<_> = err
        .issues
        .iter()
        .map(|i| (i.field.as_str(), i.line))
        .collect();
    assert_eq!(
        found,
        [
            ("freezes[1].days", line_of(&src, "last blursday")),
            ("freezes[1].from", line_of(&src, "25:00")),
        ],
        "{err}"
    );
    assert!(
        err.issues[0]
            .message
            .contains("\"last blursday\" is not a day")
            && err.issues[0].message.contains("last business day"),
        "{err}"
    );

    // A zone without days, and days without a zone, are each named.
    let src = format!(
        "{}{}",
        demo(),
        BLACKOUT.replace("days = [\"last business day\", \"first mon\"]\n", "")
    );
    let err = errors(&src);
    assert_eq!(err.issues[0].field, "freezes[1].days", "{err}");
    assert_eq!(
        err.issues[0].line,
        line_of(&src, "timezone = \"Europe/Paris\"")
    );
    let src = format!(
        "{}{}",
        demo(),
        BLACKOUT.replace("timezone = \"Europe/Paris\"\n", "")
    );
    let err = errors(&src);
    assert_eq!(err.issues[0].field, "freezes[1].timezone", "{err}");
    assert!(err.issues[0].message.contains("`timezone`"), "{err}");

    // The end must follow the start.
    let src = format!(
        "{}{}",
        demo(),
        BLACKOUT.replace("to = \"24:00\"", "to = \"17:00\"")
    );
    let err = errors(&src);
    assert_eq!(err.issues[0].field, "freezes[1].to", "{err}");
    assert_eq!(err.issues[0].line, line_of(&src, "to = \"17:00\""));
}

#[test]
fn mistakes_in_the_emergency_rollback_and_standard_sections_are_named_with_their_lines() {
    let src = demo()
        .replace(
            "requesters = [\"ops\", \"fintech\"]",
            "requesters = [\"ops\", \"nobody\"]",
        )
        .replace("review_within = \"2 days\"", "review_within = \"soon\"")
        .replace(
            "[applications.environments.policy.rollback]\nstages = [{ name = \"Owner review\", \
             rules = [{ count = 1, team = \"banking-owners\" }] }]",
            "[applications.environments.policy.rollback]\nstages = [{ name = \"Owner review\", \
             rules = [{ count = 1, team = \"owners\" }] }]",
        )
        .replace(
            "risk = [\"low\"]\nversion = \"patch\"",
            "risk = [\"lowish\"]\nversion = \"major\"",
        )
        .replace(
            "fields = { content_only = true }",
            "fields = { content_only = \"yes\", colour = \"red\" }",
        );
    let err = errors(&src);
    let line_of = |text: &str| src.lines().position(|l| l.contains(text)).map(|p| p + 1);
    let found: std::collections::BTreeSet<(String, Option<usize>)> = err
        .issues
        .iter()
        .map(|i| (i.field.clone(), i.line))
        .collect();
    let banking = "applications[0].environments[1].policy";
    let storefront = "applications[1].environments[1].policy";
    let wanted: std::collections::BTreeSet<(String, Option<usize>)> = [
        (
            format!("{banking}.emergency.requesters"),
            line_of("\"nobody\""),
        ),
        (
            format!("{banking}.emergency.review_within"),
            line_of("\"soon\""),
        ),
        (
            format!("{banking}.rollback.stages[0].rules[0].team"),
            line_of("team = \"owners\""),
        ),
        (
            format!("{storefront}.standard[0].risk"),
            line_of("\"lowish\""),
        ),
        (
            format!("{storefront}.standard[0].version"),
            line_of("\"major\""),
        ),
        (
            format!("{storefront}.standard[1].fields.colour"),
            line_of("colour = "),
        ),
        (
            format!("{storefront}.standard[1].fields.content_only"),
            line_of("colour = "),
        ),
    ]
    .into_iter()
    .collect();
    assert_eq!(found, wanted, "{err}");
    let text = err.to_string();
    assert!(text.contains("unknown team \"nobody\""), "{text}");
    assert!(
        text.contains("a checkbox field takes true or false"),
        "{text}"
    );
    assert!(
        text.contains("the application has no field \"colour\""),
        "{text}"
    );
}

#[test]
fn a_standard_rule_without_conditions_is_refused() {
    let src = demo().replace(
        "name = \"Content only\"\nrisk = [\"low\"]\nfields = { content_only = true }",
        "name = \"Content only\"",
    );
    let err = errors(&src);
    assert_eq!(
        err.issues[0].field, "applications[1].environments[1].policy.standard[1].name",
        "{err}"
    );
    assert!(
        err.issues[0].message.contains("at least one condition"),
        "{err}"
    );
}
