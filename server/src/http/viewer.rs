//! Resolves the signed-in user for every request and keeps pages behind the login.

use crate::auth::SESSION_USER;
use crate::db::users;
use crate::state::AppState;
use crate::ui::views;
use app::backend::ViewerSlot;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

/// Paths anyone may reach; every other path is a page that needs a signed-in user.
fn is_public(path: &str) -> bool {
    const PREFIXES: [&str; 4] = ["/pkg/", "/rpc/", "/api/", "/login"];
    const EXACT: [&str; 5] = [
        "/healthz",
        "/readyz",
        "/logout",
        "/auth/oidc/start",
        "/auth/oidc/callback",
    ];
    PREFIXES.iter().any(|p| path.starts_with(p))
        || EXACT.contains(&path)
        || path
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains('.'))
}

pub async fn attach(
    State(state): State<AppState>,
    session: Session,
    mut req: Request,
    next: Next,
) -> Response {
    let user_id: Option<i64> = session.get(SESSION_USER).await.ok().flatten();
    let user = match user_id {
        // Read on every request: an account disabled (through any replica) is out at once.
        Some(id) => match users::by_id(&state.db, id).await {
            Ok(user) => user.filter(|u| !u.disabled),
            Err(e) => {
                tracing::error!(error = %e, "cannot load the signed-in user");
                return axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response();
            }
        },
        None => None,
    };
    let viewer = user.map(|u| {
        let mut v = views::viewer(&u, &state.catalog.current().catalog);
        v.time_zone = if u.time_zone.is_empty() {
            browser_zone(req.headers()).unwrap_or_else(|| "UTC".to_owned())
        } else {
            u.time_zone
        };
        v
    });
    let path = req.uri().path();
    if viewer.is_none() && !is_public(path) {
        let next = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let query = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
        return Redirect::to(&format!("/login?{query}")).into_response();
    }
    if viewer.is_some() && path == "/login" && req.method() == axum::http::Method::GET {
        return Redirect::to("/").into_response();
    }
    req.extensions_mut().insert(ViewerSlot(viewer));
    next.run(req).await
}

/// The time zone the browser reported in the `runway_tz` cookie (set by the page soon after it is
/// hydrated), when it names one.
fn browser_zone(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .find_map(|c| c.trim().strip_prefix("runway_tz="))
        .filter(|z| z.len() <= 64 && jiff::tz::TimeZone::get(z).is_ok())
        .map(str::to_owned)
}

/// The signed-in user of a form post; anybody else is sent to the sign-in page.
pub struct SignedIn(pub app::model::Viewer);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for SignedIn {
    type Rejection = Redirect;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<ViewerSlot>()
            .and_then(|slot| slot.0.clone())
            .map(SignedIn)
            .ok_or_else(|| Redirect::to("/login"))
    }
}

#[cfg(test)]
mod tests {
    use super::is_public;

    #[test]
    fn pages_need_a_login_and_assets_do_not() {
        assert!(!is_public("/"));
        assert!(!is_public("/catalog"));
        assert!(is_public("/login"));
        assert!(is_public("/auth/oidc/callback"));
        assert!(!is_public("/auth/oidc/callback/x"));
        assert!(is_public("/pkg/runway.wasm"));
        assert!(is_public("/favicon.svg"));
        assert!(is_public("/healthz"));
    }
}
