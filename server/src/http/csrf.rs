//! Cross-site request forgery: a change made with the session's cookie is accepted only from the
//! portal's own pages. Browsers say where a request comes from (`Sec-Fetch-Site`, else `Origin`);
//! a request that carries neither is not a browser's, so no cookie rode along unbidden. The API
//! is not concerned: its callers present a bearer token, which no other site can make a browser
//! send.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};

/// Where a request says it comes from, and whether that is the portal itself.
#[derive(Debug, PartialEq, Eq)]
pub enum Source {
    /// A safe method, the portal's own page, or no browser at all.
    Own,
    /// Another site: what the browser named.
    Foreign(String),
}

/// Judges a request of `method` with `headers`, the portal being reached at the `Host` header or
/// at `public_url`.
pub fn source(method: &Method, headers: &HeaderMap, public_url: &str) -> Source {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Source::Own;
    }
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site") {
        // `none`: the person typed it or used a bookmark, which no other site can cause.
        return match site {
            "same-origin" | "none" => Source::Own,
            other => Source::Foreign(format!("a {other} page")),
        };
    }
    let Some(origin) = text(header::ORIGIN.as_str()) else {
        return Source::Own;
    };
    let host = |url: &str| {
        url.split_once("://").map(|(_, rest)| {
            rest.split('/')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase()
        })
    };
    let origin_host = host(origin);
    let own = origin_host.is_some()
        && (origin_host.as_deref()
            == text(header::HOST.as_str())
                .map(str::to_ascii_lowercase)
                .as_deref()
            || origin_host == host(public_url));
    if own {
        Source::Own
    } else {
        Source::Foreign(origin.to_owned())
    }
}

/// Refuses, with 403 and a message that says why, a change that another site made a browser send.
pub async fn same_origin(
    State(state): State<crate::state::AppState>,
    req: Request<Body>,
    next: axum::middleware::Next,
) -> Response {
    match source(req.method(), req.headers(), &state.settings.public_url) {
        Source::Own => next.run(req).await,
        Source::Foreign(from) => {
            tracing::warn!(path = %req.uri().path(), %from, "cross-site change refused");
            (
                StatusCode::FORBIDDEN,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                format!(
                    "Refused: this change was sent from {from}, not from Runway's own pages. \
                     Open the portal and make the change there."
                ),
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judge(method: Method, pairs: &[(&'static str, &'static str)]) -> Source {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, value.parse().expect("header"));
        }
        source(&method, &headers, "https://runway.example.com")
    }

    #[test]
    fn reads_are_never_refused() {
        let from = [("origin", "https://evil.example")];
        assert_eq!(judge(Method::GET, &from), Source::Own);
    }

    #[test]
    fn the_fetch_site_header_decides_when_present() {
        for site in ["same-origin", "none"] {
            assert_eq!(
                judge(Method::POST, &[("sec-fetch-site", site)]),
                Source::Own
            );
        }
        for site in ["same-site", "cross-site"] {
            let pairs = [
                ("sec-fetch-site", site),
                ("origin", "https://runway.example.com"),
            ];
            assert!(
                matches!(judge(Method::POST, &pairs), Source::Foreign(_)),
                "{site}"
            );
        }
    }

    #[test]
    fn else_the_origin_must_be_the_portal() {
        let own = [
            ("origin", "http://127.0.0.1:3000"),
            ("host", "127.0.0.1:3000"),
        ];
        assert_eq!(judge(Method::POST, &own), Source::Own);
        let public = [
            ("origin", "https://Runway.example.com"),
            ("host", "10.0.0.5:3000"),
        ];
        assert_eq!(judge(Method::POST, &public), Source::Own);
        for origin in ["https://evil.example", "null", "http://127.0.0.1:3001"] {
            let pairs = [("origin", origin), ("host", "127.0.0.1:3000")];
            assert_eq!(
                judge(Method::POST, &pairs),
                Source::Foreign(origin.to_owned())
            );
        }
        // Neither header: not a browser, so no cookie was sent on another site's behalf.
        assert_eq!(judge(Method::POST, &[]), Source::Own);
    }
}
