//! The one error of the use cases. The REST API maps it to problem answers (`http::api`), the
//! pages to the UI's `ApiError` (below); both in one place each.

use crate::domain::lifecycle::Refusal;
use crate::domain::request::FieldErrors;
use app::model::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No session, or no valid token.
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// The thing is not in a state that allows this (or changed meanwhile).
    #[error("{0}")]
    Conflict(String),
    /// Field → what is wrong with it.
    #[error("some fields are not valid")]
    Invalid(FieldErrors),
    /// Storage failed or holds what it should not: logged, never shown.
    #[error(transparent)]
    Internal(Box<dyn std::error::Error + Send + Sync>),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// One field at fault.
    pub fn invalid(field: &str, message: impl Into<String>) -> Error {
        Error::Invalid([(field.to_owned(), message.into())].into())
    }

    /// A unique index refused the write: a concurrent change got there first.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            Error::Internal(e) => e
                .downcast_ref::<sqlx::Error>()
                .and_then(sqlx::Error::as_database_error)
                .is_some_and(|d| d.is_unique_violation()),
            _ => false,
        }
    }

    /// The fields at fault as one sentence: "version: Required. summary: Required."
    pub fn field_words(fields: &FieldErrors, separator: &str) -> String {
        fields
            .iter()
            .map(|(f, m)| format!("{f}: {m}"))
            .collect::<Vec<_>>()
            .join(separator)
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Internal(Box::new(e))
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Internal(Box::new(e))
    }
}

impl From<Refusal> for Error {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Forbidden(m) => Error::Forbidden(m),
            Refusal::Conflict(m) => Error::Conflict(m),
            Refusal::Invalid(fields) => Error::Invalid(fields),
            Refusal::Unchanged => Error::Conflict("Nothing to change.".into()),
        }
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::Unauthorized(_) => ApiError::Unauthorized,
            Error::Forbidden(m) => ApiError::Forbidden(m),
            Error::NotFound(m) => ApiError::NotFound(m),
            Error::Conflict(m) => ApiError::Conflict(m),
            Error::Invalid(fields) => ApiError::Invalid(fields),
            Error::Internal(e) => {
                tracing::error!(error = %e, "a use case failed");
                ApiError::Internal
            }
        }
    }
}
