//! The security sweep's remaining holes, tried the way an attacker would: a session id planted
//! before sign-in, the board's search fed SQL and wildcards, and the provider sign-in's `next`
//! aimed off the site. (Cross-site posts are in `csrf`, cookie flags in `login`, script payloads
//! in the browser specs, a disabled person's open page in `accounts`.)

use crate::fake_idp::{Forge, Idp, Person, CLIENT_ID, CLIENT_SECRET};
use crate::helpers::*;
use crate::visibility::{storefront, submit};

fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .and_then(|kv| kv.split_once('='))
        .map(|(_, v)| v.to_owned())
        .unwrap_or_default()
}

async fn with_provider(kind: Kind) -> Option<(TestApp, Idp)> {
    let idp = Idp::start().await;
    let vars = [
        ("RUNWAY_OIDC_ISSUER", idp.base.as_str()),
        ("RUNWAY_OIDC_CLIENT_ID", CLIENT_ID),
        ("RUNWAY_OIDC_CLIENT_SECRET", CLIENT_SECRET),
    ];
    Some((spawn_app_with(kind, &vars).await?, idp))
}

async fn a_planted_session_id_is_never_signed_in(kind: Kind) {
    let Some((app, idp)) = with_provider(kind).await else {
        return;
    };
    // The attacker gets a real session id of their own (starting a provider sign-in makes one).
    let attacker = client();
    let start = attacker
        .get(app.url("/auth/oidc/start"))
        .send()
        .await
        .expect("start");
    let planted = cookie_value(&session_cookie(&start).expect("a session"));
    // The victim's browser is made to carry it, and the victim signs in with a password.
    let victim = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let resp = victim
        .post(app.url("/login"))
        .header("cookie", format!("runway_session={planted}"))
        .form(&[
            ("username", "ada"),
            ("password", DEMO_PASSWORD),
            ("next", ""),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(location(&resp), "/");
    let given = cookie_value(&session_cookie(&resp).expect("a new session"));
    assert_ne!(given, planted, "the session id changes at sign-in");
    let board = attacker.get(app.url("/board")).send().await.expect("board");
    assert!(
        location(&board).starts_with("/login"),
        "the planted id is not signed in"
    );
    // The same through the provider: the id that carried the sign-in is not the one signed in.
    let fiona = Person {
        sub: "00u-fiona",
        username: "fiona",
        name: "Fiona",
        groups: vec![],
    };
    let start = app.get("/auth/oidc/start").await;
    let before = cookie_value(&session_cookie(&start).expect("a session"));
    let (back, _) = idp.authorize(&location(&start), &fiona, Forge::Honest);
    let resp = app.client.get(back).send().await.expect("callback");
    let after = cookie_value(&session_cookie(&resp).expect("a new session"));
    assert_ne!(before, after);
    let old = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(app.url("/board"))
        .header("cookie", format!("runway_session={before}"))
        .send()
        .await
        .expect("board");
    assert!(
        location(&old).starts_with("/login"),
        "the id that carried the sign-in is not signed in"
    );
}

async fn the_board_search_takes_sql_and_wildcards_as_text(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let id = submit(&app, "wes", "storefront", &storefront("1.0.0")).await;
    app.login_as("olga").await;
    let listed = format!("href=\"/requests/{id}\"");
    assert!(app.get_html("/board").await.contains(&listed));
    for q in [
        "' or 1=1 --",
        "1.0.0' or '1'='1",
        "%",
        "_",
        "\\",
        "1.0.0'; drop table requests; --",
        "\u{0}1.0.0\u{0}' or 1=1 --",
    ] {
        let path = format!(
            "/board?{}",
            serde_urlencoded::to_string([("q", q)]).expect("q")
        );
        let resp = app.get(&path).await;
        assert_eq!(resp.status(), 200, "{q:?}");
        let page = resp.text().await.expect("page");
        assert!(!page.contains(&listed), "{q:?} matched as more than text");
    }
    assert!(
        app.get_html("/board?q=1.0.0").await.contains(&listed),
        "tables intact"
    );
    // Control characters match nothing stored: they are dropped, not sent to the database.
    let page = app.get_html("/board?q=1.0.%000&app=store%00front").await;
    assert!(page.contains(&listed), "{page}");
    // So does the administrators' account search.
    app.login_as("root").await;
    let resp = app.get("/admin/users?q=ol%00ga").await;
    assert_eq!(resp.status(), 200, "a NUL in the account search");
    assert!(resp.text().await.expect("page").contains("olga"));
}

async fn the_provider_sign_in_goes_back_only_to_this_site(kind: Kind) {
    let Some((app, idp)) = with_provider(kind).await else {
        return;
    };
    let walt = Person {
        sub: "00u-walt",
        username: "walt",
        name: "Walt",
        groups: vec!["web-devs"],
    };
    for next in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "/board",
    ] {
        let query = serde_urlencoded::to_string([("next", next)]).expect("next");
        let start = app.get(&format!("/auth/oidc/start?{query}")).await;
        let (back, _) = idp.authorize(&location(&start), &walt, Forge::Honest);
        let resp = app.client.get(back).send().await.expect("callback");
        let to = location(&resp);
        let expected = if next == "/board" { "/board" } else { "/" };
        assert_eq!(to, expected, "{next}");
        app.logout().await;
    }
}

crate::on_both_databases!(
    a_planted_session_id_is_never_signed_in,
    the_board_search_takes_sql_and_wildcards_as_text,
    the_provider_sign_in_goes_back_only_to_this_site,
);
