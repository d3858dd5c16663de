//! What a request's audit trail holds: one typed event per entry. Each is stored as its kind
//! (a column) and the rest as a JSON payload, the same JSON earlier versions wrote, so old
//! trails read as they always did. Pure.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Why a request became approved.
pub const NO_APPROVAL_NEEDED: &str = "the policy needs no approval";
pub const EVERY_STAGE_SATISFIED: &str = "every stage is satisfied";
pub const APPROVALS_EXPIRED: &str = "the approvals expired before the deployment started";
pub const EVERY_STEP_SUCCEEDED: &str = "every CI step succeeded";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "payload", rename_all = "snake_case")]
pub enum AuditEvent {
    Submitted {
        version: String,
        origin: String,
        /// The pipeline token that opened it in the requester's name, and that token's user.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        on_behalf_by: Option<String>,
    },
    /// Raised as an emergency change under its environment's emergency path.
    EmergencyRaised {
        justification: String,
        /// It may deploy outside the windows and through freezes.
        bypasses_windows: bool,
    },
    /// Opened to roll back request `of`, under its environment's rollback path.
    RollbackRaised {
        of: i64,
        /// It may deploy outside the windows and through freezes.
        bypasses_windows: bool,
    },
    /// Its environment has standard-change rules, and it met none: why.
    StandardNotMet {
        detail: String,
    },
    /// One approver's approval at a stage.
    Approval {
        stage: String,
        comment: String,
        /// The away approver in whose place the actor, their delegate, decided.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        for_whom: Option<String>,
    },
    Rejected {
        stage: String,
        comment: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        for_whom: Option<String>,
    },
    /// Every approval the policy asks for is in.
    Approved {
        reason: String,
    },
    Cancelled {
        reason: String,
        /// The CI step operations stopped, when it was cancelled while deploying.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        step: Option<String>,
    },
    Edited {
        fields: Vec<String>,
        from_version: String,
        to_version: String,
    },
    ApprovalsVoided {
        count: u64,
        reason: String,
        #[serde(default)]
        fields: Vec<String>,
    },
    ApprovalsLapsed {
        reason: String,
    },
    WaitingForWindow {
        note: String,
    },
    /// Another deployment of the same application and environment is in progress.
    WaitingForTurn {
        note: String,
    },
    StepStarted {
        step: String,
        connector: String,
        target: String,
        /// The fan-out target it belongs to; absent for a single target.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        target_id: String,
    },
    CiRetry {
        step: String,
        attempt: i64,
        next_at: String,
        error: String,
    },
    StepSucceeded {
        step: String,
        /// The fan-out target it belongs to; absent for a single target.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        target_id: String,
    },
    StepFailed {
        step: String,
        message: String,
        /// The fan-out target it belongs to; absent for a single target.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        target_id: String,
        /// Other targets of a parallel fan-out still ran: `targets_failed` ends the deployment.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        others_running: bool,
    },
    /// Every target of a parallel fan-out ended, and these failed.
    TargetsFailed {
        failed: Vec<String>,
    },
    Deployed {
        reason: String,
    },
    RetryRequested {
        step: String,
        attempt: i64,
        /// The fan-out target it belongs to; absent for a single target.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        target_id: String,
    },
    StageResult {
        stage: String,
        status: String,
        duration_ms: Option<i64>,
        #[serde(default)]
        metrics: Map<String, Value>,
        by: String,
    },
    TicketOpened {
        ticket: i64,
        kind: String,
        team: String,
        title: String,
    },
    PipelineState {
        state: String,
        stage: String,
    },
    /// The request waited at `stage` past the policy's reminder or escalation time.
    Reminded {
        stage: String,
        /// Its approvers were reminded.
        reminded: bool,
        /// The team told that it still waits.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        escalated_to: Option<String>,
    },
    /// A kind this version does not know (written by a later one): kept, shown by its name.
    #[serde(skip)]
    Unknown {
        kind: String,
    },
}

impl AuditEvent {
    /// The kind column and the payload column.
    pub fn to_columns(&self) -> (String, String) {
        if let AuditEvent::Unknown { kind } = self {
            return (kind.clone(), "{}".into());
        }
        let value = serde_json::to_value(self).unwrap_or_default();
        let kind = value["kind"].as_str().unwrap_or_default().to_owned();
        (kind, value["payload"].to_string())
    }

    /// The kind, as stored.
    pub fn kind(&self) -> String {
        self.to_columns().0
    }

    /// The payload, as stored.
    pub fn payload(&self) -> Value {
        serde_json::from_str(&self.to_columns().1).unwrap_or_default()
    }

    /// Reads a stored entry back; one it cannot read keeps its kind.
    pub fn from_columns(kind: &str, payload: &str) -> AuditEvent {
        let payload = serde_json::from_str::<Value>(payload).unwrap_or_default();
        let tagged = serde_json::json!({ "kind": kind, "payload": payload });
        serde_json::from_value(tagged).unwrap_or_else(|_| AuditEvent::Unknown {
            kind: kind.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::AuditEvent;

    /// Entries as earlier versions wrote them: every one reads back, and writes the same JSON.
    const STORED: [(&str, &str); 22] = [
        ("submitted", r#"{"version":"2.4.0","origin":"portal"}"#),
        (
            "submitted",
            r#"{"version":"2.4.1","origin":"pipeline","token":"olga pipeline","on_behalf_by":"Olga Ops"}"#,
        ),
        ("approval", r#"{"stage":"CAB","comment":"ok"}"#),
        ("rejected", r#"{"stage":"CAB","comment":"no rollback"}"#),
        ("approved", r#"{"reason":"every stage is satisfied"}"#),
        ("cancelled", r#"{"reason":"not needed"}"#),
        ("cancelled", r#"{"reason":"stop","step":"deploy"}"#),
        (
            "edited",
            r#"{"fields":["version","risk"],"from_version":"2.4.0","to_version":"2.4.1"}"#,
        ),
        (
            "approvals_voided",
            r#"{"count":2,"reason":"the risk changed","fields":["risk"]}"#,
        ),
        (
            "approvals_lapsed",
            r#"{"reason":"the approvals expired before the deployment started"}"#,
        ),
        ("waiting_for_window", r#"{"note":"waiting for window"}"#),
        (
            "waiting_for_turn",
            r#"{"note":"waiting for request #3 to finish deploying"}"#,
        ),
        (
            "step_started",
            r#"{"step":"deploy","connector":"buildbot","target":"deploy-banking"}"#,
        ),
        (
            "ci_retry",
            r#"{"step":"deploy","attempt":2,"next_at":"2026-11-27 18:52 UTC","error":"refused"}"#,
        ),
        ("step_succeeded", r#"{"step":"provision"}"#),
        ("step_failed", r#"{"step":"deploy","message":"exit 1"}"#),
        ("deployed", r#"{"reason":"every CI step succeeded"}"#),
        ("retry_requested", r#"{"step":"deploy","attempt":2}"#),
        (
            "stage_result",
            r#"{"stage":"build","status":"succeeded","duration_ms":270000,"metrics":{"coverage":81.5},"by":"ci"}"#,
        ),
        (
            "ticket_opened",
            r#"{"ticket":7,"kind":"incident","team":"ops","title":"Deployment failed"}"#,
        ),
        (
            "pipeline_state",
            r#"{"state":"deploying","stage":"deploy"}"#,
        ),
        (
            "reminded",
            r#"{"stage":"CAB","reminded":true,"escalated_to":"ops"}"#,
        ),
    ];

    #[test]
    fn stored_entries_read_back_and_write_the_same_json() {
        for (kind, payload) in STORED {
            let event = AuditEvent::from_columns(kind, payload);
            assert!(
                !matches!(event, AuditEvent::Unknown { .. }),
                "{kind} {payload} did not read"
            );
            let (k, p) = event.to_columns();
            assert_eq!(k, kind);
            let written: serde_json::Value = serde_json::from_str(&p).expect("json");
            let stored: serde_json::Value = serde_json::from_str(payload).expect("json");
            assert_eq!(written, stored, "{kind}");
        }
    }

    #[test]
    fn an_older_voiding_without_fields_and_an_unknown_kind_still_read() {
        let old = AuditEvent::from_columns("approvals_voided", r#"{"count":1,"reason":"x"}"#);
        assert!(matches!(old, AuditEvent::ApprovalsVoided { fields, .. } if fields.is_empty()));
        let cancel = AuditEvent::from_columns("cancelled", r#"{"reason":"r","step":null}"#);
        assert!(matches!(cancel, AuditEvent::Cancelled { step: None, .. }));
        assert_eq!(
            AuditEvent::from_columns("future_kind", "{}"),
            AuditEvent::Unknown {
                kind: "future_kind".into()
            }
        );
    }
}
