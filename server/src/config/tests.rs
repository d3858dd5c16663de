//! Reading settings: defaults, typos and bad values named.

use super::*;

fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect()
}

#[test]
fn defaults_need_no_variables() {
    let s = Settings::from_vars(vars(&[("HOME", "/root")])).expect("defaults");
    assert_eq!(s.listen.to_string(), "127.0.0.1:3000");
    assert_eq!(s.database_url, "sqlite://./data/runway.db?mode=rwc");
    assert!(!s.demo);
    assert!(!s.secure_cookies());
    assert_eq!(s.log_format, LogFormat::Pretty);
}

#[test]
fn the_data_dir_moves_the_default_database() {
    let s = Settings::from_vars(vars(&[("RUNWAY_DATA_DIR", "/tmp/x")])).expect("ok");
    assert_eq!(s.database_url, "sqlite:///tmp/x/runway.db?mode=rwc");
}

#[test]
fn an_unknown_runway_variable_is_named() {
    let err = Settings::from_vars(vars(&[("RUNWAY_LISTNE", "x")])).expect_err("typo");
    assert!(
        err.to_string()
            .starts_with("RUNWAY_LISTNE is not a Runway setting"),
        "{err}"
    );
}

#[test]
fn malformed_values_name_the_variable() {
    for (name, value) in [
        ("RUNWAY_LISTEN", "localhost"),
        ("RUNWAY_DEMO", "maybe"),
        ("RUNWAY_DATABASE_URL", "mysql://x"),
        ("RUNWAY_LOG_FORMAT", "xml"),
        ("RUNWAY_SESSION_IDLE_MINUTES", "0"),
        ("RUNWAY_PUBLIC_URL", "example.com"),
        ("RUNWAY_SMTP_URL", "mail.example.com"),
        ("RUNWAY_SMTP_URL", "smtp://bob:secret@mail.example.com"),
        ("RUNWAY_SMTP_URL", "http://mail.example.com"),
        ("RUNWAY_MAIL_FROM", "nobody"),
        ("RUNWAY_METRICS_LISTEN", "9464"),
    ] {
        let err = Settings::from_vars(vars(&[(name, value)])).expect_err(name);
        assert!(err.to_string().starts_with(name), "{err}");
    }
}

#[test]
fn an_https_public_url_makes_cookies_secure() {
    let s =
        Settings::from_vars(vars(&[("RUNWAY_PUBLIC_URL", "https://runway.example/")])).expect("ok");
    assert!(s.secure_cookies());
    assert_eq!(s.public_url, "https://runway.example");
}
