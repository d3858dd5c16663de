//! The HTTP exchange the REST connectors (Jenkins, GitLab, GitHub) share: one request, its
//! answer as status + text, CI errors named after the server.

use super::CiError;
use reqwest::{RequestBuilder, StatusCode};
use serde_json::Value;

/// An answer that arrived, whatever its status.
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Answer {
    /// The answer as JSON, or a transient error (a proxy's HTML page, a cut-off body).
    pub fn json(&self, server: &str) -> Result<Value, CiError> {
        serde_json::from_str(&self.text).map_err(|e| {
            CiError::Transient(format!(
                "{server} answered with something else than JSON: {e}"
            ))
        })
    }

    /// Success, or the error the status means (5xx and 429 transient, others configuration).
    pub fn ok(self, server: &str) -> Result<Answer, CiError> {
        if self.status.is_success() {
            return Ok(self);
        }
        Err(super::answer_error(
            server,
            self.status,
            &message(&self.text),
        ))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Sends `request`; an unreachable server or a timeout is a transient error.
pub async fn send(server: &str, request: RequestBuilder) -> Result<Answer, CiError> {
    let answer = request
        .send()
        .await
        .map_err(|e| super::unreachable(server, &e))?;
    let status = answer.status();
    let headers = answer.headers().clone();
    let text = answer
        .text()
        .await
        .map_err(|e| super::unreachable(server, &e))?;
    Ok(Answer {
        status,
        headers,
        text,
    })
}

/// The message of an error answer: its `message` (or `error`) field when JSON, else its start.
pub fn message(text: &str) -> String {
    match serde_json::from_str::<Value>(text) {
        Ok(v) => match (&v["message"], &v["error"]) {
            (Value::String(m), _) | (_, Value::String(m)) => m.clone(),
            (Value::Object(_) | Value::Array(_), _) => v["message"].to_string(),
            _ => text.chars().take(300).collect(),
        },
        Err(_) => text.chars().take(300).collect(),
    }
}
