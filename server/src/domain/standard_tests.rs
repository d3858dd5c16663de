use super::*;

fn draft(version: &str, risk: Risk) -> Draft {
    Draft {
        version: version.into(),
        artifact: String::new(),
        title: String::new(),
        summary: "s".into(),
        risk,
        rollback_plan: "r".into(),
        scheduled_at: None,
        timezone: "UTC".into(),
        fields: [("customer_impact".to_owned(), "none".into())].into(),
    }
}

fn patch_rule() -> StandardRule {
    StandardRule {
        name: "Low-risk patch".into(),
        risks: vec![Risk::Low],
        version: Some(VersionRule::Patch),
        fields: [
            ("customer_impact".to_owned(), "none".into()),
            ("db_migration".to_owned(), false.into()),
        ]
        .into(),
        stages: vec!["test".into()],
        metrics: [("coverage".to_owned(), 80.0)].into(),
    }
}

fn evidence() -> Evidence {
    Evidence {
        deployed: Some("2.4.0".into()),
        stages: [("test".to_owned(), true)].into(),
        metrics: [("coverage".to_owned(), 81.5)].into(),
    }
}

#[test]
fn a_low_risk_patch_with_its_evidence_meets_the_rule() {
    assert!(unmet(&patch_rule(), &draft("2.4.1", Risk::Low), &evidence()).is_empty());
    assert!(unmet(&patch_rule(), &draft("v2.4.12", Risk::Low), &evidence()).is_empty());
}

#[test]
fn each_failed_condition_is_named() {
    let mut weak = evidence();
    weak.stages.insert("test".into(), false);
    weak.metrics.insert("coverage".into(), 62.0);
    let mut d = draft("2.5.0", Risk::Medium);
    d.fields.insert("db_migration".into(), true.into());
    assert_eq!(
        unmet(&patch_rule(), &d, &weak),
        [
            "the risk is medium, not low",
            "2.5.0 is not a patch release of 2.4.0, the version deployed here",
            "db_migration is ticked",
            "the CI stage test failed for this version",
            "coverage is 62, below 80",
        ]
    );
    let none = Evidence::default();
    assert_eq!(
        unmet(&patch_rule(), &draft("2.4.1", Risk::Low), &none),
        [
            "no version has been deployed here yet",
            "the CI posted no test stage for this version",
            "the CI posted no coverage for this version",
        ]
    );
}

#[test]
fn numbers_compare_by_value() {
    let rule = StandardRule {
        name: "Small batch".into(),
        risks: Vec::new(),
        version: None,
        fields: [("batch".to_owned(), 5.into())].into(),
        stages: Vec::new(),
        metrics: BTreeMap::new(),
    };
    let mut d = draft("1.0.1", Risk::Low);
    d.fields.insert("batch".into(), serde_json::json!(5.0));
    assert!(unmet(&rule, &d, &evidence()).is_empty());
    d.fields.insert("batch".into(), serde_json::json!(6.0));
    assert_eq!(unmet(&rule, &d, &evidence()), ["batch is 6.0, not 5"]);
}

#[test]
fn versions_that_are_no_patch_release() {
    for (version, deployed) in [
        ("2.4.0", "2.4.0"),
        ("2.3.9", "2.4.0"),
        ("3.0.1", "2.4.0"),
        ("2.4.1-rc.1", "2.4.0"),
        ("2.4", "2.4.0"),
        ("9f1c2e", "2.4.0"),
    ] {
        assert!(
            !is_patch_of(version, deployed),
            "{version} after {deployed}"
        );
    }
}

#[test]
fn the_first_rule_met_wins_and_failures_are_described() {
    let any_low = StandardRule {
        name: "Any low-risk change".into(),
        risks: vec![Risk::Low],
        version: None,
        fields: BTreeMap::new(),
        stages: Vec::new(),
        metrics: BTreeMap::new(),
    };
    let rules = [patch_rule(), any_low];
    let met = first_met(&rules, &draft("3.0.0", Risk::Low), &evidence()).expect("met");
    assert_eq!(met.name, "Any low-risk change");
    let failed = first_met(&rules, &draft("3.0.0", Risk::High), &evidence()).expect_err("none");
    assert_eq!(
        describe_failures(&failed),
        "“Low-risk patch”: the risk is high, not low; 3.0.0 is not a patch release of 2.4.0, the \
         version deployed here. “Any low-risk change”: the risk is high, not low"
    );
}
