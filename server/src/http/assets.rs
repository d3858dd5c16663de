//! How the browser gets the portal: the bundle's files from `<site>/pkg` in the compressed copy
//! the build made for them (see `scripts/assets.mjs`), kept by the browser for a year when their
//! names carry their digest; pages compressed as they are answered and never kept.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::response::Response;
use axum::Router;
use std::path::Path;
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::services::ServeDir;

/// A file whose name carries its digest never changes under that name.
const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");
/// Any other asset may be kept, but is checked again (by its date) before each use.
const REVALIDATE: HeaderValue = HeaderValue::from_static("no-cache");
/// A page holds what the person may see now: never kept, by the browser or any proxy.
const NEVER_KEPT: HeaderValue = HeaderValue::from_static("no-store");

/// The digests of the bundle's files, read from `<site>/hash.txt` (written by the build); none
/// when the site was built without it (a development build), and the plain names are linked.
#[derive(Debug, Clone, Default)]
pub struct Digests(Vec<String>);

impl Digests {
    pub fn read(site: &Path) -> Digests {
        let hashes = site.join("hash.txt");
        let Ok(text) = std::fs::read_to_string(&hashes) else {
            return Digests::default();
        };
        // A bundle built again after the digests were taken: they name the old one.
        let modified = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
        let written = modified(&hashes);
        let rebuilt = std::fs::read_dir(site.join("pkg"))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|f| f.file_name().to_string_lossy().matches('.').count() == 1)
            .any(|f| modified(&f.path()) > written);
        if rebuilt {
            tracing::warn!(
                "the bundle in {} was built after its digests: serving its plain names (run `node scripts/assets.mjs` after each build)",
                site.display()
            );
            return Digests::default();
        }
        Digests(
            text.lines()
                .filter_map(|line| line.split_once(':'))
                .map(|(_, digest)| digest.trim().to_owned())
                .filter(|digest| !digest.is_empty())
                .collect(),
        )
    }

    pub fn in_use(&self) -> bool {
        !self.0.is_empty()
    }

    /// Whether `file` is named `<name>.<digest>.<kind>` for one of the bundle's digests.
    fn names(&self, file: &str) -> bool {
        self.0
            .iter()
            .any(|digest| file.contains(&format!(".{digest}.")))
    }
}

/// The `/pkg` files: the brotli or gzip copy when the browser takes it, with how long it may
/// be kept.
pub fn bundle(site: &Path, digests: Digests) -> Router {
    let files = ServeDir::new(site.join("pkg"))
        .precompressed_br()
        .precompressed_gzip();
    Router::new()
        .fallback_service(files)
        .layer(axum::middleware::from_fn_with_state(
            std::sync::Arc::new(digests),
            kept_for,
        ))
}

async fn kept_for(
    axum::extract::State(digests): axum::extract::State<std::sync::Arc<Digests>>,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    let file = req.uri().path().rsplit('/').next().unwrap_or_default();
    let value = if digests.names(file) {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    let mut response = next.run(req).await;
    if response.status().is_success() || response.status().is_redirection() {
        response.headers_mut().insert(header::CACHE_CONTROL, value);
        // The compressed copy is chosen by what the browser takes: a shared cache must keep each.
        response
            .headers_mut()
            .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

/// Pages and the other answers of the pages' router, compressed for a browser that takes it
/// (brotli or gzip, at a level cheap enough to run on every page; a live stream and what is
/// already compressed are left as they are) and never kept unless their handler says otherwise.
pub fn pages<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router
        .layer(axum::middleware::map_response(never_kept))
        .layer(CompressionLayer::new().quality(CompressionLevel::Precise(4)))
}

async fn never_kept(mut response: Response<Body>) -> Response<Body> {
    response
        .headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(NEVER_KEPT);
    response
}

#[cfg(test)]
mod tests {
    use super::Digests;

    #[test]
    fn only_a_name_with_its_digest_is_kept_for_good() {
        let digests = Digests(vec!["AbC123-_xyz09876".into()]);
        assert!(digests.names("runway.AbC123-_xyz09876.wasm"));
        assert!(!digests.names("runway.wasm"));
        assert!(!digests.names("favicon.svg"));
        assert!(!Digests::default().in_use());
    }
}
