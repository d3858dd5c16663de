//! Standing in for away approvers: whose place a person may take now, and in whose name a
//! decision of theirs is recorded.

use super::error::Result;
use super::requests::viewer;
use crate::db::users::{self, User};
use crate::db::{away, Db};
use crate::domain::lifecycle::{self, Event, Subject, Verdict, Viewer};
use crate::domain::Policy;

/// An away approver `user` stands in for now, as the lifecycle sees them, with their name.
#[derive(Debug, Clone)]
pub struct Seat {
    pub viewer: Viewer,
    pub name: String,
}

/// The away approvers who named `user` their delegate and are away at `now`.
pub async fn seats(db: &Db, user: &User, now: i64) -> Result<Vec<Seat>> {
    let mut out = Vec::new();
    for (id, name) in away::delegators(db, user.id, now).await? {
        if let Some(person) = users::by_id(db, id).await? {
            out.push(Seat {
                viewer: viewer(&person, false),
                name,
            });
        }
    }
    Ok(out)
}

/// Where `by` may decide on `subject` now.
pub enum Place<'a> {
    /// In their own name.
    Own,
    /// In the place of this away approver.
    For(&'a Seat),
    /// Nowhere.
    Neither,
}

impl<'a> Place<'a> {
    /// The away approver's seat, when it is one.
    fn seat(self) -> Option<&'a Seat> {
        match self {
            Place::For(seat) => Some(seat),
            Place::Own | Place::Neither => None,
        }
    }
}

/// Where `by` may approve `subject`: in their own name when the lifecycle lets them, else in the
/// place of the first away approver in `seats` it lets them stand in for.
pub fn place<'a>(
    subject: &Subject,
    policy: &Policy,
    now: i64,
    by: &Viewer,
    seats: &'a [Seat],
) -> Place<'a> {
    let accepts = |e: &Event| lifecycle::transition(subject, e, policy, now).is_ok();
    if accepts(&own(by, Verdict::Approve, "")) {
        return Place::Own;
    }
    seats
        .iter()
        .find(|s| accepts(&for_seat(by, s, Verdict::Approve, "")))
        .map_or(Place::Neither, Place::For)
}

/// How `by` decides on `subject`: in the place [`place`] finds, in their own name when none
/// (whose refusal says why).
pub fn decision(
    subject: &Subject,
    policy: &Policy,
    now: i64,
    by: &Viewer,
    seats: &[Seat],
    verdict: Verdict,
    comment: &str,
) -> Event {
    match place(subject, policy, now, by, seats) {
        Place::For(seat) => for_seat(by, seat, verdict, comment),
        Place::Own => own(by, verdict, comment),
        Place::Neither => match forbidden_seat(subject, policy, now, by, seats) {
            // Only the policy stands in the way: its refusal is the one that says why.
            Some(seat) => for_seat(by, seat, verdict, comment),
            None => own(by, verdict, comment),
        },
    }
}

/// The seat `by` could take on `subject` if the policy let delegates decide, when it does not.
fn forbidden_seat<'a>(
    subject: &Subject,
    policy: &Policy,
    now: i64,
    by: &Viewer,
    seats: &'a [Seat],
) -> Option<&'a Seat> {
    if policy.delegation || seats.is_empty() {
        return None;
    }
    let open = Policy {
        delegation: true,
        emergency: None,
        rollback: None,
        standard: Vec::new(),
        no_edit: None,
        ignores_freezes: false,
        review_within_secs: None,
        ..policy.clone()
    };
    place(subject, &open, now, by, seats).seat()
}

fn own(by: &Viewer, verdict: Verdict, comment: &str) -> Event {
    Event::Decided {
        by: by.clone(),
        verdict,
        comment: comment.to_owned(),
    }
}

fn for_seat(by: &Viewer, seat: &Seat, verdict: Verdict, comment: &str) -> Event {
    Event::DecidedFor {
        by: by.clone(),
        seat: seat.viewer.clone(),
        seat_name: seat.name.clone(),
        verdict,
        comment: comment.to_owned(),
    }
}

/// Whose place `by` would decide in on `subject` now: `None` in their own, or when they may not
/// decide at all.
pub fn deciding_for<'a>(
    subject: &Subject,
    policy: &Policy,
    now: i64,
    by: &Viewer,
    seats: &'a [Seat],
) -> Option<&'a Seat> {
    place(subject, policy, now, by, seats).seat()
}
