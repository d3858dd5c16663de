use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// The errors a page may show; never a database message or a stack trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ApiError {
    #[error("Please sign in again: your session has ended.")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// Field → what is wrong with it.
    #[error("{}", field_words(.0))]
    Invalid(std::collections::BTreeMap<String, String>),
    #[error("Something went wrong on the server; it has been logged.")]
    Internal,
    /// The call's arguments were missing or malformed.
    #[error("The request was not understood: {0}")]
    BadRequest(String),
    #[error("The server could not be reached: {0}")]
    Transport(String),
}

/// "name: Required.; scopes: Choose at least one."
fn field_words(fields: &std::collections::BTreeMap<String, String>) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

impl FromServerFnError for ApiError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(m)
            | ServerFnErrorErr::MissingArg(m)
            | ServerFnErrorErr::Deserialization(m) => ApiError::BadRequest(m),
            other => ApiError::Transport(other.to_string()),
        }
    }
}
