//! What a person or a pipeline may type: one check per kind of value, shared by the form, the
//! API, the gate and the CI parameters, so no entry point is looser than another.

/// The longest version a request, the gate or a CI parameter takes.
pub const MAX_VERSION: usize = 100;

/// Why a version is refused, or `None` when it is a version.
///
/// A version reaches CI jobs as a parameter, and jobs build paths and commands from it
/// (`releases/$version`): it is one path segment of letters, digits and `. _ + -`, starting with a
/// letter or a digit, so it can never climb out of a folder, hide a control or bidirectional
/// character, or split a command.
pub fn version_problem(version: &str) -> Option<String> {
    if version.is_empty() {
        return Some("Which version is it?".into());
    }
    if version.chars().count() > MAX_VERSION {
        return Some(format!("Too long: {MAX_VERSION} characters at most."));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-');
    if let Some(bad) = version.chars().find(|c| !allowed(*c)) {
        return Some(format!(
            "A version is letters, digits and . _ + - only (e.g. 2.4.0 or 2.4.0-rc.1), not {}.",
            describe(bad)
        ));
    }
    if !version.starts_with(|c: char| c.is_ascii_alphanumeric()) || version.contains("..") {
        return Some(
            "A version starts with a letter or a digit and has no \"..\" (e.g. 2.4.0).".into(),
        );
    }
    None
}

/// The longest stage name a pipeline reports.
pub const MAX_STAGE: usize = 60;

/// Why a stage name is refused: 1 to 60 ASCII letters, digits, spaces and `- _ . : /`, neither
/// starting nor ending with a space.
pub fn stage_problem(stage: &str) -> Option<String> {
    if stage.is_empty() {
        return Some("Which stage (build, test, deploy …)?".into());
    }
    let allowed =
        |c: char| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.' | ':' | '/');
    (stage.len() > MAX_STAGE
        || !stage.chars().all(allowed)
        || stage.starts_with(' ')
        || stage.ends_with(' '))
    .then(|| {
        format!(
            "At most {MAX_STAGE} letters (a-z), digits, spaces and - _ . : /, \
             neither starting nor ending with a space."
        )
    })
}

/// Why a metric name is refused: 1 to 60 ASCII letters, digits and `_ - .`.
pub fn metric_name_problem(name: &str) -> Option<String> {
    let valid = !name.is_empty()
        && name.len() <= MAX_STAGE
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    (!valid).then(|| "A metric name is at most 60 letters, digits and _ - .".into())
}

/// Why an address is refused: http(s), at most 2000 characters, no spaces or controls.
pub fn url_problem(url: &str) -> Option<String> {
    let valid = (url.starts_with("https://") || url.starts_with("http://"))
        && url.chars().count() <= 2000
        && !url.chars().any(|c| c.is_control() || c.is_whitespace());
    (!valid).then(|| "An http(s) address of at most 2000 characters.".into())
}

/// Why a number typed into a form field is refused: up to 15 digits, a point and up to 15 more,
/// with an optional minus sign (so every accepted number is exact in a double).
pub fn number_problem(text: &str) -> Option<String> {
    let digits = |d: &str| (1..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit());
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let valid = match unsigned.split_once('.') {
        Some((whole, fraction)) => digits(whole) && digits(fraction),
        None => digits(unsigned),
    };
    (!valid).then(|| "Enter a number such as 12 or -3.5.".into())
}

/// What a search or filter box is matched with: its text without control characters (no stored
/// value holds one, and PostgreSQL refuses a NUL in a parameter).
pub fn searchable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).collect()
}

/// Characters that change how text reads without being seen: bidirectional overrides and
/// isolates, zero-width characters, the byte-order mark.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}' | '\u{FEFF}' | '\u{00AD}')
}

/// How a refused character is named in a message: visibly, even when it is invisible.
fn describe(c: char) -> String {
    if c.is_control() || is_invisible(c) || c.is_whitespace() {
        format!("the character U+{:04X}", u32::from(c))
    } else {
        format!("\"{c}\"")
    }
}

/// Why one line of text (a title, a name, a comment's first words) is refused: control,
/// bidirectional and zero-width characters have no place in it.
pub fn line_problem(text: &str, max: usize) -> Option<String> {
    check(text, max, false)
}

/// Why a block of text (a summary, a plan, a comment) is refused: as a line, but it may hold
/// line breaks and tabs.
pub fn block_problem(text: &str, max: usize) -> Option<String> {
    check(text, max, true)
}

fn check(text: &str, max: usize, block: bool) -> Option<String> {
    if text.chars().count() > max {
        return Some(format!("Too long: {max} characters at most."));
    }
    let bad = text.chars().find(|&c| {
        let layout = block && matches!(c, '\n' | '\r' | '\t');
        (c.is_control() && !layout) || is_invisible(c)
    })?;
    Some(format!("Remove {}: it is not shown.", describe(bad)))
}

/// What is wrong with an email address, if anything: one `@`, a name before it, a domain with a
/// dot after it, no spaces, quotes, angle brackets or control characters, 254 characters at most.
pub fn email_problem(address: &str) -> Option<String> {
    let bad = |c: char| c.is_whitespace() || c.is_control() || "<>()[]\\,;:\"".contains(c);
    let valid = address.len() <= 254
        && !address.chars().any(bad)
        && address.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains("..")
        });
    (!valid).then(|| format!("{address:?} is not an email address such as ada@example.com."))
}

/// What is wrong with a user name: 1 to `max` letters, digits, '.', '_', '-' or '@'.
pub fn username_problem(name: &str, max: usize) -> Option<String> {
    let valid = !name.is_empty()
        && name.len() <= max
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c));
    (!valid).then(|| {
        format!("{name:?} is not a user name: 1 to {max} letters, digits, '.', '_', '-' or '@'.")
    })
}

/// "a, b and c" (or "a, b or c" with `last` = "or"); empty for no items.
pub fn list_words(items: &[String], last: &str) -> String {
    match items.split_last() {
        None => String::new(),
        Some((only, [])) => only.clone(),
        Some((final_item, rest)) => format!("{} {last} {final_item}", rest.join(", ")),
    }
}

/// "Staging" from "staging": the first letter upper-case, the rest as it is.
pub fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_one_plain_path_segment() {
        for ok in ["2.4.0", "v2.4.0-rc.1+build.5", "2026.11.30", "1_0"] {
            assert_eq!(version_problem(ok), None, "{ok}");
        }
        for bad in [
            "",
            "../../../../tmp/x",
            "..",
            "2.4.0/..",
            ".hidden",
            "-rf",
            "2.4.0\u{1b}[31m",
            "2.4.0\u{202e}",
            "2.4\u{200b}.0",
            "2.4.0 2.4.1",
            "2.4.0;rm",
            "$(id)",
        ] {
            assert!(version_problem(bad).is_some(), "{bad:?} must be refused");
        }
        assert!(version_problem(&"1".repeat(101)).is_some());
    }

    #[test]
    fn invisible_characters_are_named_by_their_code() {
        assert_eq!(
            line_problem("Fix \u{202e}gnidnuor", 100).as_deref(),
            Some("Remove the character U+202E: it is not shown.")
        );
        assert!(line_problem("a\nb", 100).is_some());
        assert_eq!(block_problem("a\r\n\tb", 100), None);
        assert!(block_problem("a\u{1b}b", 100).is_some());
        assert_eq!(
            line_problem("Café <b>&", 100),
            None,
            "markup is text, escaped later"
        );
        assert!(line_problem("abc", 2).is_some());
    }
}
