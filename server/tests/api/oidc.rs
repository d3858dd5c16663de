//! Sign-in through the company's OpenID provider: accounts made at the first sign-in, teams from
//! provider groups at every one, and every untrustworthy answer refused with a clear message.

use crate::fake_idp::{Forge, Idp, Person, CLIENT_ID, CLIENT_SECRET};
use crate::helpers::*;

fn fiona(groups: Vec<&'static str>) -> Person {
    Person {
        sub: "00u-fiona",
        username: "fiona",
        name: "Fiona Fintech",
        groups,
    }
}

async fn with_provider(kind: Kind, idp: &Idp, extra: &[(&str, &str)]) -> Option<TestApp> {
    let mut vars = vec![
        ("RUNWAY_OIDC_ISSUER", idp.base.as_str()),
        ("RUNWAY_OIDC_CLIENT_ID", CLIENT_ID),
        ("RUNWAY_OIDC_CLIENT_SECRET", CLIENT_SECRET),
        ("RUNWAY_OIDC_LABEL", "Acme SSO"),
    ];
    vars.extend_from_slice(extra);
    spawn_app_with(kind, &vars).await
}

/// Goes through the provider as `person`, the provider answering as `forge` says; the portal's
/// answer to the browser coming back.
async fn through(app: &TestApp, idp: &Idp, person: &Person, forge: Forge) -> reqwest::Response {
    let start = app.get("/auth/oidc/start?next=/board").await;
    assert_eq!(start.status(), 303, "sent to the provider");
    let (back, _) = idp.authorize(&location(&start), person, forge);
    app.client.get(back).send().await.expect("callback")
}

/// The login page the portal sent the browser to, and its text.
async fn refused_with(app: &TestApp, resp: reqwest::Response) -> String {
    let to = location(&resp);
    assert!(to.starts_with("/login?error="), "{to}");
    app.get_html(&to).await
}

async fn teams_of(app: &TestApp, username: &str) -> Vec<String> {
    app.user(username).await.teams
}

async fn first_sign_in_makes_the_account_and_teams_follow_the_groups(kind: Kind) {
    let idp = Idp::start().await;
    let Some(app) = with_provider(kind, &idp, &[]).await else {
        return;
    };
    let login = app.get_html("/login").await;
    assert!(login.contains("Sign in with Acme SSO"), "{login}");
    let resp = through(&app, &idp, &fiona(vec!["fin-devs"]), Forge::Honest).await;
    assert_eq!(location(&resp), "/board", "signed in and sent on");
    let user = app.user("fiona").await;
    assert_eq!(user.display_name, "Fiona Fintech");
    assert_eq!(user.teams, ["fintech"]);
    assert!(app.get_html("/board").await.contains("Fiona Fintech"));
    // Her groups changed at the provider: her teams follow at her next sign-in.
    app.logout().await;
    let resp = through(
        &app,
        &idp,
        &fiona(vec!["web-devs", "all-staff"]),
        Forge::Honest,
    )
    .await;
    assert_eq!(location(&resp), "/board");
    assert_eq!(teams_of(&app, "fiona").await, ["web"]);
    let trail: Vec<String> = sqlx::query_scalar("select kind from admin_events order by event_id")
        .fetch_all(&app.state.db.pool)
        .await
        .expect("trail");
    assert_eq!(trail, ["joined_through_provider", "teams_from_provider"]);
    // The administrator may not set her teams nor reset a password she does not have.
    let id = app.user("fiona").await.id;
    app.logout().await;
    app.login_as("root").await;
    let page = app
        .post_form_then_page(&format!("/admin/users/{id}/teams"), "teams=ops")
        .await;
    assert!(
        page.contains("signs in through the identity provider"),
        "{page}"
    );
    assert_eq!(teams_of(&app, "fiona").await, ["web"]);
    // Disabled, she is refused at her next sign-in.
    app.post_form(&format!("/admin/users/{id}/disable"), "")
        .await;
    app.logout().await;
    let resp = through(&app, &idp, &fiona(vec!["fin-devs"]), Forge::Honest).await;
    assert!(refused_with(&app, resp)
        .await
        .contains("This account is disabled"));
}

async fn a_local_account_is_never_taken_over_by_a_provider_name(kind: Kind) {
    let idp = Idp::start().await;
    let Some(app) = with_provider(kind, &idp, &[]).await else {
        return;
    };
    let root = Person {
        sub: "00u-mallory",
        username: "root",
        name: "Mallory",
        groups: vec![],
    };
    let resp = through(&app, &idp, &root, Forge::Honest).await;
    assert_eq!(location(&resp), "/board");
    let me = app.get_html("/profile").await;
    assert!(
        me.contains("root-2") && !me.contains("Administrator"),
        "{me}"
    );
    assert!(
        app.user("root").await.is_admin,
        "the local root is untouched"
    );
    assert!(!app.user("root-2").await.is_admin);
}

async fn untrustworthy_answers_are_refused_with_a_clear_message(kind: Kind) {
    let idp = Idp::start().await;
    let Some(app) = with_provider(kind, &idp, &[]).await else {
        return;
    };
    let cases = [
        (Forge::Tampered, "its signature does not match"),
        (Forge::WrongNonce, "its nonce does not match"),
        (Forge::Expired, "it has expired"),
        (
            Forge::KeyB,
            "signed with a key the provider does not publish",
        ),
    ];
    for (forge, message) in cases {
        let resp = through(&app, &idp, &fiona(vec!["fin-devs"]), forge).await;
        let page = refused_with(&app, resp).await;
        assert!(page.contains(message), "{forge:?}: {page}");
        assert!(
            app.get("/board").await.status().is_redirection(),
            "{forge:?}: not signed in"
        );
    }
    let users: i64 = sqlx::query_scalar("select count(*) from users where idp_subject is not null")
        .fetch_one(&app.state.db.pool)
        .await
        .expect("count");
    assert_eq!(users, 0, "no account made from a refused token");
    // The provider rotates to key b: the portal fetches its keys again and trusts the new one.
    idp.publish(&["b"]);
    let resp = through(&app, &idp, &fiona(vec!["fin-devs"]), Forge::KeyB).await;
    assert_eq!(location(&resp), "/board");
}

async fn a_sign_in_cannot_be_replayed_nor_finished_in_another_browser(kind: Kind) {
    let idp = Idp::start().await;
    let Some(app) = with_provider(kind, &idp, &[]).await else {
        return;
    };
    let start = app.get("/auth/oidc/start").await;
    let (back, _) = idp.authorize(&location(&start), &fiona(vec![]), Forge::Honest);
    // Another browser (no session of this sign-in) comes back with the code.
    let other = client();
    let resp = other.get(&back).send().await.expect("callback");
    assert!(refused_with(&app, resp)
        .await
        .contains("did not start in this browser"));
    // A forged state in the right browser.
    let forged = back.replace("state=", "state=x");
    let resp = app.client.get(&forged).send().await.expect("callback");
    assert!(refused_with(&app, resp)
        .await
        .contains("did not start in this browser"));
    // The secrets were spent by that try: the genuine answer is refused too.
    let resp = app.client.get(&back).send().await.expect("callback");
    assert!(refused_with(&app, resp)
        .await
        .contains("did not start in this browser"));
}

async fn a_misconfigured_provider_leaves_local_administrators_a_way_in(kind: Kind) {
    // Nothing listens on the issuer's port.
    let unreachable = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}", l.local_addr().expect("addr"))
    };
    let vars = [
        ("RUNWAY_OIDC_ISSUER", unreachable.as_str()),
        ("RUNWAY_OIDC_CLIENT_ID", CLIENT_ID),
        ("RUNWAY_OIDC_LABEL", "Acme SSO"),
        ("RUNWAY_LOCAL_PASSWORDS", "false"),
        ("RUNWAY_BREAK_GLASS", "root"),
    ];
    let Some(app) = spawn_app_with(kind, &vars).await else {
        return;
    };
    let login = app.get_html("/login").await;
    assert!(
        login.contains("Sign in with Acme SSO is unavailable right now"),
        "{login}"
    );
    assert!(login.contains("break-glass"), "{login}");
    let resp = app.get("/auth/oidc/start").await;
    assert!(refused_with(&app, resp)
        .await
        .contains("unavailable right now"));
    // Passwords are off, except for the break-glass administrator. A wrong password gets the
    // same answer for every name, so the break-glass names cannot be found out.
    for who in ["ada", "root"] {
        let resp = app.login(who, "not the password").await;
        assert!(refused_with(&app, resp)
            .await
            .contains("Wrong user name or password"));
    }
    let resp = app.login("ada", DEMO_PASSWORD).await;
    let page = refused_with(&app, resp).await;
    assert!(page.contains("Passwords are switched off here"), "{page}");
    app.login_as("root").await;
}

async fn a_wrong_client_secret_is_named_unavailable(kind: Kind) {
    let idp = Idp::start().await;
    let Some(app) = with_provider(kind, &idp, &[("RUNWAY_OIDC_CLIENT_SECRET", "wrong")]).await
    else {
        return;
    };
    let resp = through(&app, &idp, &fiona(vec!["fin-devs"]), Forge::Honest).await;
    assert!(refused_with(&app, resp)
        .await
        .contains("unavailable right now"));
}

crate::on_both_databases!(
    first_sign_in_makes_the_account_and_teams_follow_the_groups,
    a_local_account_is_never_taken_over_by_a_provider_name,
    untrustworthy_answers_are_refused_with_a_clear_message,
    a_sign_in_cannot_be_replayed_nor_finished_in_another_browser,
    a_misconfigured_provider_leaves_local_administrators_a_way_in,
    a_wrong_client_secret_is_named_unavailable,
);
