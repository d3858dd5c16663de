//! Types shared by the browser and the server.

mod error;

pub use error::ApiError;
use serde::{Deserialize, Serialize};

/// The signed-in user, as pages see them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Viewer {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub teams: Vec<TeamRef>,
    pub roles: Roles,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamRef {
    pub id: String,
    pub name: String,
}

/// What the user's teams let them do, derived from the catalog.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roles {
    pub requester: bool,
    pub approver: bool,
    pub ops: bool,
    pub admin: bool,
}

impl Roles {
    pub fn labels(self) -> Vec<&'static str> {
        [
            (self.requester, "requester"),
            (self.approver, "approver"),
            (self.ops, "ops"),
            (self.admin, "admin"),
        ]
        .into_iter()
        .filter_map(|(on, label)| on.then_some(label))
        .collect()
    }
}

/// The home page: what the viewer may request, and under which policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HomeView {
    pub applications: Vec<AppSummary>,
    pub catalog_empty: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppSummary {
    pub id: String,
    pub name: String,
    pub description: String,
    pub owner: String,
    pub environments: Vec<EnvSummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvSummary {
    pub id: String,
    pub name: String,
    /// "Production: 1 of Banking owners, then 2 of CAB; you cannot approve your own request".
    pub policy: String,
    /// Windows, lifetime and freezes in words; empty when there are none.
    pub constraints: Vec<String>,
    pub requesters: String,
    pub ci: Option<String>,
}

/// The read-only catalog page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogView {
    pub version: Option<CatalogVersionView>,
    pub teams: Vec<TeamView>,
    pub applications: Vec<AppSummary>,
    pub windows: Vec<String>,
    pub freezes: Vec<String>,
    /// Filled for admins only.
    pub history: Vec<CatalogVersionView>,
    pub can_reload: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamView {
    pub id: String,
    pub name: String,
    pub description: String,
    pub ops: bool,
    pub members: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogVersionView {
    pub id: i64,
    pub checksum: String,
    pub origin: String,
    /// RFC 3339, UTC.
    pub applied_at: String,
}

/// What re-applying the catalog file did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ReloadOutcome {
    Applied(CatalogVersionView),
    Unchanged(CatalogVersionView),
    /// The file was refused; the running version stays. The text lists every mistake.
    Rejected(String),
}

/// What the login page shows before anyone signs in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginInfo {
    /// Demo accounts (demo mode only): (user name, what they do).
    pub demo_users: Vec<(String, String)>,
    pub demo_password: Option<String>,
}

/// A message carried across a redirect (the "flash"), shown once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    pub ok: bool,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldView {
    pub id: String,
    pub label: String,
    /// text, select, checkbox or number.
    pub kind: String,
    pub required: bool,
    pub options: Vec<String>,
    pub help: String,
}

/// The release request form for one application and environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestFormView {
    pub app_id: String,
    pub app_name: String,
    pub env_id: String,
    pub env_name: String,
    pub policy: String,
    pub fields: Vec<FieldView>,
    /// What was typed, when a submission was refused.
    pub values: std::collections::BTreeMap<String, String>,
    /// Field name → message.
    pub errors: std::collections::BTreeMap<String, String>,
    pub notice: Option<Notice>,
    /// Set when the form edits an existing request rather than opening a new one.
    pub editing: Option<EditingView>,
}

/// One CI run of a request: provision or deploy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepView {
    /// "Provision" or "Deploy", with the attempt when retried.
    pub name: String,
    /// triggering, queued, running, succeeded, failed, cancelled.
    pub state: String,
    /// "shell: scripts/demo/deploy.sh".
    pub job: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub url: Option<String>,
    pub log_tail: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EditingView {
    pub id: i64,
    pub revision: i64,
    /// Approvals given so far: a material change voids them.
    pub approvals: u32,
    /// What voids them, in words: "A change to anything but the title".
    pub material: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleView {
    /// "2 of CAB".
    pub text: String,
    pub approved_by: Vec<String>,
    pub still_needed: u32,
    /// Who could still approve this rule.
    pub eligible: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageView {
    pub name: String,
    /// done, current or waiting.
    pub status: String,
    pub rules: Vec<RuleView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventView {
    pub at: String,
    pub actor: Option<String>,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestView {
    pub id: i64,
    pub app_id: String,
    pub title: String,
    pub app_name: String,
    pub env_name: String,
    pub version: String,
    pub artifact: String,
    pub summary: String,
    pub risk: String,
    pub rollback_plan: String,
    pub schedule: String,
    pub fields: Vec<(String, String)>,
    pub state: String,
    pub requester: String,
    pub created_at: String,
    /// The pipeline that opened it, when one did (its address; may be empty).
    pub pipeline: Option<String>,
    /// The pipeline deploys it itself once approved (the portal calls no CI).
    pub self_deploy: bool,
    /// Tickets its failures raised.
    pub tickets: Vec<TicketLine>,
    pub revision: i64,
    pub catalog_version: Option<i64>,
    pub stages: Vec<StageView>,
    /// The CI runs started for it, oldest first.
    pub steps: Vec<StepView>,
    /// What its deployment waits for ("waiting for window until …", "waiting on CI — attempt 2 …").
    pub waiting: Option<String>,
    pub timeline: Vec<EventView>,
    pub can_decide: bool,
    pub can_edit: bool,
    pub can_cancel: bool,
    /// Operations: retry the failed CI step.
    pub can_retry: bool,
    /// Operations: cancel the deployment in progress (and its CI run).
    pub can_stop: bool,
    pub notice: Option<Notice>,
}

/// One line of a list of requests (queue, board).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestLine {
    pub id: i64,
    pub title: String,
    pub app_name: String,
    pub env_name: String,
    pub version: String,
    pub state: String,
    pub requester: String,
    pub updated_at: String,
    /// What the request waits for, in words.
    pub waiting_for: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueView {
    pub requests: Vec<RequestLine>,
    /// (id, name) of the applications and environments in the queue, for the filters.
    pub applications: Vec<(String, String)>,
    pub environments: Vec<(String, String)>,
}

/// The ops board's filters, as they travel in the page's address.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BoardFilter {
    pub state: String,
    pub app: String,
    pub env: String,
    /// Searched in titles and versions.
    pub q: String,
    /// Show requests older than this id (keyset pagination); 0 for the newest.
    pub before: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoardView {
    /// Requests on their way to production now, by state: approved, scheduled, provisioning,
    /// deploying, with how many.
    pub in_flight: Vec<(String, i64)>,
    pub requests: Vec<RequestLine>,
    /// The cursor of the next page, if there is one.
    pub next_before: Option<i64>,
    pub states: Vec<String>,
    pub applications: Vec<(String, String)>,
    pub environments: Vec<(String, String)>,
}

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
