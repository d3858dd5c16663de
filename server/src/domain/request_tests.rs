//! Tests of `request`.
use super::*;
use crate::domain::{FormField, Policy};

fn app() -> Application {
    Application {
        id: "banking".into(),
        name: "Banking".into(),
        owner: "owners".into(),
        description: String::new(),
        environments: vec![crate::domain::Environment {
            id: "production".into(),
            name: "Production".into(),
            policy: Policy {
                requesters: vec!["fintech".into()],
                stages: vec![],
                requester_can_approve: false,
                approver_may_count_twice: false,
                approval_lifetime_secs: None,
                windows: vec![],
                material_fields: None,
                chasing: Default::default(),
                delegation: true,
                ..crate::domain::fixtures::policy(&[])
            },
            ci: None,
        }],
        fields: vec![
            FormField {
                id: "ticket".into(),
                label: "Change ticket".into(),
                kind: FieldKind::Text,
                required: true,
                options: vec![],
                help: String::new(),
            },
            FormField {
                id: "region".into(),
                label: "Region".into(),
                kind: FieldKind::Select,
                required: false,
                options: vec!["eu".into(), "us".into()],
                help: String::new(),
            },
        ],
        readers: None,
        chat_webhook_env: None,
    }
}

fn raw() -> RawDraft {
    RawDraft {
        version: "2.4.0".into(),
        summary: "Fixes rounding".into(),
        risk: "medium".into(),
        rollback_plan: "Deploy 2.3.9".into(),
        fields: [("ticket".to_owned(), "CHG-1".to_owned())].into(),
        ..RawDraft::default()
    }
}

#[test]
fn a_complete_draft_is_accepted_with_a_default_title() {
    let d = validate(&app(), &raw(), 0).expect("valid");
    assert_eq!(d.title, "Banking 2.4.0");
    assert_eq!(d.risk, Risk::Medium);
    assert_eq!(d.fields["ticket"], serde_json::json!("CHG-1"));
}

#[test]
fn every_bad_field_is_named() {
    let bad = RawDraft {
        version: " ".into(),
        artifact: "latest".into(),
        risk: "extreme".into(),
        scheduled_local: "tomorrow".into(),
        fields: [
            ("region".to_owned(), "mars".to_owned()),
            ("colour".to_owned(), "red".to_owned()),
        ]
        .into(),
        ..RawDraft::default()
    };
    let errors = validate(&app(), &bad, 0).expect_err("invalid");
    let names: Vec<&str> = errors.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "artifact",
            "fields.colour",
            "fields.region",
            "fields.ticket",
            "risk",
            "rollback_plan",
            "scheduled_local",
            "summary",
            "version"
        ]
    );
}

#[test]
fn a_schedule_is_read_in_the_requesters_time_zone() {
    let mut r = raw();
    r.scheduled_local = "2026-12-01T14:30".into();
    r.timezone = "Europe/Paris".into();
    let d = validate(&app(), &r, 0).expect("valid");
    let expected = "2026-12-01T13:30:00Z"
        .parse::<jiff::Timestamp>()
        .expect("ts")
        .as_millisecond();
    assert_eq!(d.scheduled_at, Some(expected));
    let errors = validate(&app(), &r, expected + 1).expect_err("past");
    assert!(errors["scheduled_local"].contains("passed"));
}

#[test]
fn digests_are_checked() {
    assert!(is_digest(&format!("sha256:{}", "a".repeat(64))));
    assert!(!is_digest("sha256:xyz"));
    assert!(!is_digest("latest"));
}

#[test]
fn approval_completes_into_approved_or_scheduled() {
    assert_eq!(approved_state(None, 10), State::Approved);
    assert_eq!(approved_state(Some(5), 10), State::Approved);
    assert_eq!(approved_state(Some(50), 10), State::Scheduled);
}

#[test]
fn every_field_but_the_title_is_material_unless_the_policy_says_otherwise() {
    let mut policy = app().environments[0].policy.clone();
    let a = validate(&app(), &raw(), 0).expect("valid");
    let mut b = a.clone();
    b.title = "Another title".into();
    assert!(material_changes(&policy, &a, &b).is_empty());
    b.risk = Risk::High;
    b.fields.insert("region".into(), serde_json::json!("us"));
    assert_eq!(material_changes(&policy, &a, &b), ["risk", "fields.region"]);
    policy.material_fields = Some(vec!["version".into(), "fields".into()]);
    assert_eq!(material_changes(&policy, &a, &b), ["fields.region"]);
    policy.material_fields = Some(vec![]);
    assert!(material_changes(&policy, &a, &b).is_empty());
    b.artifact = format!("sha256:{}", "a".repeat(64));
    assert_eq!(
        material_changes(&policy, &a, &b),
        ["artifact"],
        "the version and the artifact always void"
    );
    b.artifact.clear();
    b.version = "2.4.1".into();
    assert_eq!(material_changes(&policy, &a, &b), ["version"]);
}

#[test]
fn states_round_trip_through_text() {
    for s in State::ALL {
        assert_eq!(State::parse(s.as_str()), Some(s));
    }
}

#[test]
fn text_is_checked_as_sent_and_kept_trimmed() {
    // What a pipeline sends around its text is not kept: a person's edit form, which trims,
    // must not read as a change to it.
    let mut r = raw();
    r.summary = "  Fix the ledger\n".into();
    r.title = " Ledger fix ".into();
    let d = validate(&app(), &r, 0).expect("valid");
    assert_eq!(
        (d.summary.as_str(), d.title.as_str()),
        ("Fix the ledger", "Ledger fix")
    );
    let trimmed = RawDraft {
        summary: "Fix the ledger".into(),
        title: "Ledger fix".into(),
        ..raw()
    };
    assert_eq!(validate(&app(), &trimmed, 0).expect("valid"), d);
    // A version or a digest holds no space at all, around it or not.
    r.version = " 2.4.0".into();
    let errors = validate(&app(), &r, 0).expect_err("spaced version");
    assert!(errors.contains_key("version"), "{errors:?}");
}
