//! What every form post shares: reading its fields, and answering with a redirect whose outcome
//! travels in the session's flash.

use crate::service::error::Error;
use crate::ui::flash::{self, Flash};
use app::model::Notice;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Serialize;
use tower_sessions::Session;

/// A form as the browser posts it, in order (a name may come twice).
pub type Fields = Vec<(String, String)>;

pub fn notice(ok: bool, text: impl Into<String>) -> Option<Notice> {
    Some(Notice {
        ok,
        text: text.into(),
    })
}

/// The value of `name` in the form ("" when absent).
pub fn field<'a>(form: &'a Fields, name: &str) -> &'a str {
    form.iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// Whether a checkbox `name` was ticked (an unticked one is not sent).
pub fn ticked(form: &Fields, name: &str) -> bool {
    form.iter().any(|(k, _)| k == name)
}

/// The notice of a refused change.
pub fn failure(e: Error) -> Option<Notice> {
    match e {
        Error::NotFound(m) | Error::Forbidden(m) | Error::Conflict(m) | Error::Unauthorized(m) => {
            notice(false, m)
        }
        Error::Invalid(fields) => notice(false, fields.into_values().collect::<Vec<_>>().join(" ")),
        other => {
            tracing::error!(error = %other, "a change failed");
            notice(
                false,
                "Something went wrong on the server; it has been logged.",
            )
        }
    }
}

/// What a post leaves for its page when it is done: the notice, the outcome to show once, and
/// whether the form is filled in again with what was sent (a question asked again and again).
pub struct Done<T> {
    pub text: String,
    pub outcome: Option<T>,
    pub refill: bool,
}

impl<T> Done<T> {
    pub fn said(text: impl Into<String>) -> Self {
        Done {
            text: text.into(),
            outcome: None,
            refill: false,
        }
    }
}

/// Back to the page `url` (flash key `page`) after a post. Done: its notice and its outcome,
/// shown there once. Refused input: the values typed and a message per field, so the form is
/// filled in again; a conflict: its reason. A post the person may not make at all, or about
/// something that does not exist, is answered 403 / 404 with the reason: there is no page of
/// theirs to go back to.
pub async fn back<T: Serialize>(
    session: &Session,
    page: &str,
    url: &str,
    form: Fields,
    outcome: Result<Done<T>, Error>,
) -> Response {
    let flash = match outcome {
        Ok(done) => Flash {
            notice: (!done.text.is_empty())
                .then(|| notice(true, done.text))
                .flatten(),
            outcome: done.outcome.and_then(|o| serde_json::to_string(&o).ok()),
            values: if done.refill {
                form.into_iter().collect()
            } else {
                Default::default()
            },
            ..Flash::default()
        },
        Err(Error::Invalid(errors)) => Flash {
            notice: notice(false, "Please correct the fields marked below."),
            values: form.into_iter().collect(),
            errors,
            ..Flash::default()
        },
        Err(Error::Forbidden(m)) => return (StatusCode::FORBIDDEN, m).into_response(),
        Err(Error::NotFound(m)) => return (StatusCode::NOT_FOUND, m).into_response(),
        Err(Error::Unauthorized(m)) => return (StatusCode::UNAUTHORIZED, m).into_response(),
        Err(e @ Error::Conflict(_)) => Flash {
            notice: failure(e),
            ..Flash::default()
        },
        Err(e @ Error::Internal(_)) => {
            tracing::error!(error = %e, "a change failed");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on the server; it has been logged.",
            )
                .into_response();
        }
    };
    flash::put(
        session,
        Flash {
            page: page.to_owned(),
            ..flash
        },
    )
    .await;
    Redirect::to(url).into_response()
}
