//! The Content-Security-Policy: every page names a fresh nonce, and every script the page holds
//! carries it (the hydration script, the resources' data); nothing else may run inline.

use crate::helpers::*;
use crate::requests::ada_submits_banking;

/// The nonce the policy of `resp` allows.
fn nonce_of(resp: &reqwest::Response) -> String {
    let policy = resp.headers()["content-security-policy"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(policy.contains("default-src 'self'"), "{policy}");
    assert!(policy.contains("'wasm-unsafe-eval'"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(
        !policy.contains("script-src 'self' 'unsafe-inline'"),
        "{policy}"
    );
    policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce")
        .to_owned()
}

async fn every_script_on_every_page_carries_the_answers_nonce(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let id = ada_submits_banking(&app).await;
    let mut seen = Vec::new();
    for (who, paths) in [
        (None, vec!["/login"]),
        (
            Some("ada"),
            vec![
                "/",
                "/requests/new?app=banking&env=production",
                "/inbox",
                "/profile",
            ],
        ),
        (Some("ben"), vec!["/approvals", "/board", "/gate"]),
        (
            Some("root"),
            vec![
                "/admin/tokens",
                "/catalog",
                "/admin/mail",
                "/tickets",
                "/history",
            ],
        ),
    ] {
        if let Some(who) = who {
            app.login_as(who).await;
        }
        let request = format!("/requests/{id}");
        for path in paths.into_iter().chain(who.map(|_| request.as_str())) {
            let resp = app.client.get(app.url(path)).send().await.expect("page");
            assert!(
                [200, 404].contains(&resp.status().as_u16()),
                "{path}: {resp:?}"
            );
            let nonce = nonce_of(&resp);
            let html = resp.text().await.expect("html");
            let tags: Vec<&str> = html
                .split("<script")
                .skip(1)
                .map(|rest| rest.split('>').next().unwrap_or_default())
                .collect();
            assert!(!tags.is_empty(), "{path} hydrates: {html}");
            for tag in &tags {
                assert!(
                    tag.contains(&format!("nonce=\"{nonce}\"")),
                    "{path}: a script without the nonce {nonce}: <script{tag}>"
                );
            }
            assert!(
                !seen.contains(&nonce),
                "{path}: a fresh nonce for each answer"
            );
            seen.push(nonce);
        }
        if who.is_some() {
            app.logout().await;
        }
    }
}

crate::on_both_databases!(every_script_on_every_page_carries_the_answers_nonce);
