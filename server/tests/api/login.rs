use crate::helpers::*;

async fn a_demo_user_signs_in_and_lands_on_home(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let resp = app.login("ada", DEMO_PASSWORD).await;
    assert_eq!(resp.status(), 303);
    assert_eq!(location(&resp), "/");
    let cookie = session_cookie(&resp).expect("session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain http: no Secure flag: {cookie}"
    );
    let home = app.get_html("/").await;
    assert!(home.contains("Ada Lovelace"), "the layout names the user");
}

async fn wrong_password_and_unknown_user_get_the_same_answer(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let wrong = app.login("ada", "not-the-password").await;
    let unknown = app.login("nobody", "not-the-password").await;
    assert_eq!(wrong.status(), 303);
    assert_eq!(unknown.status(), 303);
    assert!(
        location(&wrong).starts_with("/login?error=credentials"),
        "{}",
        location(&wrong)
    );
    assert!(
        location(&unknown).starts_with("/login?error=credentials"),
        "{}",
        location(&unknown)
    );
    assert!(
        session_cookie(&wrong).is_none(),
        "no session for a failed login"
    );
    let page = app.get_html(&location(&wrong)).await;
    assert!(page.contains("Wrong user name or password."));
    assert!(page.contains("value=\"ada\""), "the user name is kept");
}

async fn repeated_failures_are_throttled_with_a_wait(kind: Kind) {
    let Some(app) = spawn_app_with(kind, &[("RUNWAY_LOGIN_MAX_FAILURES", "3")]).await else {
        return;
    };
    for _ in 0..3 {
        let resp = app.login("ben", "guess").await;
        assert!(location(&resp).contains("error=credentials"));
    }
    // Even the right password is refused while locked out.
    let resp = app.login("ben", DEMO_PASSWORD).await;
    let to = location(&resp);
    assert!(to.contains("error=throttled"), "{to}");
    assert!(to.contains("wait=60") || to.contains("wait=59"), "{to}");
    let page = app.get_html(&to).await;
    assert!(
        page.contains("Too many failed sign-in attempts. Try again in"),
        "{page}"
    );
}

async fn empty_or_oversized_fields_get_a_message_never_a_500(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let long_name = "x".repeat(65);
    let long_password = "p".repeat(5000);
    let cases = [
        ("", "secret", "username_missing", "Enter your user name."),
        ("ada", "", "password_missing", "Enter your password."),
        (
            long_name.as_str(),
            "secret",
            "username_too_long",
            "The user name is too long",
        ),
        (
            "ada",
            long_password.as_str(),
            "password_too_long",
            "The password is too long",
        ),
    ];
    for (user, password, code, text) in cases {
        let resp = app.login(user, password).await;
        assert_eq!(resp.status(), 303, "{code}");
        let to = location(&resp);
        assert!(to.contains(&format!("error={code}")), "{to}");
        assert!(app.get_html(&to).await.contains(text), "{code}");
    }
    // A body that is not a form at all.
    let resp = app
        .client
        .post(app.url("/login"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 303);
}

async fn logout_ends_the_session_on_the_server(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let resp = app.login("cleo", DEMO_PASSWORD).await;
    let cookie = session_cookie(&resp).expect("cookie");
    let pair = cookie.split(';').next().expect("name=value").to_owned();
    let out = app.logout().await;
    assert_eq!(location(&out), "/login?bye=1");
    // Replay the old cookie from a fresh client: it must no longer work.
    let replay = client()
        .get(app.url("/catalog"))
        .header("cookie", pair)
        .send()
        .await
        .expect("replay");
    assert_eq!(replay.status(), 303);
    assert!(location(&replay).starts_with("/login"));
}

async fn the_session_id_changes_at_sign_in(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let first = session_cookie(&app.login("ada", DEMO_PASSWORD).await).expect("cookie");
    let second = session_cookie(&app.login("ben", DEMO_PASSWORD).await).expect("cookie");
    assert_ne!(first.split(';').next(), second.split(';').next());
}

async fn a_login_survives_a_server_restart(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let cookie = session_cookie(&app.login("olga", DEMO_PASSWORD).await).expect("cookie");
    let pair = cookie.split(';').next().expect("pair").to_owned();
    let (db, catalog) = app.stop().await;
    let again = start(db, catalog, &[]).await;
    let resp = client()
        .get(again.url("/"))
        .header("cookie", pair)
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.expect("body").contains("Olga Ops"));
}

async fn https_public_url_makes_the_cookie_secure(kind: Kind) {
    let Some(app) = spawn_app_with(kind, &[("RUNWAY_PUBLIC_URL", "https://runway.example")]).await
    else {
        return;
    };
    let cookie = session_cookie(&app.login("ada", DEMO_PASSWORD).await).expect("cookie");
    assert!(cookie.contains("Secure"), "{cookie}");
}

async fn pages_send_anonymous_users_to_login_and_back(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let resp = app.get("/catalog").await;
    assert_eq!(resp.status(), 303);
    assert_eq!(location(&resp), "/login?next=%2Fcatalog");
    let signed_in = app.login_then("ada", DEMO_PASSWORD, "/catalog").await;
    assert_eq!(location(&signed_in), "/catalog");
    let offsite = app.login_then("ada", DEMO_PASSWORD, "//evil.example").await;
    assert_eq!(location(&offsite), "/", "never an open redirect");
}

async fn the_login_page_lists_demo_users_only_in_demo_mode(kind: Kind) {
    let Some(demo) = spawn_app(kind).await else {
        return;
    };
    let page = demo.get_html("/login").await;
    assert!(page.contains("Demo mode") && page.contains("runway-demo") && page.contains("olga"));
    let Some(plain) = spawn_app_with(kind, &[("RUNWAY_DEMO", "false")]).await else {
        return;
    };
    let page = plain.get_html("/login").await;
    assert!(!page.contains("runway-demo"));
}

/// `runway user disable`: the account's open pages lose their session at their next request and
/// their live stream ends, it cannot sign in (and is told why), until `runway user enable`.
async fn a_disabled_account_is_out_at_once(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let user = |verb: &str, name: &str| {
        crate::cli::runway(
            &["user", verb, name],
            &[("RUNWAY_DATABASE_URL", app.db.url.as_str())],
            "",
        )
    };
    app.login_as("ada").await;
    let token = crate::pipeline_api::token_as(&app, "ada's", "ada", &["audit:read"], &["*"]).await;
    let read = || async {
        let path = "/api/v1/audit";
        crate::pipeline_api::call(&app, reqwest::Method::GET, path, Some(&token), None)
            .await
            .0
    };
    assert_eq!(read().await, 200);
    let ada = app.client_of("ada").await;
    let mut stream = ada.get(app.url("/events")).send().await.expect("events");
    assert_eq!(stream.status(), 200);

    let off = user("disable", "ada");
    assert!(off.status.success(), "{}", crate::cli::text(&off));
    let resp = app.get("/").await;
    assert_eq!(resp.status(), 303);
    assert!(location(&resp).starts_with("/login"), "{}", location(&resp));
    let ended = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the live stream ends");
    // The tokens acting as her stop too, once the gate's cache hears of the change: at once
    // through PostgreSQL's notices, within a tenth of a second on SQLite (the command line is
    // another process, whose changes the portal reads off the change counter).
    let started = std::time::Instant::now();
    while read().await != 401 {
        assert!(started.elapsed().as_secs() < 2, "her token still works");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    let resp = app.login("ada", DEMO_PASSWORD).await;
    assert!(
        location(&resp).contains("error=disabled"),
        "{}",
        location(&resp)
    );
    let page = app.get_html(&location(&resp)).await;
    assert!(page.contains("This account is disabled."), "{page}");

    let on = user("enable", "ada");
    assert!(on.status.success(), "{}", crate::cli::text(&on));
    app.login_as("ada").await;
    let missing = user("disable", "nobody");
    assert!(!missing.status.success());
    assert!(crate::cli::text(&missing).contains("no user is named nobody"));
}

crate::on_both_databases!(
    a_disabled_account_is_out_at_once,
    a_demo_user_signs_in_and_lands_on_home,
    wrong_password_and_unknown_user_get_the_same_answer,
    repeated_failures_are_throttled_with_a_wait,
    empty_or_oversized_fields_get_a_message_never_a_500,
    logout_ends_the_session_on_the_server,
    the_session_id_changes_at_sign_in,
    a_login_survives_a_server_restart,
    https_public_url_makes_the_cookie_secure,
    pages_send_anonymous_users_to_login_and_back,
    the_login_page_lists_demo_users_only_in_demo_mode,
);
