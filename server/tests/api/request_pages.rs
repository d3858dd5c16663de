//! The request pages and their form posts, as a browser without JavaScript uses them.

use crate::helpers::*;

pub(crate) fn valid_form(version: &str) -> Vec<(&'static str, String)> {
    vec![
        ("app", "banking".into()),
        ("env", "production".into()),
        ("version", version.into()),
        ("summary", "Fixes interest rounding".into()),
        ("risk", "medium".into()),
        ("rollback_plan", "Redeploy 2.3.9".into()),
        ("when", "asap".into()),
        ("timezone", "UTC".into()),
        ("fields.change_ticket", "CHG-1042".into()),
        ("fields.customer_impact", "none".into()),
        ("fields.db_migration", "on".into()),
    ]
}

pub(crate) async fn post_form(
    app: &TestApp,
    path: &str,
    form: &[(&str, String)],
) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .form(form)
        .send()
        .await
        .expect("post")
}

pub(crate) fn revision_in(page: &str) -> String {
    let start = page
        .find("name=\"revision\" value=\"")
        .expect("revision field")
        + 23;
    page[start..].split('"').next().expect("value").to_owned()
}

pub(crate) async fn submit_banking(app: &TestApp) -> String {
    let resp = post_form(app, "/requests", &valid_form("2.4.0")).await;
    assert_eq!(resp.status(), 303);
    location(&resp)
}

/// Decides on the request at `page` from the form it shows, and leaves the redirect unfollowed.
async fn post_decision(app: &TestApp, page: &str, verdict: &str, comment: &str) {
    let html = app.get_html(page).await;
    let form = [
        ("revision", revision_in(&html)),
        ("verdict", verdict.into()),
        ("comment", comment.into()),
    ];
    let resp = post_form(app, &format!("{page}/decision"), &form).await;
    assert_eq!(location(&resp), page);
}

pub(crate) async fn decide(app: &TestApp, page: &str, verdict: &str, comment: &str) -> String {
    post_decision(app, page, verdict, comment).await;
    app.get_html(page).await
}

async fn the_form_is_generated_from_the_catalog(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    app.login_as("ada").await;
    let home = app.get_html("/").await;
    assert!(
        home.contains("/requests/new?app=banking&amp;env=production"),
        "home links to the form"
    );
    let page = app
        .get_html("/requests/new?app=banking&env=production")
        .await;
    assert!(page.contains("Release Banking to Production"));
    assert!(page.contains("Change ticket") && page.contains("name=\"fields.change_ticket\""));
    assert!(
        page.contains("<option value=\"degraded\""),
        "select options from the catalog"
    );
    assert!(page.contains("type=\"checkbox\" id=\"fields.db_migration\""));
}

async fn a_bad_form_comes_back_with_messages_and_what_was_typed(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    app.login_as("ada").await;
    let mut form = valid_form("");
    form.retain(|(k, _)| *k != "fields.change_ticket");
    form.push(("summary", "Keep me".into()));
    let resp = post_form(&app, "/requests", &form).await;
    assert_eq!(location(&resp), "/requests/new?app=banking&env=production");
    let page = app.get_html(&location(&resp)).await;
    assert!(page.contains("Please correct the fields marked below."));
    assert!(
        page.contains("<p id=\"version-error\" class=\"field-error\">Required.</p>"),
        "{page}"
    );
    assert!(
        page.contains("<p id=\"fields.change_ticket-error\" class=\"field-error\">Required.</p>")
    );
    assert!(
        page.contains("Keep me") || page.contains("Fixes interest rounding"),
        "typed text is kept"
    );
    // The flash is shown once.
    let again = app
        .get_html("/requests/new?app=banking&env=production")
        .await;
    assert!(!again.contains("Please correct the fields"));
}

async fn a_team_outside_the_policy_gets_a_clear_403(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    app.login_as("wes").await;
    let resp = app.get("/requests/new?app=banking&env=production").await;
    let body = resp.text().await.expect("body");
    assert!(
        body.contains("team Web may not request releases of Banking to production; Fintech may."),
        "{body}"
    );
    let refused = post_form(&app, "/requests", &valid_form("2.4.0")).await;
    let page = app
        .get(&location(&refused))
        .await
        .text()
        .await
        .expect("body");
    assert!(
        page.contains("team Web may not request releases of Banking to production; Fintech may."),
        "{page}"
    );
}

async fn approvers_decide_through_the_pages_until_approved(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    app.login_as("ada").await;
    let page = submit_banking(&app).await;
    let html = app.get_html(&page).await;
    assert!(html.contains("Request #1 submitted."));
    assert!(html.contains("pending approval"));
    assert!(
        html.contains("1 more needed from Ben Owner"),
        "eligible approvers are named: {html}"
    );
    assert!(
        !html.contains("value=\"approve\""),
        "no approve button on one's own request"
    );

    app.login_as("ben").await;
    let home = app.get_html("/").await;
    assert!(
        home.contains("data-testid=\"queue-count\""),
        "the navigation counts the queue"
    );
    let queue = app.get_html("/approvals").await;
    assert!(queue.contains(&page), "the queue links to the request");
    let after = decide(&app, &page, "approve", "Owner review done").await;
    assert!(
        after.contains("You approved request #1; it is now pending approval."),
        "{after}"
    );
    assert!(
        !app.get_html("/approvals").await.contains(&page),
        "decided requests leave the queue"
    );

    app.login_as("cleo").await;
    decide(&app, &page, "approve", "").await;
    app.login_as("dev").await;
    let done = decide(&app, &page, "approve", "Go").await;
    assert!(done.contains("it is now approved"), "{done}");
    assert!(
        done.contains("Approved: every stage is satisfied"),
        "the timeline records it"
    );
}

/// The old page hears of the decision and reads the request again while the browser follows the
/// redirect; that live reading must leave the outcome for the page the redirect leads to.
async fn a_live_refetch_leaves_the_outcome_for_the_next_page(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    app.login_as("ada").await;
    let page = submit_banking(&app).await;
    app.login_as("ben").await;
    post_decision(&app, &page, "approve", "Owner review done").await;
    let id = page.trim_start_matches("/requests/");
    let live = app
        .rpc_with("requests/get", &format!("id={id}&with_notice=false"))
        .await;
    assert_eq!(live.status(), 200);
    let live = live.text().await.expect("body");
    assert!(!live.contains("You approved"), "{live}");
    let after = app.get_html(&page).await;
    assert!(
        after.contains("You approved request #1; it is now pending approval."),
        "{after}"
    );
    assert!(
        !app.get_html(&page).await.contains("You approved"),
        "the outcome shows once"
    );
}

async fn a_rejection_without_a_comment_is_refused_then_recorded(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    app.login_as("ada").await;
    let page = submit_banking(&app).await;
    app.login_as("ben").await;
    let refused = decide(&app, &page, "reject", "").await;
    assert!(refused.contains("Say why you reject this request."));
    let rejected = decide(&app, &page, "reject", "No rollback test").await;
    assert!(rejected.contains("You rejected request #1."));
    assert!(rejected.contains("rejected at stage Owner review: “No rollback test”"));
}

async fn a_decision_on_a_changed_request_is_a_conflict(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    app.login_as("ada").await;
    let page = submit_banking(&app).await;
    app.login_as("ben").await;
    let stale = revision_in(&app.get_html(&page).await);
    app.login_as("ada").await;
    let cancel = [
        ("revision", stale.clone()),
        ("reason", "wrong build".to_owned()),
    ];
    post_form(&app, &format!("{page}/cancel"), &cancel).await;
    app.login_as("ben").await;
    let form = [
        ("revision", stale),
        ("verdict", "approve".to_owned()),
        ("comment", String::new()),
    ];
    post_form(&app, &format!("{page}/decision"), &form).await;
    let html = app.get_html(&page).await;
    assert!(
        html.contains("This request changed while you were looking at it"),
        "{html}"
    );
    assert!(html.contains("cancelled"));
}

async fn open_pages_hear_of_every_change_as_it_happens(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let anonymous = client()
        .get(app.url("/events"))
        .send()
        .await
        .expect("events");
    assert_eq!(anonymous.status(), 303, "the stream needs a login");
    let watcher = app.client_of("olga").await;
    let mut stream = watcher
        .get(app.url("/events"))
        .send()
        .await
        .expect("events");
    assert_eq!(stream.status(), 200);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    app.login_as("ada").await;
    let page = submit_banking(&app).await;
    let id = page.trim_start_matches("/requests/");
    let seen = heard_until(&mut stream, "event: request").await;
    assert!(seen.contains(&format!("data: {id}")), "{seen}");
}

/// Two replicas on one PostgreSQL database: a request submitted through one reaches the live
/// pages open on the other (NOTIFY / LISTEN).
#[tokio::test]
async fn a_change_on_one_replica_reaches_pages_on_the_other() {
    let Some(app) = spawn_app(Kind::Postgres).await else {
        return;
    };
    let other = server::startup::Application::build(settings(&app.db, &app.catalog, &[]))
        .await
        .expect("second replica");
    let other_address = format!("http://127.0.0.1:{}", other.port());
    let replica = tokio::spawn(async move {
        let _ = other.run_until_stopped().await;
    });
    let watcher = client();
    let form = [("username", "olga"), ("password", DEMO_PASSWORD)];
    watcher
        .post(format!("{other_address}/login"))
        .form(&form)
        .send()
        .await
        .expect("login");
    let mut stream = watcher
        .get(format!("{other_address}/events"))
        .send()
        .await
        .expect("events");
    assert_eq!(stream.status(), 200);
    // Let the second replica's listener start before the change.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    app.login_as("ada").await;
    let page = submit_banking(&app).await;
    let id = page.trim_start_matches("/requests/");
    let mut seen = String::new();
    while !seen.contains(&format!("data: {id}")) {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), stream.chunk())
            .await
            .expect("the other replica heard of the change")
            .expect("chunk")
            .expect("stream open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    replica.abort();
}

async fn ops_see_every_request_filtered_and_paged(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let wes = app.user("wes").await;
    let catalog = app.state.catalog.current();
    for n in 0..55 {
        let raw = server::domain::request::RawDraft {
            version: format!("5.0.{n}"),
            summary: "Copy change".into(),
            risk: "low".into(),
            rollback_plan: "Redeploy".into(),
            ..Default::default()
        };
        server::service::requests::submit(
            &app.state.db,
            &catalog,
            &wes,
            "storefront",
            "staging",
            &raw,
        )
        .await
        .expect("submitted");
    }
    app.login_as("ada").await;
    let own = submit_banking(&app).await;
    // Everyone reads the board (what the catalog lets them read), and finds their own there.
    let board = app.get_html("/board").await;
    assert!(board.contains("Requests you can read"), "{board}");
    assert!(
        board.contains("5.0.54"),
        "Ada reads every application: {board}"
    );
    assert!(!board.contains("data-testid=\"in-flight\""), "{board}");
    let mine = app.get_html("/board?mine=1").await;
    assert!(mine.contains("<h1>Your requests</h1>"), "{mine}");
    assert!(mine.contains(&format!("href=\"{own}\"")), "{mine}");
    assert!(!mine.contains("5.0.54"), "only hers: {mine}");
    app.logout().await;

    app.login_as("olga").await;
    let first = app.get_html("/board").await;
    assert!(first.contains("#56 Banking 2.4.0"), "newest first");
    assert_eq!(
        first.matches("<tr><td><a href=\"/requests/").count(),
        50,
        "a page holds 50"
    );
    assert!(
        first.contains("/board?before=7"),
        "a link to older requests"
    );
    let second = app.get_html("/board?before=7").await;
    assert_eq!(second.matches("<tr><td><a href=\"/requests/").count(), 6);
    assert!(!second.contains("Older requests"));

    let pending = app.get_html("/board?state=pending_approval").await;
    assert_eq!(pending.matches("<tr><td><a href=\"/requests/").count(), 1);
    let searched = app.get_html("/board?q=5.0.42").await;
    assert!(searched.contains("Storefront 5.0.42"));
    assert_eq!(searched.matches("<tr><td><a href=\"/requests/").count(), 1);
    let banking = app.get_html("/board?app=banking&env=production").await;
    assert_eq!(banking.matches("<tr><td><a href=\"/requests/").count(), 1);
    // Search with every filter and paging: the same answers on both databases.
    let rows = |page: &str| page.matches("<tr><td><a href=\"/requests/").count();
    let storefront = app.get_html("/board?q=STOREFRONT&app=storefront").await;
    assert_eq!(rows(&storefront), 50, "a searched page holds 50");
    assert!(
        storefront.contains("/board?app=storefront&amp;q=STOREFRONT&amp;before=6"),
        "{storefront}"
    );
    let older = app
        .get_html("/board?q=STOREFRONT&app=storefront&before=6")
        .await;
    assert_eq!(rows(&older), 5);
    let narrowed = app
        .get_html("/board?q=5.0.4&app=storefront&env=staging")
        .await;
    assert_eq!(rows(&narrowed), 11, "5.0.4 and 5.0.40 to 5.0.49");
    let elsewhere = app.get_html("/board?q=5.0.4&env=production").await;
    assert_eq!(rows(&elsewhere), 0);
    let waiting = app
        .get_html("/board?q=banking&state=pending_approval&app=banking&env=production")
        .await;
    assert_eq!(rows(&waiting), 1, "the search follows the state");
    let none_waiting = app
        .get_html("/board?q=storefront&state=pending_approval")
        .await;
    assert_eq!(rows(&none_waiting), 0);
    let nothing = app.get_html("/board?q=100%25_off").await;
    assert!(
        nothing.contains("No request matches."),
        "wildcards are searched literally"
    );
}

crate::on_both_databases!(
    ops_see_every_request_filtered_and_paged,
    open_pages_hear_of_every_change_as_it_happens,
    the_form_is_generated_from_the_catalog,
    a_bad_form_comes_back_with_messages_and_what_was_typed,
    a_team_outside_the_policy_gets_a_clear_403,
    approvers_decide_through_the_pages_until_approved,
    a_live_refetch_leaves_the_outcome_for_the_next_page,
    a_rejection_without_a_comment_is_refused_then_recorded,
    a_decision_on_a_changed_request_is_a_conflict,
);
