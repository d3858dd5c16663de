//! The Content-Security-Policy of every page: scripts only from the portal itself, and the one
//! inline script (the one that starts hydration) allowed by a nonce made afresh for each answer;
//! the bundle may be compiled (`'wasm-unsafe-eval'`), nothing may frame the portal, and forms post
//! only to it. HSTS is sent when the public URL is https.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::response::Response;
use leptos::nonce::Nonce;
use leptos::prelude::{provide_context, use_context};

/// The nonce of the page being answered, as the middleware made it.
#[derive(Clone)]
struct PageNonce(Nonce);

/// The policy for a page whose inline script carries `nonce`.
pub fn policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
         frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'"
    )
}

/// Makes the answer's nonce, hands it to the page's rendering (see [`provide`]) and sends the
/// policy naming it.
pub async fn protect(
    State(state): State<crate::state::AppState>,
    mut req: Request<Body>,
    next: axum::middleware::Next,
) -> Response {
    let nonce = Nonce::new();
    req.extensions_mut().insert(PageNonce(nonce.clone()));
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&policy(&nonce)) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    if state.settings.public_url.starts_with("https://") {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    res
}

/// Gives the page being rendered its answer's nonce, which the hydration script then carries.
/// Called in the rendering's context, where the request's parts are.
pub fn provide() {
    let nonce = use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<PageNonce>().cloned());
    if let Some(PageNonce(nonce)) = nonce {
        provide_context(nonce);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn scripts_need_the_nonce_and_nothing_runs_inline_else() {
        let p = super::policy("abc");
        assert!(
            p.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval';"),
            "{p}"
        );
        assert!(!p.contains("script-src 'self' 'unsafe-inline'"), "{p}");
        for d in [
            "frame-ancestors 'none'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
        ] {
            assert!(p.contains(d), "{d} in {p}");
        }
    }
}
