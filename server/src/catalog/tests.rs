use super::*;

pub(super) fn demo() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../catalog/demo.toml"))
        .expect("demo catalog")
}

pub(super) fn errors(src: &str) -> CatalogError {
    parse("test.toml", src.to_owned()).expect_err("should be rejected")
}

#[test]
fn the_demo_catalog_is_valid_and_has_the_seed_example() {
    let loaded = parse("demo.toml", demo()).expect("valid");
    let banking = loaded.catalog.application("banking").expect("banking");
    let prod = banking.environment("production").expect("production");
    assert_eq!(prod.policy.requesters, vec!["fintech".to_owned()]);
    assert_eq!(prod.policy.stages.len(), 2);
    assert_eq!(prod.policy.stages[1].rules[0].count, 2);
    assert!(!prod.policy.requester_can_approve);
    let store = loaded
        .catalog
        .application("storefront")
        .expect("storefront");
    assert!(store
        .environment("staging")
        .expect("staging")
        .policy
        .stages
        .is_empty());
    assert!(loaded.checksum.starts_with("sha256:"));
}

#[test]
fn environments_keep_promotion_order() {
    let loaded = parse("demo.toml", demo()).expect("valid");
    let ids: Vec<_> = loaded.catalog.applications[0]
        .environments
        .iter()
        .map(|e| e.id.as_str())
        .collect();
    assert_eq!(ids, ["staging", "production"]);
}

#[test]
fn an_unknown_team_is_named_with_its_line() {
    let src = demo().replace("count = 2, team = \"cab\"", "count = 2, team = \"cabb\"");
    let err = errors(&src);
    assert_eq!(err.issues.len(), 1, "{err}");
    let issue = &err.issues[0];
    assert_eq!(
        issue.field,
        "applications[0].environments[1].policy.stages[1].rules[0].team"
    );
    assert_eq!(issue.message, "unknown team \"cabb\"");
    let line = src.lines().position(|l| l.contains("cabb")).expect("line") + 1;
    assert_eq!(issue.line, Some(line));
    assert!(
        err.to_string().contains(&format!("test.toml:{line}: ")),
        "{err}"
    );
}

#[test]
fn a_syntax_error_names_the_line() {
    let err = errors("[[teams]]\nid = \"a\"\nname = \n");
    assert_eq!(err.issues[0].line, Some(3));
}

#[test]
fn an_unknown_field_is_rejected_by_name() {
    let err = errors("[[teams]]\nid = \"a\"\nname = \"A\"\ncolour = \"red\"\n");
    assert!(err.issues[0].message.contains("colour"), "{err}");
    assert_eq!(err.issues[0].line, Some(4));
}

#[test]
fn a_secret_written_in_the_file_is_refused() {
    let src = demo().replacen(
        "connector = \"shell\"",
        "connector = \"shell\"\nsettings = { password = \"hunter2\" }",
        1,
    );
    let err = errors(&src);
    assert!(err.issues[0].message.contains("password_env"), "{err}");
}

#[test]
fn a_secret_variable_may_not_take_a_runway_name() {
    let src = demo().replacen(
        "connector = \"shell\"",
        "connector = \"buildbot\"\nsettings = { url = \"http://ci:8010\", user = \"r\", password_env = \"RUNWAY_BB\" }",
        1,
    );
    let err = errors(&src);
    assert!(
        err.issues[0].field.ends_with("ci.settings.password_env"),
        "{err}"
    );
    assert!(err.issues[0].message.contains("RUNWAY_"), "{err}");
}

#[test]
fn a_connector_missing_settings_names_them() {
    let src = demo().replacen("connector = \"shell\"", "connector = \"jenkins\"", 1);
    let err = errors(&src);
    let fields: Vec<_> = err.issues.iter().map(|i| i.field.as_str()).collect();
    assert!(
        fields.iter().any(|f| f.ends_with("ci.settings.url")),
        "{err}"
    );
    assert!(
        fields.iter().any(|f| f.ends_with("ci.settings.token_env")),
        "{err}"
    );
}

#[test]
fn bad_windows_and_freezes_are_reported_together() {
    let src = demo()
        .replace("Europe/Paris", "Mars/Olympus")
        .replace("mon-thu", "someday")
        .replace("2027-01-04T00:00:00Z", "soon");
    let err = errors(&src);
    let fields: Vec<_> = err.issues.iter().map(|i| i.field.as_str()).collect();
    assert_eq!(
        fields,
        ["windows[0].timezone", "windows[0].days", "freezes[0].to"],
        "{err}"
    );
}

#[test]
fn duplicate_ids_and_zero_counts_are_rejected() {
    let src = demo().replace("id = \"web\"", "id = \"cab\"").replace(
        "count = 1, team = \"banking-owners\" }] }]",
        "count = 0, team = \"banking-owners\" }] }]",
    );
    let err = errors(&src);
    let messages: Vec<_> = err.issues.iter().map(|i| i.message.as_str()).collect();
    assert!(messages.contains(&"team \"cab\" is defined twice"), "{err}");
    assert!(messages.contains(&"must be between 1 and 100"), "{err}");
}

#[test]
fn an_unknown_template_placeholder_is_named() {
    let src = demo().replacen("{version}", "{verison}", 1);
    let err = errors(&src);
    assert!(err.issues[0].message.contains("{verison}"), "{err}");
}

#[test]
fn the_checksum_changes_with_the_text() {
    assert_ne!(checksum("a"), checksum("b"));
    assert_eq!(checksum("a"), checksum("a"));
}

#[test]
fn material_fields_and_readers_name_what_exists_with_their_lines() {
    let src = demo()
        .replace(
            "approval_lifetime = \"3 days\" }",
            "approval_lifetime = \"3 days\", material_fields = [\"risk\", \"fields.db_migration\", \"fields.colour\", \"price\"] }",
        )
        .replace(
            "owner = \"banking-owners\"\n",
            "owner = \"banking-owners\"\nreaders = [\"fintech\", \"auditors\"]\n",
        );
    let err = errors(&src);
    let found: Vec<(&str, &str)> = err
        .issues
        .iter()
        .map(|i| (i.field.as_str(), i.message.as_str()))
        .collect();
    assert_eq!(found.len(), 3, "{err}");
    assert!(found.contains(&("applications[0].readers", "unknown team \"auditors\"")));
    let material = "applications[0].environments[0].policy.material_fields";
    for bad in ["fields.colour", "price"] {
        let issue = err
            .issues
            .iter()
            .find(|i| i.message.starts_with(&format!("\"{bad}\" is not a field")))
            .expect(bad);
        assert_eq!(issue.field, material);
        let line = src.lines().position(|l| l.contains(bad)).expect("line") + 1;
        assert_eq!(issue.line, Some(line), "{err}");
    }

    let fine = demo().replace(
        "approval_lifetime = \"3 days\" }",
        "approval_lifetime = \"3 days\", material_fields = [\"version\", \"fields\"] }",
    );
    let loaded = parse("demo.toml", fine).expect("valid");
    let staging = &loaded.catalog.applications[0].environments[0].policy;
    assert!(staging.is_material("fields.customer_impact"));
    assert!(!staging.is_material("risk"));
}

#[test]
fn reminders_and_escalation_are_read_and_their_mistakes_named() {
    let loaded = parse("demo.toml", demo()).expect("valid");
    let prod = &loaded.catalog.applications[0].environments[1].policy;
    assert_eq!(prod.chasing.remind_after_secs, Some(4 * 3_600));
    assert_eq!(prod.chasing.escalate_after_secs, Some(16 * 3_600));
    assert_eq!(prod.chasing.escalate_to.as_deref(), Some("ops"));
    assert!(prod.chasing.in_windows);

    let src = demo()
        .replace("remind_after = \"4h\"", "remind_after = \"10s\"")
        .replace("escalate_to = \"ops\"", "escalate_to = \"opps\"")
        .replace(
            "approval_lifetime = \"3 days\" }",
            "approval_lifetime = \"3 days\", escalate_after = \"soon\", remind_in_windows = true }",
        );
    let err = errors(&src);
    let named: Vec<(&str, &str)> = err
        .issues
        .iter()
        .map(|i| (i.field.as_str(), i.message.as_str()))
        .collect();
    let p = "applications[0].environments";
    assert!(
        named.contains(&(
            &format!("{p}[1].policy.remind_after"),
            "must be at least one minute"
        )),
        "{err}"
    );
    assert!(
        named.contains(&(
            &format!("{p}[1].policy.escalate_to"),
            "unknown team \"opps\""
        )),
        "{err}"
    );
    assert!(
        named
            .iter()
            .any(|(f, m)| *f == format!("{p}[0].policy.escalate_after")
                && m.contains("\"soon\" is not a duration")),
        "{err}"
    );
    assert!(
        named.contains(&(
            &format!("{p}[0].policy.escalate_to"),
            "name the team to escalate to (escalate_to) with escalate_after"
        )),
        "{err}"
    );
    assert!(
        named.contains(&(
            &format!("{p}[0].policy.remind_in_windows"),
            "counts only the hours of the policy's windows, and it names none"
        )),
        "{err}"
    );
}
