//! How the browser gets the portal: pages compressed as they are answered and never kept; the
//! bundle's files in the compressed copy made at build time, kept for a year when their names
//! carry their digest, and their digested names linked from every page.

use crate::helpers::*;

const DIGEST: &str = "Zx8Q2mN4pL6rT0vW";
const CSS_DIGEST: &str = "Aa1Bb2Cc3Dd4Ee5F";

/// A built site as `scripts/assets.mjs` leaves it: digested names, brotli and gzip copies.
fn site(dir: &std::path::Path) -> std::path::PathBuf {
    let site = dir.join("site");
    let pkg = site.join("pkg");
    std::fs::create_dir_all(&pkg).expect("site");
    let js = format!("runway.{DIGEST}.js");
    std::fs::write(
        pkg.join(&js),
        "export default function init() {}\n".repeat(50),
    )
    .expect("js");
    std::fs::write(pkg.join(format!("{js}.br")), b"brotli bytes").expect("br");
    std::fs::write(pkg.join(format!("{js}.gz")), b"gzip bytes").expect("gz");
    std::fs::write(pkg.join("runway.js"), "plain").expect("plain");
    std::fs::write(
        site.join("hash.txt"),
        format!("js: {DIGEST}\nwasm: {DIGEST}\ncss: {CSS_DIGEST}\n"),
    )
    .expect("hash.txt");
    site
}

fn header(answer: &reqwest::Response, name: &str) -> String {
    answer
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn the_bundle_is_sent_compressed_and_kept_and_pages_are_never_kept() {
    within_limit("assets", || async {
        let dir = tempfile::tempdir().expect("dir");
        let site = site(dir.path());
        let site_dir = site.display().to_string();
        let Some(app) = spawn_app_with(Kind::Sqlite, &[("RUNWAY_SITE_DIR", &site_dir)]).await
        else {
            return;
        };
        let js = format!("/pkg/runway.{DIGEST}.js");
        let get = |path: String, encodings: &'static str| {
            let request = app.client.get(app.url(&path));
            async move {
                let request = if encodings.is_empty() {
                    request
                } else {
                    request.header("accept-encoding", encodings)
                };
                request.send().await.expect("GET")
            }
        };

        let br = get(js.clone(), "gzip, deflate, br").await;
        assert_eq!(br.status(), 200);
        assert_eq!(header(&br, "content-encoding"), "br");
        assert_eq!(
            header(&br, "cache-control"),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(header(&br, "vary"), "accept-encoding");
        assert_eq!(br.bytes().await.expect("body").as_ref(), b"brotli bytes");
        let gzip = get(js.clone(), "gzip").await;
        assert_eq!(header(&gzip, "content-encoding"), "gzip");
        assert_eq!(gzip.bytes().await.expect("body").as_ref(), b"gzip bytes");
        let plain = get(js.clone(), "").await;
        assert_eq!(header(&plain, "content-encoding"), "");
        assert!(plain
            .text()
            .await
            .expect("body")
            .starts_with("export default"));

        // A name without its digest may change under that name: checked before each use.
        let undigested = get("/pkg/runway.js".into(), "br").await;
        assert_eq!(header(&undigested, "cache-control"), "no-cache");

        // Pages: compressed as they go, never kept; they link the digested names.
        app.login_as("ada").await;
        let page = get("/".into(), "br").await;
        assert_eq!(page.status(), 200);
        assert_eq!(header(&page, "content-encoding"), "br");
        assert_eq!(header(&page, "cache-control"), "no-store");
        let html = get("/".into(), "").await.text().await.expect("html");
        assert!(html.contains(&js), "the page links the digested bundle");
        assert!(
            html.contains(&format!("/pkg/runway.{CSS_DIGEST}.css")),
            "the page links the digested style sheet"
        );
    })
    .await;
}
