//! Sign-in and sign-out as plain form posts, so they work without JavaScript.

use super::client::ClientAddr;
use crate::auth::{self, password, LoginOutcome, MAX_USERNAME_LEN, SESSION_USER};
use crate::state::AppState;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use tower_sessions::Session;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    username: String,
    password: String,
    next: String,
}

/// Only a local path of visible ASCII: never an open redirect. Browsers drop tabs and line
/// breaks from addresses and read `\` as `/`, so `/\t/evil.example` would mean `//evil.example`;
/// anything but visible characters (and any `\`) sends the person home instead.
pub(super) fn safe_next(next: &str) -> &str {
    let plain = next.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    let local = next.starts_with('/') && !next.starts_with("//");
    if plain && local && !next.starts_with("/login") && next.parse::<axum::http::Uri>().is_ok() {
        next
    } else {
        "/"
    }
}

fn back_to_login(form: &LoginForm, error: &str, wait: Option<u64>) -> Response {
    let username: String = form.username.chars().take(MAX_USERNAME_LEN).collect();
    let wait = wait.map(|w| w.to_string());
    let mut query = vec![("error", error), ("username", &username)];
    if let Some(w) = &wait {
        query.push(("wait", w));
    }
    if !form.next.is_empty() {
        query.push(("next", safe_next(&form.next)));
    }
    let query = serde_urlencoded::to_string(query).unwrap_or_default();
    Redirect::to(&format!("/login?{query}")).into_response()
}

pub async fn submit(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    session: Session,
    form: Result<Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Form(form) = form.unwrap_or_default();
    let username = form.username.trim();
    let problem = if username.is_empty() {
        Some("username_missing")
    } else if username.chars().count() > MAX_USERNAME_LEN {
        Some("username_too_long")
    } else if form.password.is_empty() {
        Some("password_missing")
    } else if form.password.len() > password::MAX_LEN {
        Some("password_too_long")
    } else {
        None
    };
    if let Some(code) = problem {
        return back_to_login(&form, code, None);
    }
    let client = client.to_string();
    match auth::login(
        &state.db,
        &state.throttle,
        username,
        &form.password,
        &client,
    )
    .await
    {
        // Told only after the right password, like every other refusal of a known account: a
        // stranger cannot find out which names are the break-glass accounts.
        Ok(LoginOutcome::SignedIn(_)) if !state.settings.sign_in.password_allowed(username) => {
            back_to_login(&form, "passwords_off", None)
        }
        Ok(LoginOutcome::SignedIn(user_id)) => {
            if let Err(refused) = open_session(&session, user_id).await {
                return refused;
            }
            tracing::info!(user_id, "signed in");
            Redirect::to(safe_next(&form.next)).into_response()
        }
        Ok(LoginOutcome::Refused) => back_to_login(&form, "credentials", None),
        Ok(LoginOutcome::Disabled) => back_to_login(&form, "disabled", None),
        Ok(LoginOutcome::Throttled { retry_after_secs }) => {
            back_to_login(&form, "throttled", Some(retry_after_secs))
        }
        Err(e) => {
            tracing::error!(error = %e, "sign-in failed");
            axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// Signs `user_id` in on this session, under a new id: that defeats session fixation.
pub(super) async fn open_session(session: &Session, user_id: i64) -> Result<(), Response> {
    let stored = async {
        session.cycle_id().await?;
        session.insert(SESSION_USER, user_id).await
    };
    stored.await.map_err(|e| {
        tracing::error!(error = %e, "cannot store the session");
        axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response()
    })
}

pub async fn logout(session: Session) -> Response {
    if let Err(e) = session.flush().await {
        tracing::error!(error = %e, "cannot end the session");
    }
    Redirect::to("/login?bye=1").into_response()
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next("/catalog"), "/catalog");
        assert_eq!(safe_next("//evil.example"), "/");
        assert_eq!(safe_next("https://evil.example"), "/");
        assert_eq!(safe_next("/login?x"), "/");
        assert_eq!(safe_next(""), "/");
        assert_eq!(safe_next("/\t/evil.example/"), "/");
        assert_eq!(safe_next("/\\evil.example"), "/");
        assert_eq!(safe_next("/a\nb"), "/");
        assert_eq!(safe_next("/ /evil.example"), "/");
        assert_eq!(safe_next("/requests/4?x=1"), "/requests/4?x=1");
    }
}
