//! Cross-site request forgery: every change a page can make (form posts and server functions)
//! is refused when another site makes a signed-in browser send it, and nothing changes; the
//! portal's own pages still work.

use crate::helpers::*;
use crate::requests::{ada_submits_banking, revision, state};

/// Every path a signed-in page posts to, with a body that would change something.
fn changes(id: i64) -> Vec<(String, String)> {
    let mut paths: Vec<(String, String)> = [
        ("/login", "username=ada&password=runway-demo".to_owned()),
        ("/logout", String::new()),
        (
            "/requests",
            "application=banking&environment=production&version=9.9.9".to_owned(),
        ),
        (
            "/requests/{id}/decision",
            "verdict=approve&revision=1".to_owned(),
        ),
        (
            "/requests/{id}/cancel",
            "revision=1&reason=forged".to_owned(),
        ),
        ("/requests/{id}/edit", "revision=1&version=6.6.6".to_owned()),
        ("/requests/{id}/retry", "revision=1".to_owned()),
        ("/requests/{id}/stop", "revision=1".to_owned()),
        (
            "/admin/tokens/new",
            "name=forged&scopes=gate%3Aread".to_owned(),
        ),
        ("/admin/tokens/1/revoke", String::new()),
        (
            "/admin/users/new",
            "username=mallory&display_name=Mallory&admin=on".to_owned(),
        ),
        ("/admin/users/1/disable", String::new()),
        ("/admin/users/1/password", String::new()),
        ("/admin/users/2/admin", "admin=on".to_owned()),
        ("/admin/users/2/teams", "teams=cab".to_owned()),
        (
            "/gate/dry-run",
            "application=banking&environment=production".to_owned(),
        ),
        ("/catalog/reload", String::new()),
        ("/tickets/1/work", "status=closed".to_owned()),
        ("/inbox/read", String::new()),
        ("/profile", "email=forged%40evil.example".to_owned()),
    ]
    .into_iter()
    .map(|(p, body)| (p.replace("{id}", &id.to_string()), body))
    .collect();
    // Every server function the pages call, as registered: a new one is covered by itself.
    for (path, method) in leptos::server_fn::axum::server_fn_paths() {
        if method == axum::http::Method::POST {
            paths.push((path.to_owned(), String::new()));
        }
    }
    paths
}

async fn another_site_cannot_make_a_signed_in_browser_change_anything(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let id = ada_submits_banking(&app).await;
    let rev = revision(&app, id).await;
    app.login_as("root").await;
    let forged: [&[(&str, &str)]; 4] = [
        &[
            ("origin", "https://evil.example"),
            ("sec-fetch-site", "cross-site"),
        ],
        &[("origin", "https://evil.example")],
        &[("origin", "null")],
        &[("sec-fetch-site", "same-site")],
    ];
    let routes = changes(id);
    assert!(
        routes.len() > 15,
        "the server functions are listed: {routes:?}"
    );
    for (path, body) in &routes {
        for headers in forged {
            let mut post = app
                .client
                .post(app.url(path))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.clone());
            for (name, value) in headers {
                post = post.header(*name, *value);
            }
            let resp = post.send().await.expect("post");
            assert_eq!(resp.status(), 403, "{path} from {headers:?}");
            let text = resp.text().await.expect("body");
            assert!(
                text.contains("not from Runway's own pages"),
                "{path}: {text}"
            );
        }
    }
    // Nothing changed, and root is still signed in (the forged sign-out did nothing).
    assert_eq!(state(&app, id).await, "pending_approval");
    assert_eq!(revision(&app, id).await, rev);
    let tokens: i64 = sqlx::query_scalar("select count(*) from api_tokens")
        .fetch_one(&app.state.db.pool)
        .await
        .expect("tokens");
    assert_eq!(tokens, 0, "no token made");
    let administered: i64 = sqlx::query_scalar("select count(*) from admin_events")
        .fetch_one(&app.state.db.pool)
        .await
        .expect("admin events");
    assert_eq!(administered, 0, "no account changed");
    let page = app.get_html("/admin/tokens").await;
    assert!(!page.contains("Sign in"), "still signed in: {page}");

    // The portal's own page sends the same change, and it is made.
    let resp = app
        .client
        .post(app.url(&format!("/requests/{id}/cancel")))
        .header("origin", app.address.as_str())
        .header("sec-fetch-site", "same-origin")
        .form(&[
            ("revision", rev.to_string()),
            ("reason", "not needed".into()),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 303);
    assert_eq!(state(&app, id).await, "cancelled");
}

crate::on_both_databases!(another_site_cannot_make_a_signed_in_browser_change_anything);
