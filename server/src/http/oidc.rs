//! Sign-in through the company's OpenID provider: `/auth/oidc/start` sends the browser there,
//! `/auth/oidc/callback` takes it back, checks everything and opens the session.

use super::login::{open_session, safe_next};
use crate::auth::oidc::{OidcError, Pending, PENDING};
use crate::service::provider_sign_in::{self, ProviderOutcome};
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StartQuery {
    next: String,
}

fn to_login(code: &str) -> Response {
    Redirect::to(&format!("/login?error={code}")).into_response()
}

fn failed(e: &OidcError) -> Response {
    match e {
        OidcError::Unavailable(_) => tracing::error!(error = %e, "sign-in through the provider"),
        _ => tracing::warn!(error = %e, "sign-in through the provider refused"),
    }
    to_login(e.code())
}

pub async fn start(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<StartQuery>,
) -> Response {
    let Some(provider) = &state.oidc else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let next = query.next;
    match provider.start(safe_next(&next)).await {
        Ok((url, pending)) => {
            if let Err(e) = session.insert(PENDING, pending).await {
                tracing::error!(error = %e, "cannot store the session");
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            }
            Redirect::to(&url).into_response()
        }
        Err(e) => failed(&e),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CallbackQuery {
    code: String,
    state: String,
    error: String,
    error_description: String,
}

pub async fn callback(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let Some(provider) = &state.oidc else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // One use only: whatever happens next, this sign-in's secrets are spent.
    let pending = match session.remove::<Pending>(PENDING).await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "cannot read the session");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    if !q.error.is_empty() {
        let cause = format!("{} {}", q.error, q.error_description);
        return failed(&OidcError::Denied(cause.chars().take(300).collect()));
    }
    let Some(pending) = pending else {
        return failed(&OidcError::State);
    };
    let next = pending.next.clone();
    let identity = match provider.finish(&q.code, &q.state, pending).await {
        Ok(i) => i,
        Err(e) => return failed(&e),
    };
    let catalog = state.catalog.current();
    match provider_sign_in::sign_in(&state.db, &catalog.catalog, &identity).await {
        Ok(ProviderOutcome::SignedIn(user_id)) => {
            if let Err(refused) = open_session(&session, user_id).await {
                return refused;
            }
            tracing::info!(user_id, "signed in through the provider");
            Redirect::to(safe_next(&next)).into_response()
        }
        Ok(ProviderOutcome::Disabled) => to_login("disabled"),
        Err(e) => {
            tracing::error!(error = %e, "cannot record the provider sign-in");
            to_login("sso_unavailable")
        }
    }
}
