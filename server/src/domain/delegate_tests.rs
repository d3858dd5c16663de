//! Deciding in an away approver's place, through the lifecycle's own `transition`.

use crate::domain::approval::Approval;
use crate::domain::audit::AuditEvent;
use crate::domain::lifecycle::{transition, Effect, Event, Refusal, Verdict, Viewer};
use crate::domain::Policy;

use crate::domain::fixtures::{waiting, REQUESTER};

const CLEO: i64 = 3;
const WES: i64 = 7;

fn policy(delegation: bool) -> Policy {
    Policy {
        delegation,
        ..crate::domain::fixtures::policy(&[("CAB", "cab", 2)])
    }
}

fn person(id: i64, team: &str) -> Viewer {
    Viewer {
        user_id: id,
        teams: vec![team.into()],
        ops: false,
    }
}

fn for_cleo(by: i64) -> Event {
    Event::DecidedFor {
        by: person(by, "web"),
        seat: person(CLEO, "cab"),
        seat_name: "Cleo Board".into(),
        verdict: Verdict::Approve,
        comment: String::new(),
    }
}

fn approval(user_id: i64, acted_by: Option<i64>) -> Approval {
    Approval {
        user_id,
        teams: vec!["cab".into()],
        stage: 0,
        at_ms: 1,
        voided: false,
        acted_by,
    }
}

#[test]
fn a_delegate_decides_as_the_away_approver_and_the_timeline_names_both() {
    let t = transition(&waiting(vec![]), &for_cleo(WES), &policy(true), 5).expect("decided");
    assert!(t.effects.iter().any(|e| matches!(
        e,
        Effect::Decision { user_id: CLEO, acted_by: Some(WES), teams, .. } if teams == &["cab".to_owned()]
    )));
    assert!(t.effects.iter().any(|e| matches!(
        e,
        Effect::Audit {
            actor: Some(WES),
            event: AuditEvent::Approval { for_whom: Some(name), .. }
        } if name == "Cleo Board"
    )));
}

#[test]
fn the_policy_the_requester_and_counting_twice_refuse_a_delegate() {
    let forbidden = |r: Result<_, Refusal>| matches!(r, Err(Refusal::Forbidden(_)));
    assert!(forbidden(transition(
        &waiting(vec![]),
        &for_cleo(WES),
        &policy(false),
        5
    )));
    assert!(forbidden(transition(
        &waiting(vec![]),
        &for_cleo(REQUESTER),
        &policy(true),
        5
    )));
    // Wes approved in his own right already (say he is in the CAB too): he counts once.
    assert!(forbidden(transition(
        &waiting(vec![approval(WES, None)]),
        &for_cleo(WES),
        &policy(true),
        5
    )));
    // Cleo's seat is taken once: her approval stands.
    assert!(forbidden(transition(
        &waiting(vec![approval(CLEO, Some(WES))]),
        &for_cleo(WES),
        &policy(true),
        5
    )));
    // Having decided for Cleo, Wes cannot decide again in his own name.
    let own = Event::Decided {
        by: person(WES, "cab"),
        verdict: Verdict::Approve,
        comment: String::new(),
    };
    assert!(forbidden(transition(
        &waiting(vec![approval(CLEO, Some(WES))]),
        &own,
        &policy(true),
        5
    )));
}
