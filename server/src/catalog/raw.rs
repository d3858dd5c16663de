//! The catalog file as written: TOML with the spans needed for line-numbered errors.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

pub type S<T> = Spanned<T>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCatalog {
    #[serde(default)]
    pub teams: Vec<RawTeam>,
    #[serde(default)]
    pub windows: Vec<RawWindow>,
    #[serde(default)]
    pub freezes: Vec<RawFreeze>,
    #[serde(default)]
    pub applications: Vec<RawApplication>,
    #[serde(default)]
    pub tickets: Vec<RawTicketRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTicketRule {
    pub id: S<String>,
    pub on: S<String>,
    pub kind: S<String>,
    pub team: S<String>,
    #[serde(default)]
    pub applications: Vec<S<String>>,
    #[serde(default)]
    pub environments: Vec<S<String>>,
    pub webhook: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTeam {
    pub id: S<String>,
    pub name: S<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub ops: bool,
    pub chat_webhook_env: Option<S<String>>,
    #[serde(default)]
    pub idp_groups: Vec<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWindow {
    pub id: S<String>,
    pub name: Option<String>,
    pub timezone: S<String>,
    pub days: S<Vec<String>>,
    pub from: S<String>,
    pub to: S<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFreeze {
    pub id: S<String>,
    pub reason: S<String>,
    /// Instants with a zone, or times of day when `timezone` and `days` make it recur.
    pub from: S<String>,
    pub to: S<String>,
    pub timezone: Option<S<String>>,
    pub days: Option<S<Vec<String>>>,
    #[serde(default)]
    pub applications: Vec<S<String>>,
    #[serde(default)]
    pub environments: Vec<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawApplication {
    pub id: S<String>,
    pub name: S<String>,
    pub owner: S<String>,
    #[serde(default)]
    pub description: String,
    pub environments: S<Vec<RawEnvironment>>,
    #[serde(default)]
    pub fields: Vec<RawField>,
    pub readers: Option<Vec<S<String>>>,
    pub chat_webhook_env: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawField {
    pub id: S<String>,
    pub label: S<String>,
    pub kind: S<String>,
    #[serde(default)]
    pub required: bool,
    pub options: Option<S<Vec<String>>>,
    #[serde(default)]
    pub help: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEnvironment {
    pub id: S<String>,
    pub name: Option<String>,
    pub policy: RawPolicy,
    pub ci: Option<RawCi>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    pub requesters: S<Vec<S<String>>>,
    #[serde(default)]
    pub stages: Vec<RawStage>,
    #[serde(default)]
    pub requester_can_approve: bool,
    #[serde(default)]
    pub approver_may_count_twice: bool,
    pub approval_lifetime: Option<S<String>>,
    #[serde(default)]
    pub windows: Vec<S<String>>,
    pub material_fields: Option<S<Vec<S<String>>>>,
    pub remind_after: Option<S<String>>,
    pub escalate_after: Option<S<String>>,
    pub escalate_to: Option<S<String>>,
    pub remind_in_windows: Option<S<bool>>,
    pub delegation: Option<bool>,
    pub emergency: Option<RawEmergency>,
    pub rollback: Option<RawRollback>,
    #[serde(default)]
    pub standard: Vec<RawStandard>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStandard {
    pub name: S<String>,
    pub risk: Option<S<Vec<S<String>>>>,
    pub version: Option<S<String>>,
    #[serde(default)]
    pub fields: BTreeMap<S<String>, S<toml::Value>>,
    #[serde(default)]
    pub stages: Vec<S<String>>,
    #[serde(default)]
    pub metrics: BTreeMap<S<String>, S<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRollback {
    pub requesters: Option<S<Vec<S<String>>>>,
    #[serde(default)]
    pub stages: Vec<RawStage>,
    #[serde(default)]
    pub bypass_windows: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEmergency {
    pub requesters: S<Vec<S<String>>>,
    #[serde(default)]
    pub stages: Vec<RawStage>,
    #[serde(default)]
    pub bypass_windows: bool,
    /// How soon after the deployment its post-implementation review is due ("2 days").
    pub review_within: S<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStage {
    pub name: Option<String>,
    pub rules: S<Vec<RawRule>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    pub team: S<String>,
    pub count: S<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCi {
    pub connector: S<String>,
    #[serde(default)]
    pub settings: BTreeMap<S<String>, S<String>>,
    pub provision: Option<RawJob>,
    pub deploy: Option<S<RawJob>>,
    /// A fan-out: several targets instead of one `provision`/`deploy` pair.
    #[serde(default)]
    pub targets: Vec<S<RawTarget>>,
    /// How a fan-out runs its targets: `in_order` (the default) or `parallel`.
    pub run: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTarget {
    pub id: S<String>,
    pub name: Option<S<String>>,
    pub provision: Option<RawJob>,
    pub deploy: S<RawJob>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawJob {
    pub job: S<String>,
    #[serde(default)]
    pub params: BTreeMap<S<String>, S<String>>,
}
