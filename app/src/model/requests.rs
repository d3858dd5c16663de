//! Requests as the pages show them: the form, a request's page, the queue and the board.

use super::{Notice, TicketLine};
use serde::{Deserialize, Serialize};

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
    /// The emergency path the viewer may take here, when there is one.
    #[serde(default)]
    pub emergency: Option<EmergencyOffer>,
    /// Set when the form rolls a request back.
    #[serde(default)]
    pub rollback: Option<RollbackOffer>,
    /// The environment's standard-change rules in words: a request meeting one is approved at
    /// once.
    #[serde(default)]
    pub standard: Vec<String>,
}

/// A rollback as the form opens it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RollbackOffer {
    /// The request rolled back.
    pub of: i64,
    /// The version it brings back.
    pub version: String,
    /// "Rollbacks: 1 of Banking owners; deploys outside the windows and through freezes".
    pub path: String,
}

/// An environment's emergency path as the form offers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmergencyOffer {
    /// "1 of Banking owners; deploys outside the windows and through freezes; reviewed within 2 days".
    pub path: String,
    /// The viewer may raise only emergency changes here.
    pub only: bool,
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

/// A request's deployment: its CI runs, or, when its environment fans out to several components
/// or regions, each target's runs and where it stands.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeploymentView {
    /// The CI runs of a single-target deployment, oldest first.
    pub steps: Vec<StepView>,
    /// The targets of a fan-out, in the catalog's order.
    pub targets: Vec<TargetView>,
    /// "Deploys to 3 targets in parallel"; empty for a single target.
    pub order: String,
    /// Operations: retry the failed CI step (of a single-target deployment).
    pub can_retry: bool,
    /// Operations: several targets failed, and may be retried together.
    #[serde(default)]
    pub can_retry_every: bool,
}

/// One target of a fan-out: a component or region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetView {
    pub id: String,
    pub name: String,
    /// not started, waiting, running, succeeded, failed, skipped.
    pub status: String,
    pub steps: Vec<StepView>,
    /// Operations: run this target's failed step again, alone.
    pub can_retry: bool,
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
    #[serde(default)]
    pub env_id: String,
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
    /// The justification of an emergency (break-glass) change.
    #[serde(default)]
    pub emergency: Option<String>,
    /// The standard-change rule it met, when it is a standard change.
    #[serde(default)]
    pub standard: Option<String>,
    /// The request it rolls back, when it is a rollback.
    #[serde(default)]
    pub rollback_of: Option<i64>,
    /// What a rollback of it would deploy, when the viewer may open one.
    #[serde(default)]
    pub rollback_to: Option<String>,
    /// What may stand in its way: its time outside the windows or in a freeze (with the next
    /// allowed time), other open requests for the same target.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Tickets its failures raised.
    pub tickets: Vec<TicketLine>,
    pub revision: i64,
    pub catalog_version: Option<i64>,
    pub stages: Vec<StageView>,
    /// Its CI runs, by target when it fans out.
    pub deployment: DeploymentView,
    /// What its deployment waits for ("waiting for window until …", "waiting on CI — attempt 2 …").
    pub waiting: Option<String>,
    pub timeline: Vec<EventView>,
    pub can_decide: bool,
    /// The away approver the viewer decides for, as their delegate (empty: in their own name).
    #[serde(default)]
    pub deciding_for: String,
    pub can_edit: bool,
    pub can_cancel: bool,
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
    /// In the viewer's time zone, and in UTC (shown on hover).
    pub updated_at: String,
    #[serde(default)]
    pub updated_utc: String,
    /// What the request waits for, in words.
    pub waiting_for: String,
    /// `emergency` or `rollback`; empty for a normal change.
    #[serde(default)]
    pub change: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueView {
    pub requests: Vec<RequestLine>,
    /// (id, name) of the applications and environments in the queue, for the filters.
    pub applications: Vec<(String, String)>,
    pub environments: Vec<(String, String)>,
}

/// The board's filters, as they travel in the page's address.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BoardFilter {
    pub state: String,
    pub app: String,
    pub env: String,
    /// Searched in titles and versions.
    pub q: String,
    /// Show requests older than this id (keyset pagination); 0 for the newest.
    pub before: i64,
    /// Only the viewer's own requests.
    #[serde(default)]
    pub mine: bool,
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
    /// The viewer reads every request (operations, administrators); others read those of the
    /// applications open to them and their own.
    pub everything: bool,
}
