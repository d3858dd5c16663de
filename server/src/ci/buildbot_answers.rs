//! Reading Buildbot's answers: its collections, its properties, its RPC errors, its results.

use super::RunState;
use serde_json::Value;
use std::collections::HashMap;

/// The first object of a REST collection answer.
pub(super) fn first(answer: &Value, collection: &str) -> Option<Value> {
    answer[collection].as_array()?.first().cloned()
}

/// Field names and types of a force scheduler, nested layouts included.
pub(super) fn collect_fields(fields: &Value, out: &mut HashMap<String, String>) {
    for field in fields.as_array().into_iter().flatten() {
        if let Some(name) = field["fullName"].as_str().filter(|n| !n.is_empty()) {
            out.insert(
                name.to_owned(),
                field["type"].as_str().unwrap_or_default().to_owned(),
            );
        }
        collect_fields(&field["fields"], out);
    }
}

/// The JSON-RPC error message of an answer, or the answer itself when short.
pub(super) fn rpc_message(text: &str) -> String {
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        return text.chars().take(300).collect();
    };
    match &value["error"]["message"] {
        Value::String(m) => m.clone(),
        // Per-field complaints about the force parameters.
        Value::Object(fields) => fields
            .iter()
            .map(|(field, m)| format!("{field}: {}", m.as_str().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join("; "),
        _ => text.chars().take(300).collect(),
    }
}

/// Buildbot results codes, for a finished build request.
pub(super) fn finished(results: i64) -> RunState {
    match results {
        0 | 1 => RunState::Succeeded,
        6 => RunState::Cancelled,
        _ => RunState::Failed,
    }
}

pub(super) fn results_word(results: i64) -> &'static str {
    match results {
        0 => "success",
        1 => "warnings",
        2 => "failure",
        3 => "skipped",
        4 => "exception",
        5 => "retry",
        6 => "cancelled",
        _ => "unknown",
    }
}

/// The text a run's reason carries so `find` can recognise it.
pub(super) fn marker(key: &str) -> String {
    format!("[runway:{key}]")
}
