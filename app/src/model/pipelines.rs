//! What the pages show of pipelines: tokens, the gate, stage history and tickets.

use serde::{Deserialize, Serialize};

/// The API tokens page (administrators).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokensView {
    pub tokens: Vec<TokenLine>,
    /// (id, name) of every application, for the form.
    pub applications: Vec<(String, String)>,
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenLine {
    pub id: i64,
    pub name: String,
    /// The token's first characters, to tell it apart.
    pub prefix: String,
    pub scopes: Vec<String>,
    /// "every application" or their names.
    pub applications: String,
    pub acts_as: String,
    pub created_by: String,
    pub created_at: String,
    pub last_used: Option<String>,
    pub revoked: Option<String>,
}

/// What creating a token gave: the secret (shown once) or the fields to mend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TokenOutcome {
    Created { name: String, secret: String },
    Invalid(Vec<(String, String)>),
}

/// The gate page: the dry-run form's choices and the latest answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GatePageView {
    pub applications: Vec<GateTarget>,
    pub recent: Vec<GateLine>,
}

/// An application the dry-run form offers, with its environments as (id, name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateTarget {
    pub id: String,
    pub name: String,
    pub environments: Vec<(String, String)>,
}

/// One recorded gate answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateLine {
    pub asked_at: String,
    pub asked_by: String,
    pub target: String,
    pub version: String,
    pub actor: String,
    pub about: String,
    pub dry_run: bool,
    pub decision: String,
    pub rule: String,
    pub reasons: Vec<String>,
    pub request_id: Option<i64>,
}

/// The answer of a dry run, or the fields to mend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum GateOutcome {
    Answered(Box<GateLine>),
    Invalid(Vec<(String, String)>),
}

/// The token form as the browser sends it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenForm {
    pub name: String,
    pub gate_read: bool,
    pub requests_write: bool,
    pub events_write: bool,
    pub requests_on_behalf: bool,
    /// Application ids separated by spaces or commas, or `*`.
    pub applications: String,
    pub acts_as: String,
}

/// The gate's dry-run form.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DryRunForm {
    pub application: String,
    pub environment: String,
    pub version: String,
    pub artifact: String,
    pub actor: String,
    /// `YYYY-MM-DDTHH:MM` in UTC; empty means now.
    pub at: String,
}

/// An application's pipeline history: each stage's results and durations over time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryView {
    pub app_id: String,
    pub app_name: String,
    /// The period shown ("2026-08-30 → 2026-11-28").
    pub period: String,
    pub stages: Vec<StageSeries>,
    /// The latest results, newest first.
    pub latest: Vec<StageResultLine>,
}

/// One stage's results: counts, median duration, and the points of its chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageSeries {
    pub name: String,
    pub runs: usize,
    pub failures: usize,
    pub median: String,
    /// The longest duration, the top of the chart's scale.
    pub longest: String,
    pub points: Vec<ChartPoint>,
}

/// A result on the chart: x and y in 0..=1 (time, duration; y is 0 without a duration).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartPoint {
    pub x: f32,
    pub y: f32,
    pub ok: bool,
    pub label: String,
    pub request_id: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageResultLine {
    pub at: String,
    pub env_name: String,
    pub stage: String,
    pub status: String,
    pub duration: String,
    pub metrics: String,
    pub request_id: i64,
}

/// One ticket in a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketLine {
    pub id: i64,
    pub kind: String,
    pub title: String,
    pub state: String,
    pub owner_team: String,
    pub opened_at: String,
    pub request_id: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketsView {
    pub tickets: Vec<TicketLine>,
    /// The state shown ("" for every state).
    pub state: String,
}

/// A ticket's page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketView {
    pub ticket: TicketLine,
    pub detail: String,
    pub rule: String,
    pub acknowledged_at: Option<String>,
    pub resolved_at: Option<String>,
    /// How the webhook delivery went, when the rule names one.
    pub webhook: Option<String>,
    /// (author, text, when).
    pub comments: Vec<(String, String, String)>,
    pub can_work: bool,
}
