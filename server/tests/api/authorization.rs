//! Who may do what: every page, form post, server function and stream, for every kind of user.

use crate::helpers::*;

/// anonymous, requester of another team, requester, approver of another team, approver, ops, admin.
const ACTORS: [Option<&str>; 7] = [
    None,
    Some("wes"),
    Some("ada"),
    Some("cleo"),
    Some("ben"),
    Some("olga"),
    Some("root"),
];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Want {
    Allowed,
    /// Sent to the login page (pages) or answered 401 (server functions).
    SignIn,
    Forbidden,
    NotFound,
}
use Want::*;

async fn as_actor(app: &TestApp, actor: Option<&str>) {
    app.logout().await;
    if let Some(name) = actor {
        app.login_as(name).await;
    }
}

async fn check_get(app: &TestApp, path: &str, wants: [Want; 7]) {
    for (actor, want) in ACTORS.iter().zip(wants) {
        as_actor(app, *actor).await;
        let resp = app.get(path).await;
        let got = match resp.status().as_u16() {
            200 => Allowed,
            303 if location(&resp).starts_with("/login") => SignIn,
            403 => Forbidden,
            other => panic!("GET {path} as {actor:?}: unexpected {other}"),
        };
        assert_eq!(got, want, "GET {path} as {actor:?}");
    }
}

async fn check_rpc(app: &TestApp, name: &str, body: &str, wants: [Want; 7]) {
    for (actor, want) in ACTORS.iter().zip(wants) {
        as_actor(app, *actor).await;
        let resp = app.rpc_with(name, body).await;
        let got = match resp.status().as_u16() {
            200 => Allowed,
            401 => SignIn,
            403 => Forbidden,
            404 => NotFound,
            other => panic!("rpc {name} as {actor:?}: unexpected {other}"),
        };
        assert_eq!(got, want, "rpc {name} as {actor:?}");
    }
}

/// Posts a tool's form as each actor: sent back to its page, or refused there and then.
async fn check_post(app: &TestApp, path: &str, body: &str, wants: [Want; 7]) {
    for (actor, want) in ACTORS.iter().zip(wants) {
        as_actor(app, *actor).await;
        let resp = app.post_form(path, body).await;
        let got = match resp.status().as_u16() {
            303 if location(&resp).starts_with("/login") => SignIn,
            303 => Allowed,
            403 => Forbidden,
            404 => NotFound,
            other => panic!("POST {path} as {actor:?}: unexpected {other}"),
        };
        assert_eq!(got, want, "POST {path} as {actor:?}");
    }
}

/// Posts a request form as `actor` and reads the outcome the request page then shows.
async fn post_outcome(
    app: &TestApp,
    actor: &str,
    id: i64,
    action: &str,
    form: &[(&str, &str)],
) -> String {
    as_actor(app, Some(actor)).await;
    let page = format!("/requests/{id}");
    let html = app.get_html(&page).await;
    let revision = server::db::requests::get(&app.state.db.pool, id)
        .await
        .expect("get")
        .expect("row")
        .revision
        .to_string();
    let mut fields: Vec<(&str, &str)> = vec![("revision", &revision)];
    fields.extend_from_slice(form);
    let resp = app
        .client
        .post(app.url(&format!("{page}/{action}")))
        .form(&fields)
        .send()
        .await
        .expect("post");
    assert_eq!(location(&resp), page, "{action} as {actor}");
    drop(html);
    app.get_html(&page).await
}

async fn new_request(app: &TestApp) -> i64 {
    let ada = app.user("ada").await;
    let raw = server::domain::request::RawDraft {
        version: "2.4.0".into(),
        summary: "s".into(),
        risk: "low".into(),
        rollback_plan: "r".into(),
        fields: [
            ("change_ticket".to_owned(), "CHG-1".to_owned()),
            ("customer_impact".to_owned(), "none".to_owned()),
        ]
        .into(),
        ..Default::default()
    };
    server::service::requests::submit(
        &app.state.db,
        &app.state.catalog.current(),
        &ada,
        "banking",
        "production",
        &raw,
    )
    .await
    .expect("submitted")
}

async fn every_route_and_function_answers_each_kind_of_user_as_intended(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let id = new_request(&app).await;
    let everyone = [SignIn, Allowed, Allowed, Allowed, Allowed, Allowed, Allowed];
    for page in [
        "/",
        "/board",
        "/calendar",
        "/calendar?month=2026-12",
        "/catalog",
        "/approvals",
        "/events",
        &format!("/requests/{id}"),
    ] {
        check_get(&app, page, everyone).await;
    }
    // Operations may raise Banking production's emergency changes, so the form is theirs too.
    check_get(
        &app,
        "/requests/new?app=banking&env=production",
        [
            SignIn, Forbidden, Allowed, Forbidden, Forbidden, Allowed, Forbidden,
        ],
    )
    .await;
    let requester_only = [
        SignIn, Forbidden, Allowed, Forbidden, Forbidden, Forbidden, Forbidden,
    ];
    check_get(&app, &format!("/requests/{id}/edit"), requester_only).await;
    check_rpc(
        &app,
        "requests/edit-form",
        &format!("id={id}"),
        requester_only,
    )
    .await;

    for name in ["home", "catalog", "requests/queue-count"] {
        check_rpc(&app, name, "", everyone).await;
    }
    check_rpc(
        &app,
        "requests/get",
        &format!("id={id}&with_notice=false"),
        everyone,
    )
    .await;
    check_rpc(
        &app,
        "requests/queue",
        "app=&env=&oldest_first=false",
        everyone,
    )
    .await;
    check_rpc(
        &app,
        "requests/board",
        "filter[state]=&filter[app]=&filter[env]=&filter[q]=&filter[before]=0",
        everyone,
    )
    .await;
    check_post(
        &app,
        "/catalog/reload",
        "",
        [
            SignIn, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Allowed,
        ],
    )
    .await;
    let admin_only = [
        SignIn, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Allowed,
    ];
    check_get(&app, "/admin/tokens", admin_only).await;
    check_rpc(&app, "tokens", "", admin_only).await;
    check_post(
        &app,
        "/admin/tokens/new",
        "name=&applications=&acts_as=",
        admin_only,
    )
    .await;
    check_post(
        &app,
        "/admin/tokens/999/revoke",
        "",
        [
            SignIn, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, NotFound,
        ],
    )
    .await;
    check_get(&app, "/gate", everyone).await;
    check_rpc(&app, "gate", "", everyone).await;
    check_post(
        &app,
        "/gate/dry-run",
        "application=banking&environment=production&version=2.4.0&artifact=&actor=wes&at=2026-12-24T10:00",
        everyone,
    )
    .await;
    check_rpc(&app, "viewer", "", [Allowed; 7]).await;
    check_rpc(&app, "login-info", "", [Allowed; 7]).await;

    // Deciding: only an approver the current stage needs, never the requester.
    for actor in ["wes", "ada", "cleo", "olga", "root"] {
        let page = post_outcome(&app, actor, id, "decision", &[("verdict", "approve")]).await;
        assert!(!page.contains("You approved"), "{actor} must not approve");
        assert!(page.contains("pending approval"));
    }
    let page = post_outcome(&app, "ben", id, "decision", &[("verdict", "approve")]).await;
    assert!(
        page.contains("You approved request"),
        "ben approves stage 1"
    );

    // Editing: the requester alone.
    let edit = [
        ("version", "2.4.0"),
        ("title", "Banking 2.4.0, reworded"),
        ("summary", "s"),
        ("risk", "low"),
        ("rollback_plan", "r"),
        ("fields.change_ticket", "CHG-1"),
        ("fields.customer_impact", "none"),
    ];
    for actor in ["wes", "ben", "cleo", "olga", "root"] {
        let page = post_outcome(&app, actor, id, "edit", &edit).await;
        assert!(
            page.contains("Only the requester may edit a request."),
            "{actor} must not edit"
        );
    }
    let page = post_outcome(&app, "ada", id, "edit", &edit).await;
    assert!(
        page.contains(&format!("Request #{id} saved (title changed).")),
        "the requester edits"
    );

    // Cancelling: the requester, operations or an administrator.
    for actor in ["wes", "ben", "cleo"] {
        let page = post_outcome(&app, actor, id, "cancel", &[("reason", "")]).await;
        assert!(
            page.contains("Only the requester or operations may cancel a request."),
            "{actor}"
        );
    }
    for actor in ["ada", "olga", "root"] {
        let own = new_request(&app).await;
        let page = post_outcome(
            &app,
            actor,
            own,
            "cancel",
            &[("reason", "no longer needed")],
        )
        .await;
        assert!(
            page.contains(&format!("Request #{own} cancelled.")),
            "{actor} may cancel"
        );
    }

    // Submitting: only a team the policy names.
    as_actor(&app, None).await;
    let anonymous = app
        .client
        .post(app.url("/requests"))
        .form(&[("app", "banking")])
        .send()
        .await
        .expect("post");
    assert!(location(&anonymous).starts_with("/login"));
}

async fn malformed_server_function_calls_are_answered_400(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    app.login_as("olga").await;
    for (name, body) in [
        ("requests/get", "id=abc&with_notice=false"),
        ("requests/get", "id=1"),
        ("requests/get", ""),
        ("requests/board", ""),
    ] {
        let resp = app.rpc_with(name, body).await;
        let status = resp.status();
        let text = resp.text().await.expect("body");
        assert_eq!(status, 400, "{name} with {body:?}: {text}");
        assert!(text.contains("BadRequest"), "{text}");
    }
}

crate::on_both_databases!(
    every_route_and_function_answers_each_kind_of_user_as_intended,
    malformed_server_function_calls_are_answered_400,
);
