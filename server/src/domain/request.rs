//! The release request: its fields, their validation, and its lifecycle. Pure.

use super::{text, Application, FieldKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    PendingApproval,
    Approved,
    Scheduled,
    Provisioning,
    Deploying,
    Succeeded,
    Failed,
    Rejected,
    Cancelled,
    Expired,
}

impl State {
    pub const ALL: [State; 10] = [
        State::PendingApproval,
        State::Approved,
        State::Scheduled,
        State::Provisioning,
        State::Deploying,
        State::Succeeded,
        State::Failed,
        State::Rejected,
        State::Cancelled,
        State::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::PendingApproval => "pending_approval",
            State::Approved => "approved",
            State::Scheduled => "scheduled",
            State::Provisioning => "provisioning",
            State::Deploying => "deploying",
            State::Succeeded => "succeeded",
            State::Failed => "failed",
            State::Rejected => "rejected",
            State::Cancelled => "cancelled",
            State::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Still waiting for its deployment to start: it may be edited or cancelled.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            State::PendingApproval | State::Approved | State::Scheduled
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    Low,
    Medium,
    High,
}

impl Risk {
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::Low => "low",
            Risk::Medium => "medium",
            Risk::High => "high",
        }
    }

    pub fn parse(s: &str) -> Option<Risk> {
        [Risk::Low, Risk::Medium, Risk::High]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

/// The form as submitted: every value is text, as a browser or a pipeline sends it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RawDraft {
    pub version: String,
    pub artifact: String,
    pub title: String,
    pub summary: String,
    pub risk: String,
    pub rollback_plan: String,
    /// `YYYY-MM-DDTHH:MM` in `timezone`; empty means "as soon as approved".
    pub scheduled_local: String,
    pub timezone: String,
    pub fields: BTreeMap<String, String>,
    /// Empty or `normal`, `emergency` or `rollback` (see `change::requested`).
    #[serde(default)]
    pub change: String,
    /// Why an emergency change cannot wait.
    #[serde(default)]
    pub justification: String,
    /// The number of the request a rollback undoes.
    #[serde(default)]
    pub rollback_of: String,
}

/// A request's extra fields, by the application's field ids.
pub type Fields = BTreeMap<String, serde_json::Value>;

/// A validated request body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    pub version: String,
    pub artifact: String,
    pub title: String,
    pub summary: String,
    pub risk: Risk,
    pub rollback_plan: String,
    pub scheduled_at: Option<i64>,
    /// The IANA zone the schedule was given in ("UTC" when none was).
    pub timezone: String,
    pub fields: Fields,
}

/// Field name → what is wrong with it.
pub type FieldErrors = BTreeMap<String, String>;

const MAX_SHORT: usize = 200;
const MAX_LONG: usize = 10_000;

/// A text field, checked as sent (required or not, one line or a block, at most `max`
/// characters; only white space is the same as nothing) and kept trimmed, so that a person's
/// edit form, which trims, never reads as a change to what a pipeline sent.
fn text(errors: &mut FieldErrors, field: &str, value: &str, required: bool, max: usize) -> String {
    let problem = if required && value.trim().is_empty() {
        Some("Required.".to_owned())
    } else if max == MAX_SHORT {
        text::line_problem(value, max)
    } else {
        text::block_problem(value, max)
    };
    if let Some(p) = problem {
        errors.insert(field.to_owned(), p);
    }
    value.trim().to_owned()
}

/// Validates a draft for `app`; `now_ms` rejects a schedule in the past.
pub fn validate(app: &Application, raw: &RawDraft, now_ms: i64) -> Result<Draft, FieldErrors> {
    let mut errors = FieldErrors::new();
    let version = text(&mut errors, "version", &raw.version, true, MAX_SHORT);
    // A version and a digest have no spaces at all: they are checked as sent.
    if let Some(p) = text::version_problem(&raw.version).filter(|_| !version.is_empty()) {
        errors.insert("version".into(), p);
    }
    let artifact = text(&mut errors, "artifact", &raw.artifact, false, MAX_SHORT);
    if !artifact.is_empty() && !errors.contains_key("artifact") && !is_digest(&raw.artifact) {
        errors.insert(
            "artifact".into(),
            "Write a digest such as sha256: followed by 64 hexadecimal digits.".into(),
        );
    }
    let mut title = text(&mut errors, "title", &raw.title, false, MAX_SHORT);
    if title.trim().is_empty() {
        title = default_title(app, &version);
    }
    let summary = text(&mut errors, "summary", &raw.summary, true, MAX_LONG);
    let rollback_plan = text(
        &mut errors,
        "rollback_plan",
        &raw.rollback_plan,
        true,
        MAX_LONG,
    );
    let risk = Risk::parse(&raw.risk).unwrap_or_else(|| {
        errors.insert("risk".into(), "Choose low, medium or high.".into());
        Risk::Low
    });
    let scheduled_at = schedule(&mut errors, raw, now_ms);
    let timezone = zone_name(raw);
    let timezone = if jiff::tz::TimeZone::get(timezone).is_ok() {
        timezone.to_owned()
    } else {
        "UTC".to_owned()
    };
    let mut fields = BTreeMap::new();
    for f in &app.fields {
        let value = raw
            .fields
            .get(&f.id)
            .map(String::as_str)
            .unwrap_or_default();
        let key = format!("fields.{}", f.id);
        // Empty is not given; for free text, so is white space alone.
        let blank = match f.kind {
            FieldKind::Text => value.trim().is_empty(),
            _ => value.is_empty(),
        };
        let parsed = match f.kind {
            FieldKind::Checkbox => Some(serde_json::Value::Bool(matches!(
                value,
                "on" | "true" | "1" | "yes"
            ))),
            _ if blank => {
                if f.required {
                    errors.insert(key, "Required.".into());
                }
                None
            }
            FieldKind::Text => match text::block_problem(value, MAX_LONG) {
                Some(p) => {
                    errors.insert(key, p);
                    None
                }
                None => Some(serde_json::Value::String(value.trim().to_owned())),
            },
            FieldKind::Number => match text::number_problem(value) {
                None => value
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map(serde_json::Value::Number),
                Some(p) => {
                    errors.insert(key, p);
                    None
                }
            },
            FieldKind::Select if f.options.iter().any(|o| o == value) => {
                Some(serde_json::Value::String(value.to_owned()))
            }
            FieldKind::Select => {
                errors.insert(key, format!("Choose one of: {}.", f.options.join(", ")));
                None
            }
        };
        if let Some(v) = parsed {
            fields.insert(f.id.clone(), v);
        }
    }
    if let Some(unknown) = raw
        .fields
        .keys()
        .find(|k| !app.fields.iter().any(|f| &f.id == *k))
    {
        errors.insert(
            format!("fields.{unknown}"),
            format!("{} has no field named {unknown}.", app.name),
        );
    }
    if errors.is_empty() {
        Ok(Draft {
            version,
            artifact,
            title,
            summary,
            risk,
            rollback_plan,
            scheduled_at,
            timezone,
            fields,
        })
    } else {
        Err(errors)
    }
}

fn zone_name(raw: &RawDraft) -> &str {
    let zone = raw.timezone.trim();
    if zone.is_empty() {
        "UTC"
    } else {
        zone
    }
}

fn schedule(errors: &mut FieldErrors, raw: &RawDraft, now_ms: i64) -> Option<i64> {
    let local = raw.scheduled_local.trim();
    if local.is_empty() {
        return None;
    }
    let zone_name = zone_name(raw);
    let Ok(zone) = jiff::tz::TimeZone::get(zone_name) else {
        errors.insert("timezone".into(), format!("Unknown time zone {zone_name}."));
        return None;
    };
    let at = local
        .parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(|dt| zone.to_timestamp(dt).ok())
        .map(|t| t.as_millisecond());
    match at {
        None => {
            errors.insert(
                "scheduled_local".into(),
                "Enter a date and time such as 2026-12-01T14:30.".into(),
            );
            None
        }
        Some(ms) if ms <= now_ms => {
            errors.insert(
                "scheduled_local".into(),
                "This time has passed; choose a later one.".into(),
            );
            None
        }
        Some(ms) => Some(ms),
    }
}

/// `sha256:` + 64 hex digits (or another algorithm name with its hex digest).
pub fn is_digest(s: &str) -> bool {
    s.split_once(':').is_some_and(|(algo, hex)| {
        !algo.is_empty()
            && algo
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            && hex.len() >= 32
            && hex
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    })
}

/// The state a request reaches once its last approval is in.
pub fn approved_state(scheduled_at: Option<i64>, now_ms: i64) -> State {
    match scheduled_at {
        Some(at) if at > now_ms => State::Scheduled,
        _ => State::Approved,
    }
}

/// The title a request gets when none is given: "Banking 2.4.0".
pub fn default_title(app: &Application, version: &str) -> String {
    format!("{} {version}", app.name)
}

/// The request's own fields an edit changes, by their names in [`super::MATERIAL_FIELDS`], in
/// form order.
fn own_changes(before: &Draft, after: &Draft) -> impl Iterator<Item = &'static str> {
    [
        ("version", before.version != after.version),
        ("artifact", before.artifact != after.artifact),
        ("title", before.title != after.title),
        ("summary", before.summary != after.summary),
        ("risk", before.risk != after.risk),
        ("rollback_plan", before.rollback_plan != after.rollback_plan),
        ("schedule", before.scheduled_at != after.scheduled_at),
    ]
    .into_iter()
    .filter_map(|(name, changed)| changed.then_some(name))
}

/// The fields an edit changes that the policy calls material: when there is any, what was
/// approved is no longer what would deploy, and the approvals so far no longer hold.
pub fn material_changes(policy: &super::Policy, before: &Draft, after: &Draft) -> Vec<String> {
    let ids: std::collections::BTreeSet<&String> =
        before.fields.keys().chain(after.fields.keys()).collect();
    let extra = ids
        .into_iter()
        .filter(|id| before.fields.get(*id) != after.fields.get(*id))
        .map(|id| format!("fields.{id}"));
    own_changes(before, after)
        .map(str::to_owned)
        .chain(extra)
        .filter(|name| policy.is_material(name))
        .collect()
}

/// The names of the fields an edit changes, in form order, as a person reads them.
pub fn changed_fields(before: &Draft, after: &Draft) -> Vec<&'static str> {
    let own = own_changes(before, after).map(|name| match name {
        "rollback_plan" => "rollback plan",
        other => other,
    });
    let extra = (before.fields != after.fields).then_some("extra fields");
    own.chain(extra).collect()
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
