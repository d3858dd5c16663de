//! Who reads what: an application's requests, history, gate checks, tickets and live changes
//! are for the teams the catalog names (everyone in a catalog team by default), operations and
//! administrators, and never for someone in no team at all.

use crate::helpers::*;
use crate::requests::draft;
use server::domain::request::RawDraft;

/// The demo catalog with Banking closed to the teams its owner and policies name.
async fn restricted(app: TestApp) -> TestApp {
    restart_with_catalog(app, "restricted.toml", |text| {
        text.replace(
            "owner = \"banking-owners\"\n",
            "owner = \"banking-owners\"\nreaders = []\n",
        )
    })
    .await
}

pub(crate) async fn submit(app: &TestApp, who: &str, application: &str, raw: &RawDraft) -> i64 {
    let user = app.user(who).await;
    let id = server::service::requests::submit(
        &app.state.db,
        &app.state.catalog.current(),
        &user,
        application,
        "staging",
        raw,
    )
    .await
    .expect("submitted");
    let _ = app.state.db.changes.send(id);
    id
}

pub(crate) fn storefront(version: &str) -> RawDraft {
    RawDraft {
        fields: Default::default(),
        ..draft(version)
    }
}

async fn status_of(app: &TestApp, path: &str) -> u16 {
    app.get(path).await.status().as_u16()
}

async fn an_application_may_be_closed_to_other_teams(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let app = restricted(app).await;
    let banking = submit(&app, "ada", "banking", &draft("2.4.0")).await;
    // A failed stage raises a ticket for Fintech: it follows its request.
    let secret = crate::pipeline_api::token(&app, &["events:write"], &["banking"]).await;
    let (status, _, _) = crate::pipeline_api::call(
        &app,
        reqwest::Method::POST,
        &format!("/api/v1/requests/{banking}/events"),
        Some(&secret),
        Some(serde_json::json!({ "stage": "integration tests", "status": "failed" })),
    )
    .await;
    assert_eq!(status, 201);
    let page = format!("/requests/{banking}");
    for who in ["ada", "ben", "cleo", "olga", "root"] {
        app.logout().await;
        app.login_as(who).await;
        assert_eq!(status_of(&app, &page).await, 200, "{who} reads Banking");
    }
    app.logout().await;
    app.login_as("wes").await;
    assert_eq!(status_of(&app, &page).await, 403);
    assert_eq!(status_of(&app, "/applications/banking/history").await, 403);
    let rpc = app
        .rpc_with("requests/get", &format!("id={banking}&with_notice=false"))
        .await;
    assert_eq!(rpc.status(), 403);
    let dry = app
        .post_form(
            "/gate/dry-run",
            "application=banking&environment=production&version=2.4.0&artifact=&actor=&at=",
        )
        .await;
    assert_eq!(dry.status(), 403);
    let tickets = app.rpc("tickets/list").await.text().await.expect("tickets");
    assert!(tickets.contains("\"tickets\":[]"), "{tickets}");
    assert_eq!(app.rpc_with("tickets/get", "id=1").await.status(), 403);
    app.logout().await;
    app.login_as("ada").await;
    let tickets = app.rpc("tickets/list").await.text().await.expect("tickets");
    assert!(tickets.contains("integration tests"), "{tickets}");
    assert_eq!(app.rpc_with("tickets/get", "id=1").await.status(), 200);
    app.logout().await;
    app.login_as("wes").await;
    let gate = app.rpc("gate").await.text().await.expect("gate");
    assert!(!gate.contains("\"banking\""), "{gate}");
    assert!(gate.contains("\"storefront\""), "{gate}");
    // The board leaves out what Wes may not read, and still lists his own; searched and
    // filtered alike.
    let own = submit(&app, "wes", "storefront", &storefront("9.9.9")).await;
    for path in [
        "/board",
        "/board?q=2.4",
        "/board?app=banking",
        "/board?q=9.9.9",
    ] {
        let board = app.get_html(path).await;
        assert!(
            !board.contains(&format!("href=\"/requests/{banking}\"")),
            "{path}: {board}"
        );
        assert!(
            !board.contains("<option value=\"banking\""),
            "{path}: {board}"
        );
    }
    let board = app.get_html("/board?q=9.9.9").await;
    assert!(
        board.contains(&format!("href=\"/requests/{own}\"")),
        "{board}"
    );
    app.logout().await;
    app.login_as("olga").await;
    let board = app.get_html("/board?q=2.4").await;
    assert!(
        board.contains(&format!("href=\"/requests/{banking}\"")),
        "ops read all: {board}"
    );
    assert!(board.contains("<option value=\"banking\""), "{board}");
}

async fn a_person_in_no_team_reads_nothing(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let hash = server::auth::password::hash(DEMO_PASSWORD).expect("hash");
    server::db::users::create(&app.state.db, "nemo", "Nemo", &hash, false, &[])
        .await
        .expect("user");
    let banking = submit(&app, "ada", "banking", &draft("2.4.0")).await;
    app.login_as("nemo").await;
    assert_eq!(status_of(&app, &format!("/requests/{banking}")).await, 403);
    assert_eq!(
        status_of(&app, "/applications/storefront/history").await,
        403
    );
    let board = app.get_html("/board").await;
    assert!(board.contains("No request matches."), "{board}");
}

/// Reads the live stream until `until` arrives; every request id heard before it.
async fn heard_before(mut resp: reqwest::Response, until: i64) -> Vec<i64> {
    let mut heard = Vec::new();
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while !heard.contains(&until) {
        let chunk = tokio::time::timeout_at(deadline, resp.chunk())
            .await
            .expect("the change arrives")
            .expect("stream")
            .expect("open");
        text.push_str(&String::from_utf8_lossy(&chunk));
        heard = text
            .lines()
            .filter_map(|l| l.strip_prefix("data: ")?.trim().parse().ok())
            .collect();
    }
    heard
}

async fn the_live_stream_tells_only_of_readable_requests(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let app = restricted(app).await;
    app.login_as("wes").await;
    let stream = app.get("/events").await;
    assert_eq!(stream.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let banking = submit(&app, "ada", "banking", &draft("2.4.0")).await;
    let shop = submit(&app, "wes", "storefront", &storefront("6.0.0")).await;
    let heard = heard_before(stream, shop).await;
    assert!(!heard.contains(&banking), "wes heard of Banking: {heard:?}");

    let olga = app.client_of("olga").await;
    let stream = olga.get(app.url("/events")).send().await.expect("events");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let banking = submit(&app, "ada", "banking", &draft("2.4.1")).await;
    assert_eq!(heard_before(stream, banking).await, [banking]);
}

crate::on_both_databases!(
    an_application_may_be_closed_to_other_teams,
    a_person_in_no_team_reads_nothing,
    the_live_stream_tells_only_of_readable_requests,
);
