//! The lifecycle's invariants over random event sequences, and a few of its rules by name.

use super::*;
use crate::domain::request::{Draft, Risk};
use crate::domain::{Rule, Stage};
use proptest::prelude::*;

const REQUESTER: i64 = 1;

fn policy(lifetime: Option<i64>, stages: usize) -> Policy {
    Policy {
        requesters: vec!["dev".into()],
        stages: (0..stages)
            .map(|i| Stage {
                name: format!("stage {i}"),
                rules: vec![Rule {
                    team: "cab".into(),
                    count: 1,
                }],
            })
            .collect(),
        requester_can_approve: false,
        approver_may_count_twice: true,
        approval_lifetime_secs: lifetime,
        windows: vec![],
        material_fields: None,
        chasing: Default::default(),
        delegation: true,
        ..crate::domain::fixtures::policy(&[])
    }
}

fn viewer(user_id: i64, ops: bool) -> Viewer {
    Viewer {
        user_id,
        teams: if user_id == REQUESTER {
            vec!["dev".into()]
        } else {
            vec!["cab".into()]
        },
        ops,
    }
}

fn draft(version: &str) -> Box<Draft> {
    Box::new(Draft {
        version: version.into(),
        artifact: String::new(),
        title: "t".into(),
        summary: "s".into(),
        risk: Risk::Low,
        rollback_plan: "r".into(),
        scheduled_at: None,
        timezone: "UTC".into(),
        fields: Default::default(),
    })
}

fn event(choice: u8, who: i64, ops: bool) -> Event {
    let by = viewer(who, ops);
    match choice % 15 {
        0 => Event::Decided {
            by,
            verdict: Verdict::Approve,
            comment: String::new(),
        },
        1 => Event::Decided {
            by,
            verdict: Verdict::Reject,
            comment: "no".into(),
        },
        2 => Event::Cancelled {
            by,
            reason: String::new(),
        },
        3 => Event::Edited {
            by,
            before: draft("1.0"),
            after: draft(if ops { "1.1" } else { "1.0" }),
        },
        4 => Event::ApprovalsLapsed,
        5 => Event::StepStarted {
            step: if who % 2 == 0 { "provision" } else { "deploy" }.into(),
            connector: "shell".into(),
            target: "t".into(),
            target_id: String::new(),
        },
        6 => Event::StepSucceeded {
            step: "deploy".into(),
            target_id: String::new(),
        },
        7 => Event::Deployed,
        8 => Event::StepFailed {
            step: "deploy".into(),
            message: "exit 1".into(),
            target_id: if who % 2 == 0 { "eu" } else { "" }.into(),
            // A parallel fan-out's other targets may still run.
            ends: who % 3 != 0,
        },
        9 => Event::Retried {
            by,
            retries: vec![Retry {
                target_id: String::new(),
                step: "deploy".into(),
                attempt: 2,
            }],
        },
        10 => Event::CancelledByOps {
            by,
            reason: "stop".into(),
            step: None,
        },
        11 => Event::StageResultPosted {
            stage: "deploy".into(),
            status: [
                StageStatus::Started,
                StageStatus::Succeeded,
                StageStatus::Failed,
            ][usize::try_from(who).unwrap_or(0) % 3],
            duration_ms: None,
            metrics: Default::default(),
            by: "ci".into(),
            deploys: true,
            commit_at: (who % 2 == 0).then_some(who),
        },
        13 => Event::TargetsFailed {
            failed: vec!["eu".into()],
        },
        12 => Event::WaitingForWindow {
            note: "waiting".into(),
        },
        _ => Event::CiUnreachable {
            step: "deploy".into(),
            attempt: 1,
            next_at: "later".into(),
            error: "refused".into(),
        },
    }
}

/// Plays the effects that change what the lifecycle reads back: decisions and voids.
fn play(subject: &mut Subject, t: &Transition, now: i64) {
    for effect in &t.effects {
        match effect {
            Effect::Decision {
                user_id,
                teams,
                stage,
                verdict: Verdict::Approve,
                ..
            } => {
                for a in &mut subject.approvals {
                    a.voided |= a.user_id == *user_id && a.stage == *stage;
                }
                subject.approvals.push(Approval {
                    user_id: *user_id,
                    teams: teams.clone(),
                    stage: *stage,
                    at_ms: now,
                    voided: false,
                    acted_by: None,
                });
            }
            Effect::VoidApprovals { .. } => {
                subject.approvals.iter_mut().for_each(|a| a.voided = true);
            }
            _ => {}
        }
    }
    if t.state == State::Failed {
        subject.retryable = true;
    }
    subject.state = Some(t.state);
}

fn terminal(s: State) -> bool {
    matches!(
        s,
        State::Succeeded | State::Rejected | State::Cancelled | State::Expired
    )
}

proptest! {
    #[test]
    fn random_event_sequences_keep_the_invariants(
        stages in 0usize..3,
        lifetime in prop::option::of(1i64..5),
        self_deploy in any::<bool>(),
        steps in prop::collection::vec((any::<u8>(), 1i64..4, any::<bool>(), 0i64..3000), 1..40),
    ) {
        let policy = policy(lifetime, stages);
        let mut subject = Subject {
            state: None,
            requester_id: REQUESTER,
            scheduled_at: None,
            self_deploy,
            approvals: vec![],
            retryable: false,
        };
        let mut now = 1_000_000;
        let submitted = Event::Submitted {
            by: REQUESTER,
            version: "1.0".into(),
            origin: "portal".into(),
            on_behalf: None,
            change: crate::domain::change::Change::Normal,
            standard_unmet: None,
        };
        let t = transition(&subject, &submitted, &policy, now).expect("a new request is taken");
        play(&mut subject, &t, now);
        for (choice, who, ops, wait) in steps {
            now += wait;
            let before = subject.state.expect("stored");
            let event = event(choice, who, ops);
            let Ok(t) = transition(&subject, &event, &policy, now) else {
                continue;
            };
            // Terminal states stay terminal.
            if terminal(before) {
                prop_assert_eq!(t.state, before, "{:?} left {:?}", event, before);
            }
            // Nothing deploys without complete approvals.
            let deploying = |s: State| matches!(s, State::Provisioning | State::Deploying | State::Succeeded);
            if deploying(t.state) && !deploying(before) {
                let eval = approval::evaluate(&policy, REQUESTER, &subject.approvals, now);
                prop_assert!(eval.complete(), "{:?} deployed from {:?} without approvals", event, before);
            }
            // Every transition is audited and announced.
            prop_assert!(t.effects.iter().any(|e| matches!(e, Effect::Audit { .. })), "{:?} unaudited", event);
            prop_assert!(t.effects.contains(&Effect::Announce));
            // A deployment is kept for the metrics exactly when one ends.
            let ended = t.state != before && matches!(t.state, State::Succeeded | State::Failed);
            let recorded = t.effects.iter().filter(|e| matches!(e, Effect::RecordDeployment { .. })).count();
            prop_assert_eq!(recorded, usize::from(ended), "{:?} from {:?}", event, before);
            // Only an approved request (not deploying itself) queues a dispatch.
            if t.effects.iter().any(|e| matches!(e, Effect::Enqueue { .. })) {
                prop_assert!(matches!(t.state, State::Approved | State::Scheduled));
                let retried = matches!(event, Event::Retried { .. });
                prop_assert!(!self_deploy || retried);
            }
            play(&mut subject, &t, now);
        }
    }
}

#[test]
fn the_last_approval_queues_the_dispatch_and_a_rejection_ends_it() {
    let policy = policy(None, 1);
    let subject = Subject {
        state: Some(State::PendingApproval),
        requester_id: REQUESTER,
        scheduled_at: None,
        self_deploy: false,
        approvals: vec![],
        retryable: false,
    };
    let approve = Event::Decided {
        by: viewer(2, false),
        verdict: Verdict::Approve,
        comment: "ok".into(),
    };
    let t = transition(&subject, &approve, &policy, 5).expect("approved");
    assert_eq!(t.state, State::Approved);
    assert!(t.effects.contains(&Effect::Enqueue { at: 5 }));
    assert!(t.effects.contains(&Effect::Reindex { teams: vec![] }));
    let own = Event::Decided {
        by: viewer(REQUESTER, false),
        verdict: Verdict::Approve,
        comment: String::new(),
    };
    assert_eq!(
        transition(&subject, &own, &policy, 5),
        Err(Refusal::Forbidden(
            "You cannot decide on your own request.".into()
        ))
    );
    let silent = Event::Decided {
        by: viewer(2, false),
        verdict: Verdict::Reject,
        comment: " ".into(),
    };
    assert!(matches!(
        transition(&subject, &silent, &policy, 5),
        Err(Refusal::Invalid(e)) if e.contains_key("comment")
    ));
}

#[test]
fn a_standard_change_is_approved_as_it_opens_and_takes_no_edit() {
    let standard = Policy {
        no_edit: Some("This standard change was approved as it was opened.".into()),
        ..policy(None, 0)
    };
    let new = Subject {
        state: None,
        requester_id: REQUESTER,
        scheduled_at: None,
        self_deploy: false,
        approvals: vec![],
        retryable: false,
    };
    let submitted = Event::Submitted {
        by: REQUESTER,
        version: "2.4.1".into(),
        origin: "portal".into(),
        on_behalf: None,
        change: crate::domain::change::Change::Standard {
            rule: "Low-risk patch".into(),
        },
        standard_unmet: None,
    };
    let t = transition(&new, &submitted, &standard, 5).expect("opened");
    assert_eq!(t.state, State::Approved);
    assert!(t.effects.contains(&audit(AuditEvent::Approved {
        reason: "the standard change rule “Low-risk patch” is met".into()
    })));
    let approved = Subject {
        state: Some(State::Approved),
        ..new
    };
    let edit = Event::Edited {
        by: viewer(REQUESTER, false),
        before: draft("2.4.1"),
        after: draft("2.5.0"),
    };
    assert!(matches!(
        transition(&approved, &edit, &standard, 6),
        Err(Refusal::Conflict(m)) if m.contains("standard change")
    ));
}

#[test]
fn the_buttons_follow_the_same_rules() {
    let policy = policy(None, 1);
    let mut subject = Subject {
        state: Some(State::PendingApproval),
        requester_id: REQUESTER,
        scheduled_at: None,
        self_deploy: false,
        approvals: vec![],
        retryable: false,
    };
    let requester = allowed_actions(&subject, &policy, &viewer(REQUESTER, false), 0);
    assert_eq!(
        requester,
        Actions {
            edit: true,
            cancel: true,
            ..Actions::default()
        }
    );
    let approver = allowed_actions(&subject, &policy, &viewer(2, false), 0);
    assert!(approver.decide && !approver.cancel && !approver.edit);
    subject.state = Some(State::Failed);
    subject.retryable = true;
    let ops = allowed_actions(&subject, &policy, &viewer(3, true), 0);
    assert_eq!(
        ops,
        Actions {
            retry: true,
            ..Actions::default()
        }
    );
}
