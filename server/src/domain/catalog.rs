//! The validated catalog: what the portal knows about teams, applications, environments,
//! their policies, change windows, freezes and CI bindings.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use super::policy_model::*;
pub use super::recurrence::{MonthDay, Recurring};

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
    /// Groups at the company's identity provider whose members are in this team, refreshed at
    /// each sign-in through it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub idp_groups: Vec<String>,
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

/// A recurring time in which deployments are allowed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub id: String,
    pub name: String,
    #[serde(flatten)]
    pub when: Recurring,
}

/// A time in which nothing may be deployed to the matching applications and environments:
/// one period, or a recurring blackout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Freeze {
    pub id: String,
    pub reason: String,
    pub period: FreezePeriod,
    /// Empty means every application.
    pub applications: Vec<String>,
    /// Empty means every environment.
    pub environments: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FreezePeriod {
    /// From one instant to another, epoch milliseconds.
    Once {
        start_ms: i64,
        end_ms: i64,
    },
    Recurring(Recurring),
}

impl Freeze {
    pub fn applies(&self, app: &str, env: &str) -> bool {
        (self.applications.is_empty() || self.applications.iter().any(|a| a == app))
            && (self.environments.is_empty() || self.environments.iter().any(|e| e == env))
    }

    /// The end of the frozen time that covers `at_ms`, if one does.
    pub fn covering(&self, at_ms: i64) -> Option<i64> {
        match &self.period {
            FreezePeriod::Once { start_ms, end_ms } => {
                (*start_ms <= at_ms && at_ms < *end_ms).then_some(*end_ms)
            }
            FreezePeriod::Recurring(r) => r.covering(at_ms),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CiBinding {
    pub connector: ConnectorKind,
    /// Connector settings; secrets appear only as the names of environment variables.
    pub settings: BTreeMap<String, String>,
    /// What one approval deploys: one target (`id` empty) or a fan-out to several components
    /// or regions, each with its own jobs.
    pub targets: Vec<CiTarget>,
    /// A fan-out runs its targets side by side (a failure lets the others finish) rather than
    /// one after the other (a failure stops those that follow).
    pub parallel: bool,
}

impl CiBinding {
    /// Several targets, each shown and retried on its own.
    pub fn fans_out(&self) -> bool {
        self.targets.len() > 1 || self.targets.iter().any(|t| !t.id.is_empty())
    }

    pub fn target(&self, id: &str) -> Option<&CiTarget> {
        self.targets.iter().find(|t| t.id == id)
    }

    /// "in order" or "in parallel", for people.
    pub fn order_words(&self) -> &'static str {
        if self.parallel {
            "in parallel"
        } else {
            "in order"
        }
    }
}

/// A component or region an environment's deployment reaches, with its own CI jobs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CiTarget {
    /// Empty for an environment that deploys to one target.
    pub id: String,
    pub name: String,
    pub provision: Option<CiJob>,
    pub deploy: CiJob,
}

impl CiTarget {
    /// The target's steps, in order: provision (when it has one), then deploy.
    pub fn steps(&self) -> Vec<(&'static str, &CiJob)> {
        self.provision
            .iter()
            .map(|j| ("provision", j))
            .chain(std::iter::once(("deploy", &self.deploy)))
            .collect()
    }
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

    /// The teams a person in these provider groups belongs to, sorted.
    pub fn teams_for_groups(&self, groups: &[String]) -> Vec<String> {
        let mut teams: Vec<String> = self
            .teams
            .iter()
            .filter(|t| t.idp_groups.iter().any(|g| groups.contains(g)))
            .map(|t| t.id.clone())
            .collect();
        teams.sort();
        teams
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
