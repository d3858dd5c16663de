//! The validated catalog: what the portal knows about teams, applications, environments,
//! their policies, change windows, freezes and CI bindings.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    pub teams: Vec<Team>,
    pub applications: Vec<Application>,
    pub windows: Vec<Window>,
    pub freezes: Vec<Freeze>,
    /// Which failures raise tickets, and for whom.
    #[serde(default)]
    pub ticket_rules: Vec<TicketRule>,
}

/// "A failed production deployment opens an incident for Operations."
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketRule {
    pub id: String,
    pub on: TicketTrigger,
    /// Empty: every application.
    pub applications: Vec<String>,
    /// Empty: every environment.
    pub environments: Vec<String>,
    pub kind: TicketKind,
    /// The team that owns the tickets it opens.
    pub team: String,
    /// Where each ticket is also posted as JSON (an external ITSM tool).
    pub webhook: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketTrigger {
    /// The request's deployment failed (a CI step, or the pipeline's own deploy stage).
    DeployFailed,
    /// Any stage failed: a CI step the portal ran, or a stage a pipeline reported.
    StageFailed,
}

impl TicketTrigger {
    pub const ALL: [TicketTrigger; 2] = [TicketTrigger::DeployFailed, TicketTrigger::StageFailed];

    pub fn as_str(self) -> &'static str {
        match self {
            TicketTrigger::DeployFailed => "deploy_failed",
            TicketTrigger::StageFailed => "stage_failed",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketKind {
    Incident,
    Task,
}

impl TicketKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TicketKind::Incident => "incident",
            TicketKind::Task => "task",
        }
    }
}

impl TicketRule {
    /// Whether a failure of this kind, for this application and environment, raises a ticket.
    pub fn matches(&self, on: TicketTrigger, app: &str, env: &str) -> bool {
        self.on == on
            && (self.applications.is_empty() || self.applications.iter().any(|a| a == app))
            && (self.environments.is_empty() || self.environments.iter().any(|e| e == env))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Team {
    pub id: String,
    pub name: String,
    pub description: String,
    /// Members of an ops team watch and steer every request.
    pub ops: bool,
    /// The environment variable holding the team's chat incoming-webhook address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_webhook_env: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Application {
    pub id: String,
    pub name: String,
    pub owner: String,
    pub description: String,
    /// In promotion order.
    pub environments: Vec<Environment>,
    /// Extra fields the request form asks for.
    pub fields: Vec<FormField>,
    /// Teams that may read its requests, history and gate checks, besides those its policies
    /// name and operations; `None` means every member of a catalog team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readers: Option<Vec<String>>,
    /// The environment variable holding the chat webhook of the application's own channel,
    /// which hears of every one of its requests' notifications.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_webhook_env: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormField {
    pub id: String,
    pub label: String,
    pub kind: FieldKind,
    pub required: bool,
    /// The choices of a `select`.
    pub options: Vec<String>,
    pub help: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldKind {
    Text,
    Select,
    Checkbox,
    Number,
}

impl FieldKind {
    pub fn parse(s: &str) -> Option<FieldKind> {
        match s {
            "text" => Some(FieldKind::Text),
            "select" => Some(FieldKind::Select),
            "checkbox" => Some(FieldKind::Checkbox),
            "number" => Some(FieldKind::Number),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    pub id: String,
    pub name: String,
    pub policy: Policy,
    pub ci: Option<CiBinding>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// Teams whose members may request a release.
    pub requesters: Vec<String>,
    /// Satisfied in order; empty means no approval is needed.
    pub stages: Vec<Stage>,
    pub requester_can_approve: bool,
    /// Whether one person may count for several rules of the same request.
    pub approver_may_count_twice: bool,
    /// How long an approval stays valid, in seconds; `None` means it never lapses.
    pub approval_lifetime_secs: Option<i64>,
    /// Ids of the change windows a deployment must fall in; empty means any time.
    pub windows: Vec<String>,
    /// The fields whose change voids the approvals given so far (see [`MATERIAL_FIELDS`];
    /// `fields.<id>` for one of the application's own), besides the version and the artifact,
    /// which always do. `None`, as in every policy stored before this setting existed, means
    /// every field a person approves on except the title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub material_fields: Option<Vec<String>>,
    /// Reminders and escalation while a request waits for approval.
    #[serde(default, skip_serializing_if = "Chasing::is_off")]
    pub chasing: Chasing,
}

/// Who is told again while a request waits at a stage: its approvers every `remind_after`,
/// and the `escalate_to` team once after `escalate_after`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Chasing {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remind_after_secs: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalate_after_secs: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalate_to: Option<String>,
    /// Only the time inside the policy's windows counts (business hours), not the whole clock.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub in_windows: bool,
}

impl Chasing {
    pub fn is_off(&self) -> bool {
        self.remind_after_secs.is_none() && self.escalate_after_secs.is_none()
    }
}

/// The request's own fields a policy may call material; `fields` stands for all of the
/// application's extra fields, `fields.<id>` for one.
pub const MATERIAL_FIELDS: [&str; 7] = [
    "version",
    "artifact",
    "title",
    "summary",
    "risk",
    "rollback_plan",
    "schedule",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    pub name: String,
    pub rules: Vec<Rule>,
}

/// "`count` of team `team`".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub team: String,
    pub count: u32,
}

/// A recurring time in which deployments are allowed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub id: String,
    pub name: String,
    pub timezone: String,
    /// ISO weekday numbers, Monday = 1.
    pub days: Vec<u8>,
    /// Minutes after midnight, local time.
    pub start_minute: u16,
    pub end_minute: u16,
}

/// A period in which nothing may be deployed to the matching applications and environments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Freeze {
    pub id: String,
    pub reason: String,
    /// Epoch milliseconds, UTC.
    pub start_ms: i64,
    pub end_ms: i64,
    /// Empty means every application.
    pub applications: Vec<String>,
    /// Empty means every environment.
    pub environments: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CiBinding {
    pub connector: ConnectorKind,
    /// Connector settings; secrets appear only as the names of environment variables.
    pub settings: BTreeMap<String, String>,
    pub provision: Option<CiJob>,
    pub deploy: CiJob,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CiJob {
    /// The connector's name for the job: a command, a builder, a job path, a workflow.
    pub target: String,
    /// Parameter templates, filled from the request (`{version}`, `{application}` …).
    pub params: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnectorKind {
    Shell,
    Buildbot,
    Jenkins,
    Gitlab,
    Github,
}

impl ConnectorKind {
    pub const ALL: [ConnectorKind; 5] = [
        ConnectorKind::Shell,
        ConnectorKind::Buildbot,
        ConnectorKind::Jenkins,
        ConnectorKind::Gitlab,
        ConnectorKind::Github,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConnectorKind::Shell => "shell",
            ConnectorKind::Buildbot => "buildbot",
            ConnectorKind::Jenkins => "jenkins",
            ConnectorKind::Gitlab => "gitlab",
            ConnectorKind::Github => "github",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Settings each connector needs, and the key naming a job.
    pub fn required_settings(self) -> &'static [&'static str] {
        match self {
            ConnectorKind::Shell => &[],
            ConnectorKind::Buildbot => &["url"],
            ConnectorKind::Jenkins => &["url", "user", "token_env"],
            ConnectorKind::Gitlab => &["url", "project", "token_env"],
            ConnectorKind::Github => &["api_url", "repo", "token_env", "ref"],
        }
    }

    pub fn job_key(self) -> &'static str {
        match self {
            ConnectorKind::Shell => "command",
            ConnectorKind::Buildbot => "builder",
            ConnectorKind::Jenkins => "job",
            ConnectorKind::Gitlab => "ref",
            ConnectorKind::Github => "workflow",
        }
    }
}

impl Catalog {
    pub fn team(&self, id: &str) -> Option<&Team> {
        self.teams.iter().find(|t| t.id == id)
    }

    pub fn team_name<'a>(&'a self, id: &'a str) -> &'a str {
        self.team(id).map_or(id, |t| t.name.as_str())
    }

    pub fn application(&self, id: &str) -> Option<&Application> {
        self.applications.iter().find(|a| a.id == id)
    }

    pub fn is_ops_team(&self, id: &str) -> bool {
        self.team(id).is_some_and(|t| t.ops)
    }

    /// Who may read an application's requests, pipeline history, gate checks and tickets, and
    /// hear of their changes: administrators and operations always; for an application with
    /// `readers`, members of those teams and of every team its owner and policies name; else
    /// every member of a team of this catalog. A person in no team of the catalog reads nothing.
    pub fn may_read(&self, app_id: &str, teams: &[String], admin: bool) -> bool {
        if admin || teams.iter().any(|t| self.is_ops_team(t)) {
            return true;
        }
        let Some(app) = self.application(app_id) else {
            return false;
        };
        match &app.readers {
            None => teams.iter().any(|t| self.team(t).is_some()),
            Some(readers) => teams.iter().any(|t| {
                readers.contains(t)
                    || app.owner == *t
                    || app.environments.iter().any(|e| e.policy.names_team(t))
            }),
        }
    }
}

impl Application {
    pub fn environment(&self, id: &str) -> Option<&Environment> {
        self.environments.iter().find(|e| e.id == id)
    }
}

impl Policy {
    pub fn may_request(&self, teams: &[String]) -> bool {
        self.requesters.iter().any(|t| teams.contains(t))
    }

    /// Whether a change to `field` (a name of [`MATERIAL_FIELDS`] or `fields.<id>`) voids the
    /// approvals so far.
    pub fn is_material(&self, field: &str) -> bool {
        // What deploys is always what was approved, whatever the list says: the gate matches
        // the request's current version and artifact.
        if matches!(field, "version" | "artifact") {
            return true;
        }
        match &self.material_fields {
            None => field != "title",
            Some(listed) => listed
                .iter()
                .any(|m| m == field || (m == "fields" && field.starts_with("fields."))),
        }
    }

    /// Whether `team` may request, or is asked to approve, under this policy.
    pub fn names_team(&self, team: &str) -> bool {
        self.requesters.iter().any(|t| t == team) || self.approver_teams().any(|a| a == team)
    }

    pub fn approver_teams(&self) -> impl Iterator<Item = &str> {
        self.stages
            .iter()
            .flat_map(|s| s.rules.iter().map(|r| r.team.as_str()))
    }
}
