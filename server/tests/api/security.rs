//! The holes a hostile insider tried, each closed at its root: script in a title, a pipeline
//! posing as someone, a misspelled verdict, a version that climbs folders, parallel guesses, a
//! signed-out session coming back, redirects off the site, reading what is not theirs, and
//! refused forms parked whole in the session.

use crate::helpers::*;
use crate::pipeline_api::{call, problem_fields, token_as};
use crate::request_pages::{decide, post_form, submit_banking, valid_form};
use crate::requests::count;
use serde_json::{json, Value};

async fn token_acting_as(app: &TestApp, user: &str, scopes: &[&str]) -> String {
    token_as(app, &format!("{user} pipeline"), user, scopes, &["*"]).await
}

fn banking_body(version: &str) -> Value {
    json!({
        "application": "banking", "environment": "staging", "version": version,
        "summary": "From the pipeline", "rollback_plan": "Previous image",
        "fields": { "change_ticket": "CHG-1", "customer_impact": "none" }
    })
}

async fn a_title_cannot_end_the_document_title(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    app.login_as("ada").await;
    let mut form = valid_form("2.4.0");
    form.push(("title", "</title><script>window.pwned=1</script>".into()));
    let page = location(&post_form(&app, "/requests", &form).await);
    let html = app.get_html(&page).await;
    let head = &html[..html.find("</head>").expect("head")];
    assert!(
        head.contains("&lt;/title&gt;&lt;script&gt;window.pwned=1&lt;/script&gt;"),
        "{head}"
    );
    assert!(
        !html.contains("<script>window.pwned"),
        "the title runs as a script"
    );
}

/// Leptos writes a textarea's children unescaped: what the form gives back must not end it.
async fn a_text_block_cannot_end_its_textarea(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    app.login_as("ada").await;
    let mut form = valid_form("2.4.0 bad");
    form[3] = ("summary", "</textarea><img src=x onerror=alert(1)>".into());
    let page = location(&post_form(&app, "/requests", &form).await);
    let html = app.get_html(&page).await;
    assert!(
        html.contains("rows=\"4\">&lt;/textarea&gt;&lt;img src=x onerror=alert(1)&gt;</textarea>"),
        "{html}"
    );
    assert!(!html.contains("<img src=x"));
}

async fn a_pipeline_token_opens_requests_as_its_own_user(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let post = |secret: String, body: Value| {
        let app = &app;
        async move {
            call(
                app,
                reqwest::Method::POST,
                "/api/v1/requests",
                Some(&secret),
                Some(body),
            )
            .await
        }
    };
    // Ada's pipeline may open requests, but not in Ben's name.
    let adas = token_acting_as(&app, "ada", &["requests:write"]).await;
    let mut body = banking_body("2.4.0");
    body["requested_by"] = json!("ben");
    let (status, refused, _) = post(adas.clone(), body.clone()).await;
    assert_eq!(status, 403, "{refused}");
    assert!(
        refused["detail"]
            .as_str()
            .is_some_and(|d| d.contains("requested_by") && d.contains("requests:on-behalf")),
        "{refused}"
    );
    assert_eq!(
        count(
            &app,
            "select count(*) from requests where request_id > $1",
            0
        )
        .await,
        0
    );
    // Naming itself, or no one, is the token's own user.
    body["requested_by"] = json!("ada");
    let (status, created, _) = post(adas, body).await;
    assert_eq!(status, 201, "{created}");

    // A token allowed to open on behalf of others says so on the timeline.
    let broker = token_acting_as(&app, "olga", &["requests:write", "requests:on-behalf"]).await;
    let mut body = banking_body("2.4.1");
    body["requested_by"] = json!("ada");
    let (status, created, _) = post(broker, body).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().expect("id");
    app.login_as("ada").await;
    let html = app.get_html(&format!("/requests/{id}")).await;
    assert!(
        html.contains("opened in their name by Olga Ops")
            && html.contains("with the pipeline token “olga pipeline”"),
        "the timeline names the token and its user"
    );
}

async fn only_the_two_verdicts_count(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    app.login_as("ada").await;
    let page = submit_banking(&app).await;
    app.login_as("ben").await;
    for verdict in ["REJECT", "", "approved", "yes", "reject "] {
        let after = decide(&app, &page, verdict, "no").await;
        assert!(
            after.contains("The verdict must be approve or reject."),
            "{verdict:?} is refused"
        );
        assert!(after.contains("pending approval"), "{verdict:?}");
    }
    assert_eq!(
        count(
            &app,
            "select count(*) from decisions where request_id > $1",
            0
        )
        .await,
        0
    );
}

async fn a_version_is_one_plain_segment_on_every_path_in(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    app.login_as("ada").await;
    let secret = token_acting_as(&app, "ada", &["requests:write", "gate:read"]).await;
    for version in [
        "../../../../tmp/x",
        "2.4.0\u{1b}[2J",
        "2.4.0\u{202e}",
        "2.4\u{200b}.0",
        "2.4.0/..",
    ] {
        let mut form = valid_form(version);
        form[1] = ("env", "staging".into());
        let resp = post_form(&app, "/requests", &form).await;
        assert!(location(&resp).starts_with("/requests/new"), "{version:?}");
        let html = app.get_html(&location(&resp)).await;
        assert!(
            html.contains("A version"),
            "{version:?}: the form names the field"
        );
        let gate =
            json!({ "application": "banking", "environment": "staging", "version": version });
        for (path, body) in [
            ("/api/v1/requests", banking_body(version)),
            ("/api/v1/gate", gate),
        ] {
            let (status, answer, _) =
                call(&app, reqwest::Method::POST, path, Some(&secret), Some(body)).await;
            assert_eq!(status, 422, "{path} {version:?}: {answer}");
            assert_eq!(problem_fields(&answer), ["version"], "{path} {version:?}");
        }
    }
    assert_eq!(
        count(
            &app,
            "select count(*) from requests where request_id > $1",
            0
        )
        .await,
        0
    );
    assert!(!std::path::Path::new("/tmp/x").exists());
}

async fn guesses_sent_at_once_meet_the_limit(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let mut guesses = tokio::task::JoinSet::new();
    for i in 0..10 {
        let url = app.url("/login");
        guesses.spawn(async move {
            let resp = client()
                .post(url)
                .form(&[("username", "ben"), ("password", &format!("guess-{i}"))])
                .send()
                .await
                .expect("login");
            location(&resp)
        });
    }
    let answers = guesses.join_all().await;
    let checked = answers
        .iter()
        .filter(|l| l.contains("error=credentials"))
        .count();
    let throttled = answers
        .iter()
        .filter(|l| l.contains("error=throttled"))
        .count();
    assert_eq!((checked, throttled), (5, 5), "{answers:?}");
    let right = app.login("ben", DEMO_PASSWORD).await;
    assert!(location(&right).contains("error=throttled"), "locked out");
}

async fn a_signed_out_session_stays_out(kind: Kind) {
    use tower_sessions::cookie::time::{Duration, OffsetDateTime};
    use tower_sessions::session::Record;
    use tower_sessions::SessionStore;
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let store = server::db::sessions::SqlSessionStore::new(app.state.db.clone());
    let mut record = Record {
        id: Default::default(),
        data: [("user_id".to_owned(), json!(2))].into(),
        expiry_date: OffsetDateTime::now_utc() + Duration::hours(1),
    };
    store.create(&mut record).await.expect("create");
    // A slow page loaded the session, the person signed out, then the page saved it.
    store.delete(&record.id).await.expect("sign out");
    record.data.insert("flash".into(), json!("late"));
    store.save(&record).await.expect("save");
    assert!(store.load(&record.id).await.expect("load").is_none());

    // Through the portal: the cookie of a signed-out session signs nobody in.
    let signed_in = app.login("ada", DEMO_PASSWORD).await;
    let cookie = session_cookie(&signed_in).expect("cookie");
    let cookie = cookie.split(';').next().expect("pair").to_owned();
    app.logout().await;
    let other = client();
    let resp = other
        .get(app.url("/"))
        .header("cookie", cookie)
        .send()
        .await
        .expect("get");
    assert!(location(&resp).starts_with("/login"));
}

async fn sign_in_sends_people_nowhere_but_here(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    for next in [
        "/\t/evil.example/",
        "/\\evil.example",
        "//evil.example",
        "/\n/evil.example",
        "/%0d%0aSet-Cookie:x=1",
        "https://evil.example/",
    ] {
        app.logout().await;
        let resp = app.login_then("ada", DEMO_PASSWORD, next).await;
        assert_eq!(resp.status(), 303, "{next:?}");
        let to = location(&resp);
        // Percent-escapes stay escapes: a path on this site, never a header of its own.
        assert!(
            to == "/" || to == "/%0d%0aSet-Cookie:x=1",
            "{next:?} → {to:?}"
        );
    }
    app.logout().await;
    let resp = app
        .login_then("ada", DEMO_PASSWORD, "/requests/1?tab=x")
        .await;
    assert_eq!(location(&resp), "/requests/1?tab=x");
}

async fn a_refused_form_keeps_no_more_than_a_field_holds(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    app.login_as("ada").await;
    let mut form = valid_form("2.4.0");
    form[3] = ("summary", "x".repeat(1_500_000));
    let resp = post_form(&app, "/requests", &form).await;
    assert!(location(&resp).starts_with("/requests/new"));
    let largest: i64 = sqlx::query_scalar("select max(length(data)) from sessions")
        .fetch_one(&app.state.db.pool)
        .await
        .expect("size");
    assert!(largest < 20_000, "a session holds {largest} bytes");
    let html = app.get_html(&location(&resp)).await;
    assert!(html.contains("Too long: 10000 characters at most."));

    // Whatever the flash echoes is bounded too: the page it is for, the notice, the messages.
    let mut form = valid_form("2.4.0");
    form[0] = ("app", "a".repeat(300_000));
    let junk: Vec<(String, String)> = (0..2000)
        .map(|i| (format!("fields.{}{i}", "j".repeat(100)), "x".into()))
        .collect();
    let mut body: Vec<(&str, String)> = form.clone();
    body.extend(junk.iter().map(|(k, v)| (k.as_str(), v.clone())));
    post_form(&app, "/requests", &body).await;
    form[0] = ("app", "banking".into());
    body = form.clone();
    body.extend(junk.iter().map(|(k, v)| (k.as_str(), v.clone())));
    post_form(&app, "/requests", &body).await;
    let largest: i64 = sqlx::query_scalar("select max(length(data)) from sessions")
        .fetch_one(&app.state.db.pool)
        .await
        .expect("size");
    assert!(largest < 100_000, "a session holds {largest} bytes");
}

crate::on_both_databases!(
    a_title_cannot_end_the_document_title,
    a_text_block_cannot_end_its_textarea,
    a_pipeline_token_opens_requests_as_its_own_user,
    only_the_two_verdicts_count,
    a_version_is_one_plain_segment_on_every_path_in,
    guesses_sent_at_once_meet_the_limit,
    a_signed_out_session_stays_out,
    sign_in_sends_people_nowhere_but_here,
    a_refused_form_keeps_no_more_than_a_field_holds,
);
