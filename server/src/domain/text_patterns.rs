//! The checks of [`super::text`] written as regular expressions, for the API's OpenAPI document:
//! a client (or a contract tester) reads there exactly what the server takes. Each pattern reads
//! the same in ECMA-262 (what JSON Schema names) and Rust, whose `$` is the end of the text
//! (Python's also matches before a final line feed), and the tests below hold each one to the
//! check it describes.

/// C0 and C1 controls: what `char::is_control` finds.
const CONTROL: &str = r"\x00-\x1F\x7F-\x9F";
/// The controls without tab, line feed and carriage return, which a block of text may hold.
const CONTROL_BUT_LAYOUT: &str = r"\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F";
/// What `text::is_invisible` finds.
const INVISIBLE: &str = r"\u00AD\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF";
/// The white space `char::is_whitespace` finds that is not a control.
const SPACE: &str = r" \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";

/// One line (`text::line_problem`); `required`: with something besides spaces.
pub fn line(required: bool) -> String {
    if required {
        format!("^[{SPACE}]*[^{CONTROL}{INVISIBLE}{SPACE}][^{CONTROL}{INVISIBLE}]*$")
    } else {
        format!("^[^{CONTROL}{INVISIBLE}]*$")
    }
}

/// A block of text (`text::block_problem`); `required`: with something besides white space.
pub fn block(required: bool) -> String {
    if required {
        format!(
            r"^[{SPACE}\t\n\r]*[^{CONTROL}{INVISIBLE}{SPACE}][^{CONTROL_BUT_LAYOUT}{INVISIBLE}]*$"
        )
    } else {
        format!("^[^{CONTROL_BUT_LAYOUT}{INVISIBLE}]*$")
    }
}

/// `text::version_problem`, with `maxLength` 100 beside it.
pub const VERSION: &str = r"^[A-Za-z0-9][A-Za-z0-9_+-]*(\.[A-Za-z0-9_+-]+)*\.?$";

/// `request::is_digest`, or nothing.
pub const DIGEST_OR_EMPTY: &str = r"^([a-z0-9]+:[0-9a-f]{32,})?$";

/// `text::url_problem`, or nothing; `maxLength` 2000 beside it.
pub fn url_or_empty() -> String {
    format!("^(https?://[^{CONTROL}{SPACE}]*)?$")
}

/// `text::stage_problem`, with `maxLength` 60 beside it.
pub const STAGE: &str = r"^[A-Za-z0-9_.:/-]([A-Za-z0-9 _.:/-]*[A-Za-z0-9_.:/-])?$";

/// `text::metric_name_problem`.
pub const METRIC_NAME: &str = r"^[A-Za-z0-9_.-]{1,60}$";

/// `text::number_problem`.
pub const NUMBER: &str = r"^-?[0-9]{1,15}(\.[0-9]{1,15})?$";

/// `text::username_problem`, with `maxLength` beside it.
pub const USERNAME: &str = r"^[A-Za-z0-9._@-]+$";

/// Any text without a NUL character (which nothing stored can hold).
pub const NO_NUL: &str = r"^[^\x00]*$";

/// `pattern`, or nothing at all.
pub fn or_empty(pattern: &str) -> String {
    let inner = pattern.trim_start_matches('^').trim_end_matches('$');
    format!("^({inner})?$")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::request::is_digest;
    use crate::domain::text::*;
    use proptest::prelude::*;

    /// Characters each pattern has an opinion on, and some it has none on.
    fn tricky() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "a",
            "Z",
            "0",
            "9",
            ".",
            "..",
            "_",
            "+",
            "-",
            ":",
            "/",
            " ",
            "\t",
            "\n",
            "\r",
            "\u{b}",
            "\u{0}",
            "\u{1f}",
            "\u{7f}",
            "\u{85}",
            "\u{9f}",
            "\u{a0}",
            "\u{ad}",
            "\u{200a}",
            "\u{200b}",
            "\u{202e}",
            "\u{2028}",
            "\u{3000}",
            "\u{feff}",
            "é",
            "ß",
            "😀",
            "http://",
            "https://",
            "sha256:",
            "0123456789abcdef",
            "ABCDEF",
            "#",
            "%",
            "\\",
            "$",
            "'",
        ]);
        prop::collection::vec(pieces, 0..12).prop_map(|p| p.concat())
    }

    fn agrees(pattern: &str, max: Option<usize>, check: impl Fn(&str) -> bool, s: &str) {
        let re = regex::Regex::new(pattern).expect(pattern);
        let documented = re.is_match(s) && max.is_none_or(|m| s.chars().count() <= m);
        assert_eq!(documented, check(s), "{pattern} on {s:?}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        #[test]
        fn each_pattern_says_what_its_check_takes(s in tricky()) {
            agrees(&line(false), None, |s| line_problem(s, usize::MAX).is_none(), &s);
            agrees(&line(true), None, |s| line_problem(s, usize::MAX).is_none() && !s.trim().is_empty(), &s);
            agrees(&block(false), None, |s| block_problem(s, usize::MAX).is_none(), &s);
            agrees(&block(true), None, |s| block_problem(s, usize::MAX).is_none() && !s.trim().is_empty(), &s);
            agrees(VERSION, Some(MAX_VERSION), |s| version_problem(s).is_none(), &s);
            agrees(DIGEST_OR_EMPTY, None, |s| s.is_empty() || is_digest(s), &s);
            agrees(&url_or_empty(), Some(2000), |s| s.is_empty() || url_problem(s).is_none(), &s);
            agrees(STAGE, Some(MAX_STAGE), |s| stage_problem(s).is_none(), &s);
            agrees(METRIC_NAME, None, |s| metric_name_problem(s).is_none(), &s);
            agrees(USERNAME, Some(64), |s| username_problem(s, 64).is_none(), &s);
            agrees(NUMBER, None, |s| number_problem(s).is_none(), &s);
            agrees(&or_empty(NUMBER), None, |s| s.is_empty() || number_problem(s).is_none(), &s);
        }
    }

    #[test]
    fn numbers_and_stages_at_their_edges() {
        for ok in ["0", "-3.5", "123456789012345.123456789012345"] {
            agrees(NUMBER, None, |s| number_problem(s).is_none(), ok);
            assert!(number_problem(ok).is_none(), "{ok}");
        }
        for bad in ["", "-", "1.", ".5", "+1", "1e5", "inf", "1234567890123456"] {
            assert!(number_problem(bad).is_some(), "{bad}");
        }
        assert!(stage_problem(&"a".repeat(60)).is_none());
        assert!(stage_problem(&"a".repeat(61)).is_some());
        assert!(stage_problem(" build").is_some() && stage_problem("unit tests").is_none());
    }
}
