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

/// How `by` decides on `subject`: in their own name when the lifecycle lets them, else in the
/// place of the first away approver in `seats` it lets them stand in for; when neither, in
/// their own name (whose refusal says why).
pub fn decision(
    subject: &Subject,
    policy: &Policy,
    now: i64,
    by: &Viewer,
    seats: &[Seat],
    verdict: Verdict,
    comment: &str,
) -> Event {
    let own = Event::Decided {
        by: by.clone(),
        verdict,
        comment: comment.to_owned(),
    };
    if lifecycle::transition(subject, &own, policy, now).is_ok() {
        return own;
    }
    seats
        .iter()
        .map(|s| Event::DecidedFor {
            by: by.clone(),
            seat: s.viewer.clone(),
            seat_name: s.name.clone(),
            verdict,
            comment: comment.to_owned(),
        })
        .find(|e| lifecycle::transition(subject, e, policy, now).is_ok())
        .unwrap_or(own)
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
    match decision(subject, policy, now, by, seats, Verdict::Approve, "") {
        Event::DecidedFor { seat, .. } => seats.iter().find(|s| s.viewer.user_id == seat.user_id),
        _ => None,
    }
}
