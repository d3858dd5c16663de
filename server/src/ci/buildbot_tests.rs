//! Tests of `buildbot`.
use super::*;

#[test]
fn results_codes_map_to_states() {
    assert_eq!(finished(0), RunState::Succeeded);
    assert_eq!(finished(1), RunState::Succeeded);
    assert_eq!(finished(2), RunState::Failed);
    assert_eq!(finished(4), RunState::Failed);
    assert_eq!(finished(6), RunState::Cancelled);
}

#[test]
fn per_field_errors_are_named() {
    let text =
        r#"{"error": {"code": -32602, "message": {"version": "'version' needs to be specified"}}}"#;
    assert_eq!(
        rpc_message(text),
        "version: 'version' needs to be specified"
    );
}

#[test]
fn nested_fields_are_collected() {
    let fields = json!([
        { "fullName": "", "type": "nested", "fields": [
            { "fullName": "version", "type": "text" },
            { "fullName": "dry_run", "type": "bool" }
        ]},
        { "fullName": "reason", "type": "text" }
    ]);
    let mut out = HashMap::new();
    collect_fields(&fields, &mut out);
    assert_eq!(out.get("version").map(String::as_str), Some("text"));
    assert_eq!(out.get("dry_run").map(String::as_str), Some("bool"));
    assert!(out.contains_key("reason"));
    assert!(!out.contains_key(""));
}

#[test]
fn a_missing_password_variable_is_a_configuration_error() {
    let settings: BTreeMap<String, String> = [
        ("url".to_owned(), "http://127.0.0.1:1".to_owned()),
        ("user".to_owned(), "runway".to_owned()),
        (
            "password_env".to_owned(),
            "RUNWAY_TEST_SURELY_UNSET".to_owned(),
        ),
    ]
    .into();
    assert!(
        matches!(Buildbot::new(&settings), Err(CiError::Config(m)) if m.contains("RUNWAY_TEST_SURELY_UNSET"))
    );
}
