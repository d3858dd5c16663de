//! A request's audit trail in words, one line per entry.

use super::deployment::step_of;
use crate::db::audit::EventRow;
use crate::domain::audit::AuditEvent;
use crate::domain::Catalog;

/// One line of the timeline, in words.
pub(super) fn event_text(catalog: &Catalog, e: &EventRow) -> String {
    let quoted = |v: &str| {
        if v.is_empty() {
            String::new()
        } else {
            format!(": “{v}”")
        }
    };
    match &e.event {
        AuditEvent::Submitted {
            version,
            token: Some(token),
            on_behalf_by,
            ..
        } => format!(
            "submitted version {version}, opened in their name by {} with the pipeline token “{token}”",
            on_behalf_by.as_deref().unwrap_or_default()
        ),
        AuditEvent::Submitted { version, .. } => format!("submitted version {version}"),
        AuditEvent::EmergencyRaised {
            justification,
            bypasses_windows,
        } => {
            let bypass = if *bypasses_windows {
                ", which may deploy outside the windows and through freezes"
            } else {
                ""
            };
            format!("raised it as an emergency change{bypass}{}", quoted(justification))
        }
        AuditEvent::StandardNotMet { detail } => {
            format!("Not a standard change, so it goes the normal way: {detail}")
        }
        AuditEvent::RollbackRaised {
            of,
            bypasses_windows,
        } => {
            let bypass = if *bypasses_windows {
                ", which may deploy outside the windows and through freezes"
            } else {
                ""
            };
            format!("opened it to roll back request #{of}{bypass}")
        }
        AuditEvent::Approval {
            stage,
            comment,
            for_whom,
        } => format!(
            "approved at stage {stage}{}{}",
            in_place_of(for_whom),
            quoted(comment)
        ),
        AuditEvent::Rejected {
            stage,
            comment,
            for_whom,
        } => format!(
            "rejected at stage {stage}{}{}",
            in_place_of(for_whom),
            quoted(comment)
        ),
        AuditEvent::Approved { reason } => format!("Approved: {reason}"),
        AuditEvent::Cancelled { reason, .. } => format!("cancelled the request{}", quoted(reason)),
        AuditEvent::Edited {
            fields,
            from_version,
            to_version,
        } => {
            let version = if from_version == to_version {
                String::new()
            } else {
                format!(" (version {from_version} → {to_version})")
            };
            format!("edited the {}{version}", fields.join(", "))
        }
        AuditEvent::ApprovalsVoided { count, reason, .. } => format!(
            "{count} approval(s) voided: {reason}; the request needs approval again"
        ),
        AuditEvent::WaitingForWindow { note } | AuditEvent::WaitingForTurn { note } => {
            format!("Deployment {note}")
        }
        AuditEvent::StepStarted {
            step,
            connector,
            target,
            target_id,
        } => format!(
            "{} started ({connector}: {target})",
            step_of(step, target_id)
        ),
        AuditEvent::CiRetry {
            step,
            attempt,
            next_at,
            error,
        } => format!(
            "The CI could not be reached for {step} ({error}); attempt {attempt}, next at {next_at}"
        ),
        AuditEvent::StepSucceeded { step, target_id } => {
            format!("{} succeeded", step_of(step, target_id))
        }
        AuditEvent::StepFailed {
            step,
            message,
            target_id,
            ..
        } => format!("{} failed: {message}", step_of(step, target_id)),
        AuditEvent::TargetsFailed { failed } => format!(
            "Failed: every target ended, and {} failed",
            failed.join(", ")
        ),
        AuditEvent::Deployed { .. } => "Deployed: every CI step succeeded".to_owned(),
        AuditEvent::RetryRequested {
            step,
            attempt,
            target_id,
        } => format!(
            "asked for {} to run again (attempt {attempt})",
            step_of(step, target_id).to_lowercase()
        ),
        AuditEvent::StageResult {
            stage,
            status,
            duration_ms,
            metrics,
            by,
        } => {
            let duration = duration_ms
                .map(|ms| format!(" in {}", duration_words(ms)))
                .unwrap_or_default();
            let metrics: Vec<String> = metrics.iter().map(|(k, v)| format!("{k} {v}")).collect();
            let metrics = if metrics.is_empty() {
                String::new()
            } else {
                format!(" — {}", metrics.join(", "))
            };
            format!("{stage} {status}{duration}{metrics} (reported by {by})")
        }
        AuditEvent::TicketOpened {
            ticket,
            kind,
            team,
            title,
        } => format!(
            "Ticket #{ticket} opened ({kind} for {}): {title}",
            catalog.team_name(team)
        ),
        AuditEvent::PipelineState { state, stage } => format!(
            "The pipeline reported its {stage} stage: the request is {}",
            state.replace('_', " ")
        ),
        AuditEvent::Reminded {
            stage,
            reminded,
            escalated_to,
        } => {
            let mut told = Vec::new();
            if *reminded {
                told.push("its approvers reminded".to_owned());
            }
            if let Some(team) = escalated_to {
                told.push(format!("escalated to {}", catalog.team_name(team)));
            }
            format!("Still waiting at stage {stage}: {}", told.join(", "))
        }
        AuditEvent::ApprovalsLapsed { reason } => {
            format!("Approvals lapsed: {reason}; the request needs approval again")
        }
        AuditEvent::Unknown { kind } => kind.replace('_', " "),
    }
}

/// " for Cleo Board" when a delegate decided in an away approver's place.
fn in_place_of(for_whom: &Option<String>) -> String {
    for_whom
        .as_ref()
        .map(|name| format!(" for {name}"))
        .unwrap_or_default()
}

/// "4 min 30 s", "2 h 5 min", "800 ms".
pub fn duration_words(ms: i64) -> String {
    let secs = ms / 1000;
    match secs {
        _ if ms < 1000 => format!("{ms} ms"),
        0..=59 => format!("{secs} s"),
        60..=3599 if secs % 60 == 0 => format!("{} min", secs / 60),
        60..=3599 => format!("{} min {} s", secs / 60, secs % 60),
        _ => format!("{} h {} min", secs / 3600, (secs % 3600) / 60),
    }
}
