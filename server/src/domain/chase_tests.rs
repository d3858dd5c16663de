//! Reminders and escalation, through the lifecycle's own `transition`.

use crate::domain::audit::AuditEvent;
use crate::domain::lifecycle::{transition, Due, Effect, Event, Refusal, Verdict, Viewer};
use crate::domain::notice::{Audience, Kind};
use crate::domain::request::State;
use crate::domain::{Chasing, Policy};

const HOUR: i64 = 3_600;
use crate::domain::fixtures::{waiting, REQUESTER};

fn policy(chasing: Chasing) -> Policy {
    Policy {
        windows: vec!["business".into()],
        chasing,
        ..crate::domain::fixtures::policy(&[("owners stage", "owners", 1), ("cab stage", "cab", 1)])
    }
}

fn chasing() -> Chasing {
    Chasing {
        remind_after_secs: Some(4 * HOUR),
        escalate_after_secs: Some(24 * HOUR),
        escalate_to: Some("ops".into()),
        in_windows: false,
    }
}

fn chase_of(effects: &[Effect]) -> Option<(Due, Due, Vec<String>)> {
    effects.iter().find_map(|e| match e {
        Effect::Chase {
            remind,
            escalate,
            in_windows,
        } => Some((*remind, *escalate, in_windows.clone())),
        _ => None,
    })
}

fn told(effects: &[Effect]) -> Vec<(Kind, Audience)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Notify(n) => Some((n.kind, n.audience.clone())),
            _ => None,
        })
        .collect()
}

fn overdue(remind_at: Option<i64>, escalate_at: Option<i64>) -> Event {
    Event::Overdue {
        remind_at,
        escalate_at,
    }
}

#[test]
fn reaching_a_stage_starts_the_clocks_and_leaving_approval_stops_them() {
    let policy = policy(chasing());
    let submitted = Event::Submitted {
        by: REQUESTER,
        version: "1.0".into(),
        origin: "portal".into(),
        on_behalf: None,
        change: crate::domain::change::Change::Normal,
        standard_unmet: None,
    };
    let mut new = waiting(vec![]);
    new.state = None;
    let t = transition(&new, &submitted, &policy, 0).expect("submitted");
    assert_eq!(
        chase_of(&t.effects),
        Some((Due::After(4 * HOUR), Due::After(24 * HOUR), vec![]))
    );
    // The next stage starts them again.
    let approve = Event::Decided {
        by: Viewer {
            user_id: 2,
            teams: vec!["owners".into()],
            ops: false,
        },
        verdict: Verdict::Approve,
        comment: String::new(),
    };
    let t = transition(&waiting(vec![]), &approve, &policy, 10).expect("stage 1 done");
    assert_eq!(
        chase_of(&t.effects),
        Some((Due::After(4 * HOUR), Due::After(24 * HOUR), vec![]))
    );
    let cancel = Event::Cancelled {
        by: Viewer {
            user_id: REQUESTER,
            teams: vec!["dev".into()],
            ops: false,
        },
        reason: String::new(),
    };
    let t = transition(&waiting(vec![]), &cancel, &policy, 10).expect("cancelled");
    assert_eq!(chase_of(&t.effects), Some((Due::Stop, Due::Stop, vec![])));
    // A policy without reminders writes nothing of them.
    let t = transition(&new, &submitted, &self::policy(Chasing::default()), 0).expect("ok");
    assert_eq!(chase_of(&t.effects), None);
}

#[test]
fn an_overdue_reminder_asks_the_stage_again_and_sets_the_next_one() {
    let policy = policy(chasing());
    let now = 5 * HOUR * 1000;
    let t = transition(
        &waiting(vec![]),
        &overdue(Some(now - 1), Some(now + 1)),
        &policy,
        now,
    )
    .expect("reminded");
    assert_eq!(t.state, State::PendingApproval);
    assert_eq!(
        told(&t.effects),
        vec![(
            Kind::Reminder,
            Audience::Approvers {
                stage: 0,
                teams: vec!["owners".into()]
            }
        )]
    );
    assert_eq!(
        chase_of(&t.effects),
        Some((Due::After(4 * HOUR), Due::Keep, vec![]))
    );
    assert!(t.effects.iter().any(|e| matches!(
        e,
        Effect::Audit {
            actor: None,
            event: AuditEvent::Reminded {
                reminded: true,
                escalated_to: None,
                ..
            }
        }
    )));
    // Not yet due: nothing to do.
    assert_eq!(
        transition(
            &waiting(vec![]),
            &overdue(Some(now + 1), None),
            &policy,
            now
        )
        .err(),
        Some(Refusal::Unchanged)
    );
}

#[test]
fn an_overdue_escalation_tells_the_team_once() {
    let mut c = chasing();
    c.in_windows = true;
    let policy = policy(c);
    let t = transition(&waiting(vec![]), &overdue(None, Some(5)), &policy, 10).expect("escalated");
    assert_eq!(
        told(&t.effects),
        vec![(Kind::Escalation, Audience::Team("ops".into()))]
    );
    assert_eq!(
        chase_of(&t.effects),
        Some((Due::Keep, Due::Stop, vec!["business".into()]))
    );
}

#[test]
fn a_request_that_no_longer_waits_stops_its_clocks_and_tells_nobody() {
    let policy = policy(chasing());
    let mut approved = waiting(vec![]);
    approved.state = Some(State::Approved);
    let t = transition(&approved, &overdue(Some(1), Some(1)), &policy, 10).expect("stopped");
    assert_eq!(t.state, State::Approved);
    assert_eq!(told(&t.effects), vec![]);
    assert_eq!(chase_of(&t.effects), Some((Due::Stop, Due::Stop, vec![])));
}
