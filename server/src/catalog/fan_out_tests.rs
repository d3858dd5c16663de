//! A CI binding's fan-out to several targets: read from the demo, and refused with file, line
//! and field.

use super::parse;
use super::tests::{demo, errors};

/// The line of the last line of `src` holding `text`.
fn line_of(src: &str, text: &str) -> Option<usize> {
    let lines: Vec<&str> = src.lines().collect();
    lines.iter().rposition(|l| l.contains(text)).map(|p| p + 1)
}

#[test]
fn the_demo_storefront_production_fans_out_to_two_regions_in_parallel() {
    let loaded = parse("demo.toml", demo()).expect("valid");
    let prod = loaded
        .catalog
        .application("storefront")
        .and_then(|a| a.environment("production"))
        .expect("storefront production");
    let ci = prod.ci.as_ref().expect("bound");
    assert!(ci.parallel && ci.fans_out());
    let ids: Vec<(&str, &str)> = ci
        .targets
        .iter()
        .map(|t| (t.id.as_str(), t.name.as_str()))
        .collect();
    assert_eq!(ids, [("eu", "Europe"), ("us", "United States")]);
    assert!(ci.targets.iter().all(|t| t.provision.is_some()));
    assert_eq!(
        ci.targets[1].deploy.params["RUNWAY_SITE"],
        "{application}-{environment}-{target}"
    );
    // Every other binding deploys to one target, unnamed.
    let staging = loaded
        .catalog
        .application("storefront")
        .and_then(|a| a.environment("staging"))
        .and_then(|e| e.ci.as_ref())
        .expect("staging");
    assert!(!staging.fans_out() && staging.targets[0].id.is_empty());
}

#[test]
fn a_bad_fan_out_is_named_with_its_line_and_field() {
    let src = demo()
        .replace("run = \"parallel\"", "run = \"sideways\"")
        .replace("id = \"us\"", "id = \"eu\"")
        .replace(
            "RUNWAY_REGION = \"{target}\" } }\n\n[[",
            "RUNWAY_REGION = \"{region}\" } }\n\n[[",
        );
    let err = errors(&src);
    let found: Vec<_> = err
        .issues
        .iter()
        .map(|i| (i.field.as_str(), i.line))
        .collect();
    let field = "applications[1].environments[1].ci";
    // Issues come in the file's order.
    assert_eq!(
        found,
        [
            (format!("{field}.run").as_str(), line_of(&src, "sideways")),
            (
                format!("{field}.targets[0].deploy.params.RUNWAY_REGION").as_str(),
                line_of(&src, "{region}")
            ),
            (
                format!("{field}.targets[1].id").as_str(),
                line_of(&src, "id = \"eu\"")
            ),
        ],
        "{err}"
    );
    let words: Vec<&str> = err.issues.iter().map(|i| i.message.as_str()).collect();
    assert!(words[0].contains("in_order or parallel"), "{err}");
    assert!(words[1].contains("unknown placeholder {region}"), "{err}");
    assert_eq!(words[2], "target \"eu\" is defined twice");
}

#[test]
fn a_binding_has_one_deploy_job_or_targets_never_both_nor_neither() {
    let both = demo().replace(
        "connector = \"shell\"\nrun = \"parallel\"",
        "connector = \"shell\"\nrun = \"parallel\"\ndeploy = { job = \"x.sh\" }",
    );
    let err = errors(&both);
    assert_eq!(err.issues.len(), 1, "{err}");
    assert!(err.issues[0].field.ends_with(".ci.deploy"), "{err}");
    assert_eq!(err.issues[0].line, line_of(&both, "job = \"x.sh\""));
    assert!(err.issues[0].message.contains("each target its own jobs"));

    // The staging binding of Storefront loses its deploy job: nothing to run.
    let demo = demo();
    let staging = "connector = \"shell\"\ndeploy = { job = \"scripts/demo/deploy.sh\", params = { RUNWAY_SITE = \"{application}-{environment}\", RUNWAY_VERSION = \"{version}\" } }";
    assert!(demo.contains(staging));
    let neither = demo.replacen(staging, "connector = \"shell\"", 1);
    let err = errors(&neither);
    assert_eq!(err.issues.len(), 1, "{err}");
    assert!(err.issues[0].field.ends_with(".ci.deploy"), "{err}");
    assert!(
        err.issues[0].message.contains("needs a deploy job"),
        "{err}"
    );

    // `run` says nothing to a binding without targets.
    let lonely = demo.replacen(staging, &format!("{staging}\nrun = \"parallel\""), 1);
    let err = errors(&lonely);
    assert!(err.issues[0].field.ends_with(".ci.run"), "{err}");

    // A target needs its own deploy job: the file's own words, at the target's line.
    let missing = demo.replace(
        "name = \"Europe\"\nprovision = { job = \"scripts/demo/provision.sh\", params = { RUNWAY_SITE = \"{application}-{environment}-{target}\" } }\ndeploy",
        "name = \"Europe\"\nprovision = { job = \"scripts/demo/provision.sh\", params = { RUNWAY_SITE = \"{application}-{environment}-{target}\" } }\nundeploy",
    );
    let err = errors(&missing);
    assert!(err.issues[0].line.is_some(), "{err}");
    assert!(err.to_string().contains("undeploy"), "{err}");
}

#[test]
fn target_names_are_unique_and_the_target_placeholder_needs_targets() {
    let twins = demo().replace("name = \"United States\"", "name = \"Europe\"");
    let err = errors(&twins);
    assert_eq!(err.issues.len(), 1, "{err}");
    assert!(err.issues[0].field.ends_with(".targets[1].name"), "{err}");
    assert_eq!(err.issues[0].message, "another target is named \"Europe\"");
    assert_eq!(err.issues[0].line, line_of(&twins, "name = \"Europe\""));

    // Storefront staging deploys to one target: `{target}` would always be empty there.
    let lonely = demo().replacen(
        "RUNWAY_SITE = \"{application}-{environment}\", RUNWAY_VERSION",
        "RUNWAY_SITE = \"{application}-{environment}-{target}\", RUNWAY_VERSION",
        1,
    );
    let err = errors(&lonely);
    assert_eq!(err.issues.len(), 1, "{err}");
    assert!(
        err.issues[0].field.ends_with(".deploy.params.RUNWAY_SITE"),
        "{err}"
    );
    assert!(err.issues[0]
        .message
        .contains("only filled for a binding with targets"));
}
