//! The tools' form posts: each sends the browser back to its page, where the outcome shows once.

use crate::helpers::*;
use crate::on_both_databases;

on_both_databases!(
    a_token_made_through_the_form_shows_its_secret_once,
    a_refused_token_form_comes_back_filled_in_with_its_fields_named,
    a_dry_run_answers_on_the_gate_page_and_keeps_the_question,
    a_ticket_is_worked_through_its_form,
);

/// What the gate answers a pipeline asking with `secret`.
async fn gate_status(app: &TestApp, secret: &str) -> u16 {
    app.client
        .post(app.url("/api/v1/gate"))
        .bearer_auth(secret)
        .json(&serde_json::json!({
            "application": "banking", "environment": "staging", "version": "8.8.8"
        }))
        .send()
        .await
        .expect("gate")
        .status()
        .as_u16()
}

async fn a_token_made_through_the_form_shows_its_secret_once(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    app.login_as("root").await;
    let page = app
        .post_form_then_page(
            "/admin/tokens/new",
            "name=Jenkins+banking&gate_read=on&applications=banking&acts_as=",
        )
        .await;
    assert!(page.contains("Copy its secret now"), "{page}");
    let secret = page
        .split("data-testid=\"secret\">")
        .nth(1)
        .map(|rest| rest[..52].to_owned())
        .expect("the secret is on the page");
    assert!(secret.starts_with("rwy_"), "{secret}");
    let again = app.get_html("/admin/tokens").await;
    assert!(!again.contains(&secret), "the secret is shown once only");
    assert!(again.contains("Jenkins banking"));
    assert_eq!(gate_status(&app, &secret).await, 200, "the new token works");

    let id = server::db::tokens::tokens(&app.state.db)
        .await
        .expect("tokens")[0]
        .id;
    let page = app
        .post_form_then_page(&format!("/admin/tokens/{id}/revoke"), "")
        .await;
    assert!(page.contains(&format!("Token {id} revoked.")), "{page}");
    assert_eq!(
        gate_status(&app, &secret).await,
        401,
        "a revoked token is refused"
    );
}

async fn a_refused_token_form_comes_back_filled_in_with_its_fields_named(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    app.login_as("root").await;
    let page = app
        .post_form_then_page(
            "/admin/tokens/new",
            "name=&events_write=on&applications=nosuchapp&acts_as=",
        )
        .await;
    assert!(
        page.contains("Please correct the fields marked below."),
        "{page}"
    );
    assert!(
        page.contains("nosuchapp"),
        "the typed value comes back: {page}"
    );
    assert!(
        page.contains("<strong>name</strong>"),
        "the field is named: {page}"
    );
    assert!(page.contains("<strong>applications</strong>"), "{page}");
    assert!(
        server::db::tokens::tokens(&app.state.db)
            .await
            .expect("tokens")
            .is_empty(),
        "nothing made"
    );
    // The form came back as it was sent: events:write ticked, gate:read not.
    let ticked = |name: &str| {
        page.split(&format!("name=\"{name}\""))
            .nth(1)
            .and_then(|rest| rest.split('>').next())
            .is_some_and(|attrs| attrs.contains("checked"))
    };
    assert!(ticked("events_write") && !ticked("gate_read"), "{page}");
    // Shown once: the next visit is a clean form.
    let again = app.get_html("/admin/tokens").await;
    assert!(!again.contains("nosuchapp"));
}

async fn a_dry_run_answers_on_the_gate_page_and_keeps_the_question(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    app.login_as("ada").await;
    let page = app
        .post_form_then_page(
            "/gate/dry-run",
            "application=banking&environment=production&version=2.4.0&artifact=&actor=fintech&at=2026-12-24T10%3A00",
        )
        .await;
    assert!(page.contains("data-testid=\"gate-answer\""), "{page}");
    assert!(
        page.contains("no request asks for Banking 2.4.0 to Production"),
        "{page}"
    );
    assert!(
        page.contains("value=\"2.4.0\""),
        "the question stays in the form"
    );
    let checks = server::db::gate_checks::gate_checks(&app.state.db, 10)
        .await
        .expect("checks");
    assert!(
        checks.len() == 1 && checks[0].dry_run,
        "recorded as a dry run"
    );

    let page = app
        .post_form_then_page(
            "/gate/dry-run",
            "application=banking&environment=production&version=&artifact=&actor=&at=",
        )
        .await;
    assert!(page.contains("<strong>version</strong>"), "{page}");
}

async fn a_ticket_is_worked_through_its_form(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let ada = app.user("ada").await;
    let id = server::service::requests::submit(
        &app.state.db,
        &app.state.catalog.current(),
        &ada,
        "banking",
        "staging",
        &crate::requests::draft("2.4.0"),
    )
    .await
    .expect("submitted");
    // A failed stage raises a ticket for Fintech.
    let secret = crate::pipeline_api::token(&app, &["events:write"], &["banking"]).await;
    let (status, _, _) = crate::pipeline_api::call(
        &app,
        reqwest::Method::POST,
        &format!("/api/v1/requests/{id}/events"),
        Some(&secret),
        Some(serde_json::json!({ "stage": "integration tests", "status": "failed" })),
    )
    .await;
    assert_eq!(status, 201);
    app.login_as("ada").await;
    let page = app
        .post_form_then_page("/tickets/1/work", "action=resolve&comment=")
        .await;
    assert!(page.contains("Say how it was resolved."), "{page}");
    let page = app
        .post_form_then_page("/tickets/1/work", "action=acknowledge&comment=On+it")
        .await;
    assert!(page.contains("The ticket is acknowledged."), "{page}");
    assert!(page.contains("On it"), "{page}");
    app.logout().await;
    app.login_as("wes").await;
    let refused = app
        .post_form("/tickets/1/work", "action=comment&comment=hi")
        .await;
    assert_eq!(refused.status(), 403, "Web does not work Fintech's ticket");
}
