//! iCalendar (RFC 5545) text for the change calendar's feed: events with stable identifiers,
//! times in UTC, text escaped and lines folded at 75 octets. Pure.

use jiff::Timestamp;

/// One event of the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Stable across fetches, so that calendars update an event rather than add another.
    pub uid: String,
    pub start_ms: i64,
    pub end_ms: i64,
    pub summary: String,
    pub description: String,
    pub url: String,
}

/// The calendar named `name` holding `events`.
pub fn calendar(name: &str, events: &[Event]) -> String {
    let mut out = String::new();
    for line in [
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//Runway//Change calendar//EN".to_owned(),
        "CALSCALE:GREGORIAN".to_owned(),
        format!("X-WR-CALNAME:{}", escape(name)),
    ] {
        push(&mut out, &line);
    }
    for e in events {
        push(&mut out, "BEGIN:VEVENT");
        push(&mut out, &format!("UID:{}", escape(&e.uid)));
        // The event's own start stands for when it was stamped: the same text on every fetch.
        push(&mut out, &format!("DTSTAMP:{}", utc(e.start_ms)));
        push(&mut out, &format!("DTSTART:{}", utc(e.start_ms)));
        push(
            &mut out,
            &format!("DTEND:{}", utc(e.end_ms.max(e.start_ms))),
        );
        push(&mut out, &format!("SUMMARY:{}", escape(&e.summary)));
        if !e.description.is_empty() {
            push(&mut out, &format!("DESCRIPTION:{}", escape(&e.description)));
        }
        if !e.url.is_empty() {
            push(&mut out, &format!("URL:{}", escape(&e.url)));
        }
        push(&mut out, "END:VEVENT");
    }
    push(&mut out, "END:VCALENDAR");
    out
}

/// `20261221T090000Z`.
fn utc(ms: i64) -> String {
    Timestamp::from_millisecond(ms)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .strftime("%Y%m%dT%H%M%SZ")
        .to_string()
}

/// A TEXT value: backslash, semicolon and comma escaped, line breaks as `\n`, other control
/// characters dropped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends `line` folded at 75 octets (never inside a character), each line ended by CRLF.
fn push(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_lines_fold_at_75_octets_between_characters() {
        let e = Event {
            uid: "request-7-1@runway".into(),
            start_ms: 1_797_843_600_000,
            end_ms: 1_797_845_400_000,
            summary: "Banking 2.4.1 → Production; rollback, \\ \"quoted\"\nEND:VCALENDAR".into(),
            description: "é".repeat(60),
            url: "https://runway.example/requests/7".into(),
        };
        let text = calendar("Fintech, Banking", &[e]);
        assert!(text.contains("X-WR-CALNAME:Fintech\\, Banking\r\n"));
        assert!(text.contains("DTSTART:20261221T090000Z\r\n"));
        let unfolded = text.replace("\r\n ", "");
        assert!(unfolded.contains(
            "SUMMARY:Banking 2.4.1 → Production\\; rollback\\, \\\\ \"quoted\"\\nEND:VCALENDAR"
        ));
        // A hostile line break never starts a property of its own.
        assert_eq!(text.matches("\r\nEND:VCALENDAR").count(), 1);
        for line in text.split("\r\n") {
            assert!(line.len() <= 75, "{line}");
        }
        assert!(unfolded.contains(&format!("DESCRIPTION:{}", "é".repeat(60))));
        assert!(text.ends_with("END:VCALENDAR\r\n"));
    }
}
