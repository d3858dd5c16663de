//! Account administration through the admin page's forms: create, teams, disable and enable,
//! password reset, administration rights; each change in the administration trail, which
//! `runway audit verify` checks like a request's.

use crate::cli::{runway, text};
use crate::helpers::*;

/// The id of `username`.
async fn id_of(app: &TestApp, username: &str) -> i64 {
    app.user(username).await.id
}

/// Signs `client` in; the answer, not followed.
async fn sign_in(
    app: &TestApp,
    client: &reqwest::Client,
    who: &str,
    password: &str,
) -> reqwest::Response {
    client
        .post(app.url("/login"))
        .form(&[("username", who), ("password", password), ("next", "")])
        .send()
        .await
        .expect("login")
}

/// The secret the page shows once after a post.
fn secret_in(page: &str) -> String {
    let start = page.find("data-testid=\"secret\">").expect("secret shown") + 21;
    let end = page[start..].find('<').expect("end") + start;
    page[start..end].to_owned()
}

async fn admin_trail(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar("select kind from admin_events order by event_id")
        .fetch_all(&app.state.db.pool)
        .await
        .expect("trail")
}

async fn sessions_of(app: &TestApp, id: i64) -> i64 {
    sqlx::query_scalar("select count(*) from sessions where user_id = $1")
        .bind(id)
        .fetch_one(&app.state.db.pool)
        .await
        .expect("sessions")
}

async fn an_admin_creates_an_account_that_signs_in_with_the_password_shown_once(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    app.login_as("root").await;
    let page = app
        .post_form_then_page(
            "/admin/users/new",
            "username=grace&display_name=Grace+Hopper&email=grace%40example.com&teams=fintech&teams=cab",
        )
        .await;
    assert!(page.contains("grace can sign in now."), "{page}");
    let password = secret_in(&page);
    assert!(password.len() >= 16, "{password}");
    let again = app.get_html("/admin/users").await;
    assert!(!again.contains(&password), "the password is shown once");
    assert!(
        again.contains("Grace Hopper") && again.contains("cab, fintech"),
        "{again}"
    );
    assert!(
        again.contains("created grace (Grace Hopper), in cab, fintech"),
        "{again}"
    );

    let signed_in = sign_in(&app, &client(), "grace", &password).await;
    assert_eq!(location(&signed_in), "/");
    let user = app.user("grace").await;
    assert_eq!(user.teams, ["cab", "fintech"]);
    assert!(!user.is_admin);

    // Refused input names its field and makes nothing.
    let refused = app
        .post_form_then_page(
            "/admin/users/new",
            "username=no+spaces&display_name=&teams=nasa",
        )
        .await;
    assert!(refused.contains("is not a user name"), "{refused}");
    assert!(
        refused.contains("The catalog has no team nasa"),
        "{refused}"
    );
    assert!(
        refused.contains("value=\"no spaces\""),
        "the form is filled in again"
    );
    let taken = app
        .post_form_then_page("/admin/users/new", "username=grace&display_name=Other")
        .await;
    assert!(
        taken.contains("A user named grace already exists."),
        "{taken}"
    );
    assert_eq!(admin_trail(&app).await, ["user_created"]);

    // Nobody but an administrator may.
    app.login_as("olga").await;
    let page = app.rpc_with("accounts", "q=").await;
    assert_eq!(page.status(), 403);
    let forbidden = app
        .post_form(
            "/admin/users/new",
            "username=mallory&display_name=Mallory&admin=on",
        )
        .await;
    assert_eq!(forbidden.status(), 403);
    let escalate = app
        .post_form(
            &format!("/admin/users/{}/admin", id_of(&app, "olga").await),
            "admin=on",
        )
        .await;
    assert_eq!(escalate.status(), 403);
    assert!(!app.user("olga").await.is_admin);
    assert_eq!(admin_trail(&app).await, ["user_created"]);
}

async fn disabling_ends_every_session_at_once_and_enabling_revives_none(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let ada = app.client_of("ada").await;
    let ada_elsewhere = app.client_of("ada").await;
    let ada_id = id_of(&app, "ada").await;
    assert_eq!(sessions_of(&app, ada_id).await, 2);
    app.login_as("root").await;
    let page = app
        .post_form_then_page(&format!("/admin/users/{ada_id}/disable"), "")
        .await;
    assert!(
        page.contains("ada is disabled: every session of theirs has ended."),
        "{page}"
    );
    assert_eq!(sessions_of(&app, ada_id).await, 0);
    for c in [&ada, &ada_elsewhere] {
        let answer = c.get(app.url("/approvals")).send().await.expect("page");
        assert_eq!(answer.status(), 303, "signed out at once");
    }
    let refused = sign_in(&app, &ada, "ada", DEMO_PASSWORD).await;
    assert!(location(&refused).contains("error=disabled"));

    app.post_form_then_page(&format!("/admin/users/{ada_id}/enable"), "")
        .await;
    let answer = ada_elsewhere
        .get(app.url("/approvals"))
        .send()
        .await
        .expect("page");
    assert_eq!(answer.status(), 303, "an old session stays ended");
    let back = sign_in(&app, &ada, "ada", DEMO_PASSWORD).await;
    assert_eq!(location(&back), "/");

    // An administrator cannot lock themselves (or the portal) out.
    let root_id = id_of(&app, "root").await;
    let own = app
        .post_form_then_page(&format!("/admin/users/{root_id}/disable"), "")
        .await;
    assert!(
        own.contains("You cannot disable your own account."),
        "{own}"
    );
    let own = app
        .post_form_then_page(&format!("/admin/users/{root_id}/admin"), "admin=off")
        .await;
    assert!(
        own.contains("You cannot remove your own administration rights"),
        "{own}"
    );
    assert!(app.user("root").await.is_admin);
    assert_eq!(admin_trail(&app).await, ["user_disabled", "user_enabled"]);
}

async fn teams_passwords_and_rights_change_and_are_audited(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let wes = app.client_of("wes").await;
    let wes_id = id_of(&app, "wes").await;
    let mut stream = wes.get(app.url("/events")).send().await.expect("events");
    assert_eq!(stream.status(), 200);
    app.login_as("root").await;
    let page = app
        .post_form_then_page(
            &format!("/admin/users/{wes_id}/teams"),
            "teams=banking-owners&teams=web",
        )
        .await;
    assert!(page.contains("wes's teams are saved."), "{page}");
    assert_eq!(app.user("wes").await.teams, ["banking-owners", "web"]);
    let unknown = app
        .post_form_then_page(&format!("/admin/users/{wes_id}/teams"), "teams=nasa")
        .await;
    assert!(
        unknown.contains("The catalog has no team nasa"),
        "{unknown}"
    );
    assert_eq!(app.user("wes").await.teams, ["banking-owners", "web"]);

    let page = app
        .post_form_then_page(&format!("/admin/users/{wes_id}/password"), "")
        .await;
    let password = secret_in(&page);
    let answer = wes.get(app.url("/approvals")).send().await.expect("page");
    assert_eq!(answer.status(), 303, "the reset ends Wes's session");
    let ended = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the live stream of the ended session ends");
    assert!(location(&app.login("wes", DEMO_PASSWORD).await).contains("error=credentials"));
    assert_eq!(location(&app.login("wes", &password).await), "/");

    app.login_as("root").await;
    app.post_form_then_page(&format!("/admin/users/{wes_id}/admin"), "admin=on")
        .await;
    assert!(app.user("wes").await.is_admin);
    let page = app
        .post_form_then_page(&format!("/admin/users/{wes_id}/admin"), "admin=off")
        .await;
    assert!(
        page.contains("wes is no longer an administrator."),
        "{page}"
    );
    assert_eq!(
        admin_trail(&app).await,
        [
            "teams_set",
            "password_reset",
            "admin_granted",
            "admin_removed"
        ]
    );
    let trail = app.get_html("/admin/users?q=wes").await;
    assert!(
        trail.contains("moved wes from web to banking-owners, web"),
        "{trail}"
    );
    assert!(trail.contains("1 account(s) match"), "{trail}");
}

async fn verify_finds_the_administration_trail_altered(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    app.login_as("root").await;
    for who in ["ada", "ben", "wes"] {
        let id = id_of(&app, who).await;
        app.post_form_then_page(&format!("/admin/users/{id}/password"), "")
            .await;
    }
    let env = [("RUNWAY_DATABASE_URL", app.db.url.as_str())];
    let ok = runway(&["audit", "verify"], &env, "");
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(
        text(&ok).contains("and 3 administration events"),
        "{}",
        text(&ok)
    );

    let ids: Vec<i64> = sqlx::query_scalar("select event_id from admin_events order by event_id")
        .fetch_all(&app.state.db.pool)
        .await
        .expect("ids");
    sqlx::query(
        "update admin_events set payload = replace(payload, 'ben', 'eve') where event_id = $1",
    )
    .bind(ids[1])
    .execute(&app.state.db.pool)
    .await
    .expect("tamper");
    let found = runway(&["audit", "verify"], &env, "");
    assert!(!found.status.success());
    assert!(
        text(&found).contains(&format!(
            "the administration trail, event {}: changed",
            ids[1]
        )),
        "{}",
        text(&found)
    );
}

crate::on_both_databases!(
    an_admin_creates_an_account_that_signs_in_with_the_password_shown_once,
    disabling_ends_every_session_at_once_and_enabling_revives_none,
    teams_passwords_and_rights_change_and_are_audited,
    verify_finds_the_administration_trail_altered,
);
