//! What a viewer may do to a request now, asked of the lifecycle itself. Pure.

use super::lifecycle::{edit_refusal, transition, Event, Subject, Verdict, Viewer};
use super::Policy;

/// What a viewer may do to a request: the buttons a page shows, the calls a use case accepts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Actions {
    pub decide: bool,
    pub edit: bool,
    pub cancel: bool,
    pub retry: bool,
    pub stop: bool,
}

/// What the lifecycle would accept from `viewer` now: each action is asked of [`transition`]
/// itself, so the buttons and the use cases cannot disagree.
pub fn allowed_actions(request: &Subject, policy: &Policy, viewer: &Viewer, now: i64) -> Actions {
    let accepts = |event: Event| transition(request, &event, policy, now).is_ok();
    let by = || viewer.clone();
    Actions {
        decide: accepts(Event::Decided {
            by: by(),
            verdict: Verdict::Approve,
            comment: String::new(),
        }),
        edit: request.state.is_some()
            && policy.no_edit.is_none()
            && edit_refusal(request, viewer).is_none(),
        cancel: accepts(Event::Cancelled {
            by: by(),
            reason: String::new(),
        }),
        retry: accepts(Event::Retried {
            by: by(),
            retries: Vec::new(),
        }),
        stop: accepts(Event::CancelledByOps {
            by: by(),
            reason: String::new(),
            step: None,
        }),
    }
}
