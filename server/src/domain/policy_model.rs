//! A policy as the catalog gives it and a request freezes it: who requests, the approval
//! stages, how long approvals last, the windows, what voids approvals, reminders and escalation,
//! and whether delegates may decide.

use serde::{Deserialize, Serialize};

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
    /// Whether an approver who is away may be replaced by the delegate they named.
    #[serde(default = "yes", skip_serializing_if = "is_yes")]
    pub delegation: bool,
    /// The environment's break-glass path, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emergency: Option<EmergencyPath>,
    /// Standard (pre-approved) change rules: a request meeting one is approved as it is opened.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub standard: Vec<super::standard::StandardRule>,
    /// Set on the own policy of a request whose kind an edit would escape (a standard change
    /// approved under its rule, a rollback checked against the version it brings back): why it
    /// takes no edit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_edit: Option<String>,
    /// The environment's rollback path, if it has one (else a rollback follows this policy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback: Option<RollbackPath>,
    /// Set on an emergency's or a rollback's own policy when its path bypasses windows and
    /// freezes (its windows are then empty).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignores_freezes: bool,
    /// Set on an emergency request's own policy: its post-implementation review is due this
    /// many seconds after its deployment ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_within_secs: Option<i64>,
}

/// A rollback: who may open one (the environment's requesters when not said), the approval it
/// needs (none when `stages` is empty), and whether it may deploy outside the windows and
/// during freezes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RollbackPath {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requesters: Option<Vec<String>>,
    pub stages: Vec<Stage>,
    pub bypass_windows: bool,
}

/// An emergency (break-glass) change: who may raise one, the reduced approval it needs (none
/// when `stages` is empty), whether it may deploy outside the windows and during freezes, and
/// how soon the owner team must review it once deployed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmergencyPath {
    pub requesters: Vec<String>,
    pub stages: Vec<Stage>,
    pub bypass_windows: bool,
    pub review_within_secs: i64,
}

fn yes() -> bool {
    true
}

fn is_yes(b: &bool) -> bool {
    *b
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

impl Policy {
    pub fn may_request(&self, teams: &[String]) -> bool {
        self.requesters.iter().any(|t| teams.contains(t))
    }

    /// Whether `teams` may raise an emergency change here.
    pub fn may_raise_emergency(&self, teams: &[String]) -> bool {
        self.emergency
            .as_ref()
            .is_some_and(|e| e.requesters.iter().any(|t| teams.contains(t)))
    }

    /// Whether `teams` may open a request of any kind here (the form is theirs).
    pub fn may_open(&self, teams: &[String]) -> bool {
        self.may_request(teams) || self.may_raise_emergency(teams) || self.rollback_names(teams)
    }

    /// Whether the rollback path names any of `teams` as its own requesters.
    fn rollback_names(&self, teams: &[String]) -> bool {
        self.rollback
            .as_ref()
            .and_then(|r| r.requesters.as_ref())
            .is_some_and(|listed| listed.iter().any(|t| teams.contains(t)))
    }

    /// The policy an emergency request keeps: the path's requesters and reduced approval, no
    /// windows and no freezes when it bypasses them, a review due after it ends.
    pub fn for_emergency(&self) -> Option<Policy> {
        let e = self.emergency.as_ref()?;
        Some(Policy {
            review_within_secs: Some(e.review_within_secs),
            ..self.under_path(e.requesters.clone(), e.stages.clone(), e.bypass_windows)
        })
    }

    /// This policy under a path's own requesters, approval and schedule (an emergency's, a
    /// rollback's): bypassing the windows also bypasses the freezes.
    fn under_path(&self, requesters: Vec<String>, stages: Vec<Stage>, bypass: bool) -> Policy {
        Policy {
            requesters,
            stages,
            windows: if bypass {
                Vec::new()
            } else {
                self.windows.clone()
            },
            ignores_freezes: bypass,
            emergency: None,
            rollback: None,
            ..self.clone()
        }
    }

    /// The policy a standard change that met `rule` keeps: no approval stage, its rule named.
    pub fn for_standard(&self, rule: &str) -> Policy {
        Policy {
            stages: Vec::new(),
            standard: Vec::new(),
            no_edit: Some(format!(
                "This standard change was approved as it was opened, under “{rule}”: cancel it \
                 and open another to change it."
            )),
            emergency: None,
            rollback: None,
            ..self.clone()
        }
    }

    /// The policy a rollback keeps: the rollback path's requesters, approval and schedule, or
    /// this policy as it is when the environment has no such path.
    pub fn for_rollback(&self) -> Policy {
        let plain = Policy {
            emergency: None,
            rollback: None,
            standard: Vec::new(),
            no_edit: Some(
                "A rollback deploys the version it was checked against: cancel it and open \
                 another to change it."
                    .to_owned(),
            ),
            ..self.clone()
        };
        match &self.rollback {
            None => plain,
            Some(r) => plain.under_path(
                r.requesters
                    .clone()
                    .unwrap_or_else(|| self.requesters.clone()),
                r.stages.clone(),
                r.bypass_windows,
            ),
        }
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
        self.requesters.iter().any(|t| t == team)
            || self.approver_teams().any(|a| a == team)
            || self.emergency.as_ref().is_some_and(|e| {
                e.requesters.iter().any(|t| t == team)
                    || e.stages
                        .iter()
                        .flat_map(|s| &s.rules)
                        .any(|r| r.team == team)
            })
    }

    pub fn approver_teams(&self) -> impl Iterator<Item = &str> {
        self.stages
            .iter()
            .flat_map(|s| s.rules.iter().map(|r| r.team.as_str()))
    }
}
