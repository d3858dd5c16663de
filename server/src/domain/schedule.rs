//! When a release may be deployed: change windows and freezes, checked at dispatch time. Pure.

use super::{Catalog, Freeze, Policy, Window};

/// Whether a deployment may start now, or when it next may and why it waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    Open,
    /// Not before `at_ms`; `reason` says what holds it ("Year-end closing …", "outside Business hours").
    WaitUntil {
        at_ms: i64,
        reason: String,
    },
    /// No allowed time in the next year (a window with no days, a freeze without end …).
    Never {
        reason: String,
    },
}

/// Whether a release of `app` to `env` under `policy` may start at `now_ms`. Freezes come from
/// the catalog as it is now (unless the policy is an emergency's that ignores them); the
/// policy's windows are looked up by id in it.
pub fn dispatch_gate(
    catalog: &Catalog,
    policy: &Policy,
    app: &str,
    env: &str,
    now_ms: i64,
) -> Gate {
    let windows: Vec<&Window> = catalog
        .windows
        .iter()
        .filter(|w| policy.windows.contains(&w.id))
        .collect();
    let freezes: Vec<&Freeze> = catalog
        .freezes
        .iter()
        .filter(|f| !policy.ignores_freezes && f.applies(app, env))
        .collect();
    let mut at = now_ms;
    // Why it may not start now: a freeze covering this moment says more than a closed window.
    let mut reason = freezes
        .iter()
        .find(|f| f.covering(now_ms).is_some())
        .map(|f| format!("freeze: {}", f.reason))
        .unwrap_or_default();
    // Alternate between "next window opening" and "end of the freeze covering it" until both hold.
    for _ in 0..64 {
        if !windows.is_empty() {
            let Some(opening) = windows
                .iter()
                .filter_map(|w| w.when.next_span(at).map(|(start, _)| start))
                .min()
            else {
                return Gate::Never {
                    reason: "no change window ever opens".into(),
                };
            };
            if opening > at {
                if reason.is_empty() {
                    let names: Vec<&str> = windows.iter().map(|w| w.name.as_str()).collect();
                    reason = format!("outside {}", names.join(" or "));
                }
                at = opening;
            }
        }
        match freezes
            .iter()
            .filter_map(|f| f.covering(at).map(|end| (f, end)))
            .max_by_key(|(_, end)| *end)
        {
            Some((f, end)) => {
                if reason.is_empty() {
                    reason = format!("freeze: {}", f.reason);
                }
                at = end;
            }
            None if at == now_ms => return Gate::Open,
            None => return Gate::WaitUntil { at_ms: at, reason },
        }
    }
    Gate::Never {
        reason: "freezes and windows leave no time to deploy".into(),
    }
}

/// The instant `secs` of counted time after `from_ms`: the whole clock when `windows` is empty,
/// else only the hours inside them (business hours). `None` when the windows never open.
pub fn counted_after(
    catalog: &Catalog,
    windows: &[String],
    from_ms: i64,
    secs: i64,
) -> Option<i64> {
    let mut left = secs.saturating_mul(1000);
    if windows.is_empty() {
        return Some(from_ms.saturating_add(left));
    }
    let windows: Vec<&Window> = catalog
        .windows
        .iter()
        .filter(|w| windows.contains(&w.id))
        .collect();
    let mut at = from_ms;
    // Each turn spends one opening; a year of daily openings bounds the walk.
    for _ in 0..400 {
        let (start, end) = windows
            .iter()
            .filter_map(|w| w.when.next_span(at))
            .min_by_key(|(start, _)| *start)?;
        if left <= end - start {
            return Some(start + left);
        }
        left -= end - start;
        at = end;
    }
    None
}

#[cfg(test)]
#[path = "schedule_tests.rs"]
mod tests;
