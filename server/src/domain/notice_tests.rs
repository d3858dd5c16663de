//! Who is told of what, through the lifecycle's own `transition`.

use super::*;
use crate::domain::lifecycle::{transition, Event, Verdict, Viewer};

const REQUESTER: i64 = 1;

fn policy(stages: &[&str]) -> Policy {
    let names: Vec<String> = stages.iter().map(|t| format!("{t} stage")).collect();
    let stages: Vec<(&str, &str, u32)> = stages
        .iter()
        .zip(&names)
        .map(|(team, name)| (name.as_str(), *team, 1))
        .collect();
    crate::domain::fixtures::policy(&stages)
}

fn subject(state: Option<State>) -> Subject {
    Subject {
        state,
        requester_id: REQUESTER,
        scheduled_at: None,
        self_deploy: false,
        approvals: vec![],
        retryable: false,
    }
}

fn told(t: &crate::domain::lifecycle::Transition) -> Vec<(Kind, Audience, String)> {
    t.effects
        .iter()
        .filter_map(|e| match e {
            Effect::Notify(n) => Some((n.kind, n.audience.clone(), n.detail.clone())),
            _ => None,
        })
        .collect()
}

fn approver(id: i64, team: &str) -> Viewer {
    Viewer {
        user_id: id,
        teams: vec![team.into()],
        ops: false,
    }
}

#[test]
fn a_submitted_request_asks_its_first_stage_and_each_next_one() {
    let policy = policy(&["owners", "cab"]);
    let submitted = Event::Submitted {
        by: REQUESTER,
        version: "1.0".into(),
        origin: "portal".into(),
        on_behalf: None,
        change: crate::domain::change::Change::Normal,
        standard_unmet: None,
    };
    let t = transition(&subject(None), &submitted, &policy, 1).expect("submitted");
    assert_eq!(
        told(&t),
        vec![(
            Kind::ApprovalNeeded,
            Audience::Approvers {
                stage: 0,
                teams: vec!["owners".into()]
            },
            String::new()
        )]
    );
    let approve = Event::Decided {
        by: approver(2, "owners"),
        verdict: Verdict::Approve,
        comment: String::new(),
    };
    let t = transition(&subject(Some(State::PendingApproval)), &approve, &policy, 2)
        .expect("stage 1 approved");
    assert_eq!(
        told(&t),
        vec![(
            Kind::ApprovalNeeded,
            Audience::Approvers {
                stage: 1,
                teams: vec!["cab".into()]
            },
            String::new()
        )]
    );
}

#[test]
fn an_approval_that_leaves_the_stage_waiting_tells_nobody() {
    let mut policy = policy(&["cab"]);
    policy.stages[0].rules[0].count = 2;
    let approve = Event::Decided {
        by: approver(2, "cab"),
        verdict: Verdict::Approve,
        comment: String::new(),
    };
    let t =
        transition(&subject(Some(State::PendingApproval)), &approve, &policy, 2).expect("counted");
    assert_eq!(told(&t), vec![]);
}

#[test]
fn outcomes_reach_the_requester_and_failures_operations_too() {
    let policy = policy(&["cab"]);
    let reject = Event::Decided {
        by: approver(2, "cab"),
        verdict: Verdict::Reject,
        comment: "Not during the audit".into(),
    };
    let t =
        transition(&subject(Some(State::PendingApproval)), &reject, &policy, 2).expect("rejected");
    assert_eq!(
        told(&t),
        vec![(
            Kind::Rejected,
            Audience::Requester,
            "Not during the audit".into()
        )]
    );
    let approve = Event::Decided {
        by: approver(2, "cab"),
        verdict: Verdict::Approve,
        comment: String::new(),
    };
    let t =
        transition(&subject(Some(State::PendingApproval)), &approve, &policy, 2).expect("approved");
    assert_eq!(
        told(&t),
        vec![(Kind::Approved, Audience::Requester, String::new())]
    );

    let failed = Event::StepFailed {
        step: "deploy".into(),
        message: "exit 1".into(),
        target_id: String::new(),
        ends: true,
    };
    let t = transition(&subject(Some(State::Deploying)), &failed, &policy, 3).expect("failed");
    let detail = "deploy: exit 1".to_owned();
    assert_eq!(
        told(&t),
        vec![
            (Kind::DeployFailed, Audience::Requester, detail.clone()),
            (Kind::DeployFailed, Audience::Operations, detail),
        ]
    );
    let t = transition(
        &subject(Some(State::Deploying)),
        &Event::Deployed,
        &policy,
        4,
    )
    .expect("deployed");
    assert_eq!(
        told(&t),
        vec![(Kind::Deployed, Audience::Requester, String::new())]
    );
}

#[test]
fn the_notices_name_who_acted_so_they_are_not_told_of_it() {
    let policy = policy(&["cab"]);
    let cancel = Event::Cancelled {
        by: Viewer {
            user_id: REQUESTER,
            teams: vec!["dev".into()],
            ops: false,
        },
        reason: "not needed".into(),
    };
    let t =
        transition(&subject(Some(State::PendingApproval)), &cancel, &policy, 2).expect("cancelled");
    let actors: Vec<Option<i64>> = t
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::Notify(n) => Some(n.actor),
            _ => None,
        })
        .collect();
    assert_eq!(actors, vec![Some(REQUESTER)]);
}

#[test]
fn mail_preferences_change_the_defaults_and_round_trip() {
    assert!(mailed(Kind::ApprovalNeeded, ""));
    assert!(!mailed(Kind::Deployed, ""));
    assert!(mailed(Kind::Deployed, "+deployed"));
    assert!(!mailed(Kind::ApprovalNeeded, "-approval_needed"));
    assert!(mailed(
        Kind::ApprovalNeeded,
        "-approval_needed,+approval_needed"
    ));
    let chosen = [Kind::Deployed, Kind::Reminder];
    let prefs = prefs_for(&chosen, false);
    for kind in Kind::ALL {
        assert_eq!(
            mailed(kind, &prefs),
            chosen.contains(&kind),
            "{kind:?} under {prefs}"
        );
    }
    for kind in Kind::ALL {
        assert_eq!(Kind::parse(kind.as_str()), Some(kind));
    }
}

#[test]
fn an_audience_round_trips_through_its_stored_form() {
    let all = [
        Audience::Requester,
        Audience::Operations,
        Audience::Team("fin-tech_2".into()),
        Audience::Approvers {
            stage: 3,
            teams: vec!["cab".into(), "banking-owners".into()],
        },
        Audience::Approvers {
            stage: 0,
            teams: vec![],
        },
    ];
    for a in all {
        assert_eq!(Audience::decode(&a.encode()), Some(a.clone()), "{a:?}");
    }
    for bad in ["", "team:", "approvers:x:cab", "approvers", "everyone"] {
        assert_eq!(Audience::decode(bad), None, "{bad}");
    }
}
