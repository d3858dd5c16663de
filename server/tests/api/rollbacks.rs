//! Rolling back: to the last other version that succeeded at the target, from the request's
//! page, under the environment's rollback path; marked, and counted by the delivery metrics; on
//! both databases.

use crate::dispatch::{deployed, submit_raw, until_state, WORKER};
use crate::helpers::*;
use crate::request_pages::{post_form, valid_form};
use crate::requests::{approve, draft, state};
use server::domain::request::RawDraft;
use server::service::error::Error;

fn rollback(of: i64, version: &str) -> RawDraft {
    RawDraft {
        change: "rollback".into(),
        rollback_of: of.to_string(),
        ..draft(version)
    }
}

async fn a_failed_deployment_is_rolled_back_to_the_last_version_that_succeeded(kind: Kind) {
    let Some(app) = spawn_app_with(kind, WORKER).await else {
        return;
    };
    let (good, _) = deployed(&app, "2.4.0", "succeeded").await;
    let (bad, _) = deployed(&app, "2.4.1-fail", "failed").await;

    // The failed request's page offers the rollback, and the form comes filled in.
    app.login_as("ada").await;
    let page = app.get_html(&format!("/requests/{bad}")).await;
    let link = format!("/requests/new?app=banking&amp;env=staging&amp;rollback={bad}");
    assert!(page.contains(&link), "the page links to the rollback form");
    assert!(page.contains("Roll back to 2.4.0"), "and names the version");
    let form = app
        .get_html(&format!(
            "/requests/new?app=banking&env=staging&rollback={bad}"
        ))
        .await;
    assert!(
        form.contains("Roll back Banking Staging to 2.4.0"),
        "the heading"
    );
    assert!(
        form.contains("value=\"2.4.0\""),
        "the version it brings back"
    );
    assert!(
        form.contains(&format!("name=\"rollback_of\" value=\"{bad}\"")),
        "what it rolls back"
    );

    // Another version, or a request that is not of this target, is refused by field.
    let refused = submit_raw(&app, "ada", "banking", "staging", &rollback(bad, "2.3.0")).await;
    match refused {
        Err(Error::Invalid(errors)) => {
            assert!(errors["version"].contains("deploys 2.4.0"), "{errors:?}")
        }
        other => panic!("expected a field error, got {other:?}"),
    }
    let refused = submit_raw(
        &app,
        "ada",
        "banking",
        "production",
        &rollback(bad, "2.4.0"),
    )
    .await;
    assert!(
        matches!(&refused, Err(Error::Invalid(e)) if e.contains_key("rollback_of")),
        "{refused:?}"
    );
    // Nor another artifact than the one deployed with 2.4.0 (none).
    let other = RawDraft {
        artifact: format!("sha256:{}", "ab".repeat(32)),
        ..rollback(bad, "2.4.0")
    };
    let refused = submit_raw(&app, "ada", "banking", "staging", &other).await;
    assert!(
        matches!(&refused, Err(Error::Invalid(e)) if e.contains_key("artifact")),
        "{refused:?}"
    );
    // Nor can a request still waiting be rolled back.
    let open = submit_raw(&app, "ada", "banking", "staging", &draft("2.4.2"))
        .await
        .expect("open");
    let refused = submit_raw(&app, "ada", "banking", "staging", &rollback(open, "2.4.0")).await;
    assert!(
        matches!(&refused, Err(Error::Invalid(e)) if e.contains_key("rollback_of")),
        "{refused:?}"
    );

    // Through the form: Banking staging has no rollback path, so its owner approves as usual.
    let mut fields = valid_form("2.4.0");
    fields.retain(|(k, _)| *k != "env");
    fields.push(("env", "staging".into()));
    fields.push(("change", "rollback".into()));
    fields.push(("rollback_of", bad.to_string()));
    let resp = post_form(&app, "/requests", &fields).await;
    assert_eq!(resp.status(), 303);
    let page = location(&resp);
    let id: i64 = page
        .trim_start_matches("/requests/")
        .parse()
        .expect("a request");
    assert_eq!(state(&app, id).await, "pending_approval");
    // A rollback takes no edit: it deploys what it was checked against.
    let refused = server::service::requests::edit(
        &app.state.db,
        &app.state.catalog.current(),
        &app.user("ada").await,
        id,
        crate::requests::revision(&app, id).await,
        &draft("2.4.9"),
    )
    .await;
    assert!(
        matches!(&refused, Err(Error::Conflict(m)) if m.contains("A rollback deploys")),
        "{refused:?}"
    );
    approve(&app, "ben", id).await.expect("ben");
    until_state(&app, id, "succeeded").await;
    let html = app.get_html(&page).await;
    assert!(
        html.contains(&format!("Rollback of #{bad}")),
        "the page marks it"
    );
    assert!(
        html.contains(&format!("opened it to roll back request #{bad}")),
        "the timeline says so"
    );
    let board = app.get_html("/board").await;
    assert!(board.contains("badge-rollback"), "the board marks it");

    // The delivery metrics know it for a rollback.
    let kept = server::db::deployments::since(&app.state.db, &["banking".into()], "staging", 0)
        .await
        .expect("deployments");
    let flags: Vec<(i64, bool)> = kept.iter().map(|d| (d.request_id, d.rollback)).collect();
    assert_eq!(flags, [(good, false), (bad, false), (id, true)]);
}

crate::on_both_databases!(a_failed_deployment_is_rolled_back_to_the_last_version_that_succeeded,);
