//! Problem answers (RFC 9457): the one mapping of a use case's error to an HTTP answer, and the
//! reading of a JSON body that names where it is wrong.

use super::api::BODY_LIMIT;
use crate::service::error::Error;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde_json::json;
use std::collections::BTreeMap;

/// A problem answer: status, a short title, the detail, and the fields at fault.
pub struct Problem {
    status: StatusCode,
    detail: String,
    errors: BTreeMap<String, String>,
}

impl Problem {
    pub(super) fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Problem {
            status,
            detail: detail.into(),
            errors: BTreeMap::new(),
        }
    }

    pub(super) fn field(status: StatusCode, field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Problem {
            status,
            detail: format!("{field}: {message}"),
            errors: BTreeMap::from([(field.to_owned(), message)]),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let errors: Vec<_> = self
            .errors
            .iter()
            .map(|(field, message)| json!({ "field": field, "message": message }))
            .collect();
        let mut body = json!({
            "type": "about:blank",
            "title": self.status.canonical_reason().unwrap_or("Error"),
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        if !errors.is_empty() {
            body["errors"] = errors.into();
        }
        let mut response = (self.status, Json(body)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"runway\""),
            );
        }
        response
    }
}

impl From<Error> for Problem {
    fn from(e: Error) -> Self {
        match e {
            Error::Unauthorized(m) => Problem::new(StatusCode::UNAUTHORIZED, m),
            Error::Forbidden(m) => Problem::new(StatusCode::FORBIDDEN, m),
            Error::NotFound(m) => Problem::new(StatusCode::NOT_FOUND, m),
            Error::Conflict(m) => Problem::new(StatusCode::CONFLICT, m),
            Error::Invalid(errors) => Problem {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                detail: errors
                    .iter()
                    .map(|(f, m)| format!("{f}: {m}"))
                    .collect::<Vec<_>>()
                    .join(" "),
                errors,
            },
            other => {
                tracing::error!(error = %other, "API call failed");
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong on the server; it has been logged.",
                )
            }
        }
    }
}

/// The JSON body as `T`, or a problem naming where it is wrong.
pub(super) fn body<T: DeserializeOwned>(
    bytes: Result<Bytes, BytesRejection>,
) -> Result<T, Problem> {
    let bytes = bytes.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("The body is larger than {} KiB.", BODY_LIMIT / 1024),
            )
        } else {
            Problem::new(StatusCode::BAD_REQUEST, e.body_text())
        }
    })?;
    // A JSON string holds a NUL character only as the escape `\u0000`: without one, a body that
    // reads as `T` at once is taken as it is. Anything else goes the long way, which names the
    // field at fault. Every body type denies unknown fields, and must: read straight, serde_json
    // skips an ignored value without checking its text, so a type that ignored unknown fields
    // would take a lone surrogate there that the long way refuses.
    if !bytes.windows(6).any(|w| w == br"\u0000") {
        if let Ok(input) = serde_json::from_slice::<T>(&bytes) {
            return Ok(input);
        }
    }
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            format!("The body is not JSON: {e}"),
        )
    })?;
    // Text with a NUL character cannot be stored (and never means anything here).
    if let Some(field) = nul_in(&value, "") {
        return Err(Problem::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            &field,
            "contains a NUL character",
        ));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() || path == "." {
            // Not JSON at all, or a problem with the whole object (an unknown or missing field).
            let message = inner.to_string();
            match field_in(&message) {
                Some(field) => Problem::field(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &field,
                    strip_position(&message),
                ),
                None => Problem::new(
                    StatusCode::BAD_REQUEST,
                    format!("The body is not the JSON object expected: {message}"),
                ),
            }
        } else {
            Problem::field(
                StatusCode::UNPROCESSABLE_ENTITY,
                &path,
                strip_position(&inner.to_string()),
            )
        }
    })
}

/// The path of the first string (or key) holding a NUL character.
fn nul_in(value: &serde_json::Value, path: &str) -> Option<String> {
    let here = |p: &str| {
        if p.is_empty() {
            ".".to_owned()
        } else {
            p.to_owned()
        }
    };
    match value {
        serde_json::Value::String(s) if s.contains('\0') => Some(here(path)),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| nul_in(v, &format!("{path}[{i}]"))),
        serde_json::Value::Object(map) => map.iter().find_map(|(k, v)| {
            let inner = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            if k.contains('\0') {
                Some(here(path))
            } else {
                nul_in(v, &inner)
            }
        }),
        _ => None,
    }
}

/// The field serde names in "unknown field `x`" or "missing field `x`".
fn field_in(message: &str) -> Option<String> {
    if !(message.starts_with("unknown field") || message.starts_with("missing field")) {
        return None;
    }
    let start = message.find('`')? + 1;
    let end = start + message[start..].find('`')?;
    Some(message[start..end].to_owned())
}

/// "invalid type: integer `5`, expected a string at line 1 column 20" without the position.
fn strip_position(message: &str) -> String {
    message
        .rsplit_once(" at line ")
        .map_or(message, |(m, _)| m)
        .to_owned()
}
