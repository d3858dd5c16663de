//! What the pages show of pipelines: tokens, the gate, stage history and tickets.

use serde::{Deserialize, Serialize};

/// The API tokens page (administrators).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokensView {
    pub tokens: Vec<TokenLine>,
    /// (id, name) of every application, for the form.
    pub applications: Vec<(String, String)>,
    pub scopes: Vec<String>,
    /// What the last post of the form left, shown once.
    pub posted: super::Posted,
    /// The token just made: its secret is shown this once.
    pub created: Option<NewToken>,
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

/// A token just made, with its secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewToken {
    pub name: String,
    pub secret: String,
}

/// The gate page: the dry-run form's choices and the latest answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GatePageView {
    pub applications: Vec<GateTarget>,
    pub recent: Vec<GateLine>,
    /// What the last dry run's form post left, shown once.
    pub posted: super::Posted,
    /// The last dry run's answer.
    pub answer: Option<GateLine>,
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
    /// When it must be resolved by ("" when it has no limit), and whether that has passed.
    #[serde(default)]
    pub due: String,
    #[serde(default)]
    pub overdue: bool,
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
    /// What the viewer's last post of its form left, shown once.
    pub posted: super::Posted,
}
