//! Lead-time breakdowns of timelines worked out by hand.

use super::*;
use crate::domain::Rule;

const MIN: i64 = 60_000;

fn stages() -> Vec<Stage> {
    let stage = |name: &str, team: &str| Stage {
        name: name.into(),
        rules: vec![Rule {
            team: team.into(),
            count: 1,
        }],
    };
    vec![stage("Owners", "banking-owners"), stage("CAB", "cab")]
}

fn approved(at: i64) -> (AuditEvent, i64) {
    (
        AuditEvent::Approved {
            reason: "every stage is satisfied".into(),
        },
        at,
    )
}

fn step(step: &str, at: i64) -> (AuditEvent, i64) {
    (
        AuditEvent::StepStarted {
            step: step.into(),
            connector: "shell".into(),
            target: "job".into(),
            target_id: String::new(),
        },
        at,
    )
}

fn decided(stage: usize, team: &str, at: i64) -> Decided {
    Decided {
        stage,
        teams: vec!["someone-else".into(), team.into()],
        approve: true,
        at,
    }
}

#[test]
fn the_segments_follow_one_another_and_add_up() {
    // Opened at 0; owners approve at 30 min, the CAB at 90; the window opens at 150; provision
    // runs 10 minutes, the deploy 5.
    let events = [
        approved(90 * MIN),
        step("provision", 150 * MIN),
        step("deploy", 160 * MIN),
    ];
    let decisions = [
        decided(0, "banking-owners", 30 * MIN),
        decided(1, "cab", 90 * MIN),
    ];
    let b = breakdown(0, 165 * MIN, &events, &decisions, &stages());
    assert_eq!(
        (b.approval_ms, b.waiting_ms, b.provision_ms, b.deploy_ms),
        (90 * MIN, 60 * MIN, 10 * MIN, 5 * MIN)
    );
    assert_eq!(
        b.stages,
        vec![("Owners".into(), 30 * MIN), ("CAB".into(), 60 * MIN)]
    );
    assert_eq!(
        b.teams,
        vec![
            ("banking-owners".into(), 30 * MIN),
            ("cab".into(), 60 * MIN)
        ]
    );
}

#[test]
fn a_void_restarts_the_stages_and_a_self_deploying_pipeline_has_no_provisioning() {
    let events = [
        (
            AuditEvent::ApprovalsVoided {
                count: 1,
                reason: "edited".into(),
                fields: vec!["version".into()],
            },
            40 * MIN,
        ),
        approved(100 * MIN),
        (
            AuditEvent::PipelineState {
                state: "deploying".into(),
                stage: "deploy".into(),
            },
            130 * MIN,
        ),
    ];
    let decisions = [
        decided(0, "banking-owners", 70 * MIN),
        decided(1, "cab", 100 * MIN),
    ];
    let b = breakdown(0, 140 * MIN, &events, &decisions, &stages());
    assert_eq!(
        (b.approval_ms, b.waiting_ms, b.provision_ms, b.deploy_ms),
        (100 * MIN, 30 * MIN, 0, 10 * MIN)
    );
    assert_eq!(
        b.stages,
        vec![("Owners".into(), 30 * MIN), ("CAB".into(), 30 * MIN)]
    );
}

#[test]
fn no_stages_and_nothing_started_leaves_the_whole_time_to_deploying_after_approval() {
    let b = breakdown(1_000, 5_000, &[approved(1_000)], &[], &[]);
    assert_eq!(
        (b.approval_ms, b.waiting_ms, b.provision_ms, b.deploy_ms),
        (0, 4_000, 0, 0)
    );
    assert!(b.stages.is_empty() && b.teams.is_empty());
    // Entries after the end, or out of order, never make a segment negative.
    let b = breakdown(
        1_000,
        5_000,
        &[approved(9_000), step("deploy", 500)],
        &[],
        &[],
    );
    assert_eq!(
        b.approval_ms + b.waiting_ms + b.provision_ms + b.deploy_ms,
        4_000
    );
    assert!([b.approval_ms, b.waiting_ms, b.provision_ms, b.deploy_ms]
        .iter()
        .all(|ms| *ms >= 0));
}

#[test]
fn percentiles_are_nearest_rank() {
    let mut ten: Vec<i64> = (1..=10).rev().collect();
    assert_eq!(percentile(&mut ten, 50), Some(5));
    assert_eq!(percentile(&mut ten, 90), Some(9));
    assert_eq!(percentile(&mut [7], 90), Some(7));
    assert_eq!(percentile(&mut [], 50), None);
    assert_eq!(
        Spread::of(vec![3, 1, 2]),
        Spread {
            count: 3,
            median_ms: 2,
            p90_ms: 3
        }
    );
}

fn success(id: i64, application: &str, segments: [i64; 4], commit: Option<i64>) -> Deployment {
    let requested_at = 100 * MIN;
    Deployment {
        id,
        request_id: id,
        application: application.into(),
        environment: "production".into(),
        version: format!("1.{id}.0"),
        requested_at,
        commit_at: commit.map(|c| requested_at - c),
        finished_at: requested_at + segments.iter().sum::<i64>(),
        succeeded: true,
        incident: false,
        rollback: false,
        segments,
    }
}

#[test]
fn the_summary_takes_each_application_apart_and_ranks_the_waits() {
    let a = success(
        1,
        "banking",
        [60 * MIN, 0, 5 * MIN, 5 * MIN],
        Some(30 * MIN),
    );
    let b = success(2, "banking", [20 * MIN, 30 * MIN, 5 * MIN, 5 * MIN], None);
    let c = success(3, "storefront", [10 * MIN, 0, 0, 10 * MIN], None);
    let waits = vec![
        (1, "stage".to_owned(), "CAB".to_owned(), 50 * MIN),
        (2, "stage".to_owned(), "CAB".to_owned(), 10 * MIN),
        (1, "team".to_owned(), "cab".to_owned(), 50 * MIN),
        (3, "stage".to_owned(), "Web lead".to_owned(), 10 * MIN),
        // Not among the deployments summed up: left out.
        (9, "stage".to_owned(), "CAB".to_owned(), 999 * MIN),
    ];
    let s = summary(&[&a, &b, &c], &waits);
    assert_eq!(s.applications.len(), 2);
    let banking = &s.applications[0];
    assert_eq!(banking.application, "banking");
    // Only one said when it committed: 30 minutes before the request.
    assert_eq!(
        banking.segments[0],
        Spread {
            count: 1,
            median_ms: 30 * MIN,
            p90_ms: 30 * MIN
        }
    );
    assert_eq!(
        banking.segments[1],
        Spread {
            count: 2,
            median_ms: 20 * MIN,
            p90_ms: 60 * MIN
        }
    );
    assert_eq!(
        s.stages
            .iter()
            .map(|(app, stage, w)| (app.as_str(), stage.as_str(), w.p90_ms))
            .collect::<Vec<_>>(),
        vec![
            ("banking", "CAB", 50 * MIN),
            ("storefront", "Web lead", 10 * MIN)
        ]
    );
    assert_eq!(
        s.teams,
        vec![(
            "cab".into(),
            Spread {
                count: 1,
                median_ms: 50 * MIN,
                p90_ms: 50 * MIN
            }
        )]
    );
    // Approvals: 60 + 20 + 10 = 90 of 100 + 60 + 20 = 180 minutes (from the commit where said).
    let share = s.people_share.expect("share");
    assert!((share - 0.5).abs() < 1e-9, "{share}");
}

fn failed(target: &str, others_running: bool, at: i64) -> (AuditEvent, i64) {
    (
        AuditEvent::StepFailed {
            step: "deploy".into(),
            message: "exit 1".into(),
            target_id: target.into(),
            others_running,
        },
        at,
    )
}

fn deployed(at: i64) -> (AuditEvent, i64) {
    (
        AuditEvent::Deployed {
            reason: "every step succeeded".into(),
        },
        at,
    )
}

fn retried(target: &str, at: i64) -> (AuditEvent, i64) {
    (
        AuditEvent::RetryRequested {
            step: "deploy".into(),
            attempt: 2,
            target_id: target.into(),
        },
        at,
    )
}

/// One target, or a target of an in-order fan-out: its failure ends the deployment at once.
#[test]
fn a_failure_then_a_retry_that_succeeds_ends_twice() {
    for target in ["", "eu"] {
        let events = [
            step("deploy", 0),
            failed(target, false, MIN),
            retried(target, 2 * MIN),
            deployed(3 * MIN),
        ];
        assert_eq!(endings(&events), [(1, false), (3, true)], "{target:?}");
    }
}

#[test]
fn a_parallel_target_that_fails_ends_its_deployment_once_when_every_target_has() {
    let targets_failed = (
        AuditEvent::TargetsFailed {
            failed: vec!["us".into()],
        },
        3 * MIN,
    );
    let events = [
        step("deploy", 0),
        failed("us", true, MIN),
        (
            AuditEvent::StepSucceeded {
                step: "deploy".into(),
                target_id: "eu".into(),
            },
            2 * MIN,
        ),
        targets_failed,
        retried("us", 4 * MIN),
        deployed(5 * MIN),
    ];
    assert_eq!(endings(&events), [(3, false), (5, true)]);
}
