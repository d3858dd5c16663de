//! Standard (pre-approved) changes: a release that meets one of its environment's rules (risk,
//! fields, a patch of the version deployed there, the CI's evidence for its version) is approved
//! as it is opened; one that meets none goes the normal way, told which conditions failed; on
//! both databases.

use crate::dispatch::{submit, submit_raw, until_state, WORKER};
use crate::helpers::*;
use crate::pipeline_api::{call, token_as};
use crate::requests::{approve, draft, state};
use serde_json::json;
use server::domain::request::RawDraft;

fn storefront(version: &str, risk: &str) -> RawDraft {
    RawDraft {
        risk: risk.into(),
        fields: Default::default(),
        ..draft(version)
    }
}

async fn a_release_meeting_a_standard_rule_is_approved_at_once(kind: Kind) {
    let Some(app) = spawn_app_with(kind, WORKER).await else {
        return;
    };
    // 5.0.0 reaches production the normal way: the Web lead approves.
    let first = submit(&app, "wes", "storefront", "production", "5.0.0").await;
    assert_eq!(state(&app, first).await, "pending_approval");
    approve(&app, "pia", first).await.expect("pia");
    until_state(&app, first, "succeeded").await;

    // Without CI evidence, a low-risk patch is no standard change, and says why.
    let bare = submit_raw(
        &app,
        "wes",
        "storefront",
        "production",
        &storefront("5.0.1", "low"),
    )
    .await
    .expect("opened");
    assert_eq!(state(&app, bare).await, "pending_approval");
    app.login_as("wes").await;
    let page = app.get_html(&format!("/requests/{bare}")).await;
    assert!(
        page.contains(
            "Not a standard change, so it needs approval: “Low-risk patch”: the CI posted no \
             test stage for this version; the CI posted no coverage for this version. \
             “Content only”: content_only is not ticked."
        ),
        "the page says which conditions failed"
    );

    // The pipeline posts 5.0.2's tests against its staging request.
    let staging = submit(&app, "wes", "storefront", "staging", "5.0.2").await;
    let secret = token_as(&app, "ci", "wes", &["events:write"], &["storefront"]).await;
    let (status, answer, _) = call(
        &app,
        reqwest::Method::POST,
        &format!("/api/v1/requests/{staging}/events"),
        Some(&secret),
        Some(json!({ "stage": "test", "status": "succeeded", "metrics": { "coverage": 85.5 } })),
    )
    .await;
    assert_eq!(status, 201, "{answer}");

    // Now a low-risk 5.0.2 meets "Low-risk patch" and is approved as it is opened.
    let patch = submit_raw(
        &app,
        "wes",
        "storefront",
        "production",
        &storefront("5.0.2", "low"),
    )
    .await
    .expect("opened");
    assert_ne!(state(&app, patch).await, "pending_approval");
    let page = app.get_html(&format!("/requests/{patch}")).await;
    assert!(
        page.contains("Approved: the standard change rule “Low-risk patch” is met"),
        "the rule is named on the timeline"
    );
    assert!(
        page.contains("Standard change: Low-risk patch"),
        "the page marks it"
    );
    until_state(&app, patch, "succeeded").await;
    let board = app.get_html("/board").await;
    assert!(board.contains("badge-standard"), "the board marks it");

    // The same release at medium risk goes the normal way.
    let medium = submit_raw(
        &app,
        "wes",
        "storefront",
        "production",
        &storefront("5.0.3", "medium"),
    )
    .await
    .expect("opened");
    assert_eq!(state(&app, medium).await, "pending_approval");

    // A content-only change needs neither a patch nor CI evidence.
    let mut content = storefront("6.0.0", "low");
    content.fields = [("content_only".to_owned(), "on".to_owned())].into();
    let content = submit_raw(&app, "wes", "storefront", "production", &content)
        .await
        .expect("opened");
    assert_ne!(state(&app, content).await, "pending_approval");
}

crate::on_both_databases!(a_release_meeting_a_standard_rule_is_approved_at_once,);
