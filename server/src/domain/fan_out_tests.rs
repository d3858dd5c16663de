use super::*;
use crate::domain::{CiJob, ConnectorKind};

fn job(name: &str) -> CiJob {
    CiJob {
        target: name.into(),
        params: Default::default(),
    }
}

fn target(id: &str, provision: bool) -> CiTarget {
    CiTarget {
        id: id.into(),
        name: id.to_uppercase(),
        provision: provision.then(|| job("provision")),
        deploy: job("deploy"),
    }
}

fn binding(parallel: bool) -> CiBinding {
    CiBinding {
        connector: ConnectorKind::Shell,
        settings: Default::default(),
        targets: vec![
            target("db", true),
            target("api", false),
            target("web", false),
        ],
        parallel,
    }
}

fn run<'a>(target_id: &'a str, step: &'a str, attempt: i64, state: &'a str) -> RunFact<'a> {
    RunFact {
        target_id,
        step,
        attempt,
        state,
    }
}

fn states(plan: &[(&CiTarget, Progress)]) -> Vec<Progress> {
    plan.iter().map(|(_, p)| *p).collect()
}

#[test]
fn a_target_takes_its_steps_in_order_and_its_latest_attempt_counts() {
    let t = target("db", true);
    assert_eq!(
        progress(&t, &[]),
        Progress::Ready {
            step: "provision",
            attempt: 1
        }
    );
    let provisioned = [run("db", "provision", 1, "succeeded")];
    assert_eq!(
        progress(&t, &provisioned),
        Progress::Ready {
            step: "deploy",
            attempt: 1
        }
    );
    let failed = [
        provisioned[0],
        run("db", "deploy", 1, "failed"),
        run("api", "deploy", 1, "succeeded"),
    ];
    assert_eq!(progress(&t, &failed), Progress::Failed { step: "deploy" });
    let retried = [failed[0], failed[1], run("db", "deploy", 2, "retry")];
    assert_eq!(
        progress(&t, &retried),
        Progress::Ready {
            step: "deploy",
            attempt: 2
        }
    );
    let again = [failed[0], failed[1], run("db", "deploy", 2, "running")];
    assert_eq!(progress(&t, &again), Progress::Busy { step: "deploy" });
    let done = [failed[0], failed[1], run("db", "deploy", 2, "succeeded")];
    assert_eq!(progress(&t, &done), Progress::Done);
}

#[test]
fn in_order_a_target_waits_for_those_before_it_and_is_skipped_after_a_failure() {
    let b = binding(false);
    assert_eq!(
        states(&plan(&b, &[])),
        [
            Progress::Ready {
                step: "provision",
                attempt: 1
            },
            Progress::Waiting,
            Progress::Waiting
        ]
    );
    let runs = [
        run("db", "provision", 1, "succeeded"),
        run("db", "deploy", 1, "succeeded"),
        run("api", "deploy", 1, "failed"),
    ];
    let p = plan(&b, &runs);
    assert_eq!(
        states(&p),
        [
            Progress::Done,
            Progress::Failed { step: "deploy" },
            Progress::Skipped
        ]
    );
    assert_eq!(outcome(&p), Outcome::Failed(vec!["api".into()]));
    // Retried alone, the failed target runs; the one after it waits again.
    let retried = [runs[0], runs[1], runs[2], run("api", "deploy", 2, "retry")];
    let p = plan(&b, &retried);
    assert_eq!(
        states(&p)[1..],
        [
            Progress::Ready {
                step: "deploy",
                attempt: 2
            },
            Progress::Waiting
        ]
    );
    assert_eq!(outcome(&p), Outcome::Running);
}

#[test]
fn in_parallel_a_failure_lets_the_others_finish() {
    let b = binding(true);
    let runs = [
        run("db", "provision", 1, "running"),
        run("api", "deploy", 1, "failed"),
        run("web", "deploy", 1, "succeeded"),
    ];
    let p = plan(&b, &runs);
    assert_eq!(
        states(&p),
        [
            Progress::Busy { step: "provision" },
            Progress::Failed { step: "deploy" },
            Progress::Done
        ]
    );
    assert_eq!(outcome(&p), Outcome::Running);
    let ended = [
        run("db", "provision", 1, "succeeded"),
        run("db", "deploy", 1, "succeeded"),
        runs[1],
        runs[2],
    ];
    assert_eq!(
        outcome(&plan(&b, &ended)),
        Outcome::Failed(vec!["api".into()])
    );
    let all = [
        ended[0],
        ended[1],
        run("api", "deploy", 2, "succeeded"),
        runs[2],
    ];
    assert_eq!(outcome(&plan(&b, &all)), Outcome::Succeeded);
}

#[test]
fn a_single_target_binding_is_not_a_fan_out() {
    let mut b = binding(false);
    b.targets = vec![CiTarget {
        id: String::new(),
        ..target("", true)
    }];
    assert!(!b.fans_out());
    assert!(binding(true).fans_out());
    let p = plan(&b, &[run("", "provision", 1, "cancelled")]);
    assert_eq!(outcome(&p), Outcome::Failed(vec![String::new()]));
}
