//! A fan-out through a real Buildbot: Banking staging deploys to two regions in parallel, one of
//! them down; the other finishes, and once the region is back operations retry it alone.

use crate::buildbot::Buildbot;
use crate::dispatch::{submit, until_state, WORKER};
use crate::helpers::*;
use crate::requests::approve;
use server::db::dispatch::runs;

async fn a_region_down_fails_alone_then_its_retry_deploys(kind: Kind) {
    let Some(bb) = tokio::task::spawn_blocking(Buildbot::create)
        .await
        .expect("create")
    else {
        return;
    };
    bb.start().await;
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let catalog = bb.catalog_of(&app, &["regions"]);
    let (db, _) = app.stop().await;
    let app = start(db, catalog, WORKER).await;
    bb.outage("us", true);

    let id = submit(&app, "ada", "banking", "staging", "2.5.0").await;
    approve(&app, "ben", id)
        .await
        .expect("one approval for both regions");
    until_state(&app, id, "failed").await;
    let all = runs(&app.state.db.pool, id).await.expect("runs");
    let mut seen: Vec<_> = all
        .iter()
        .map(|r| (r.target_id.as_str(), r.step.as_str(), r.state.as_str()))
        .collect();
    seen.sort_unstable();
    assert_eq!(
        seen,
        [
            ("eu", "deploy", "succeeded"),
            ("eu", "provision", "succeeded"),
            ("us", "deploy", "failed"),
            ("us", "provision", "succeeded"),
        ]
    );
    let deploy_of = |runs: &[server::db::dispatch::RunRow], region: &str| {
        runs.iter()
            .filter(|r| r.target_id == region && r.step == "deploy")
            .max_by_key(|r| r.attempt)
            .cloned()
            .expect("a deploy run")
    };
    // Each region's build got its own parameters, and says so in Buildbot's words.
    let eu = deploy_of(&all, "eu");
    assert!(
        eu.log_tail
            .contains("deploying banking 2.5.0 to staging in eu"),
        "{}",
        eu.log_tail
    );
    let us = deploy_of(&all, "us");
    assert!(us.log_tail.contains("region us is down"), "{}", us.log_tail);
    assert!(us.message.contains("failure"), "{}", us.message);

    // The region is back: operations retry it alone, from the request page's form.
    bb.outage("us", false);
    app.login_as("olga").await;
    let page = app.get_html(&format!("/requests/{id}")).await;
    assert!(
        page.contains("Retry us") && !page.contains("Retry eu"),
        "{page}"
    );
    let said = crate::fan_out::retry_by_form(&app, id, "us").await;
    assert!(said.contains("will run again (attempt 2)."), "{said}");
    until_state(&app, id, "succeeded").await;
    let all = runs(&app.state.db.pool, id).await.expect("runs");
    let us = deploy_of(&all, "us");
    assert_eq!((us.attempt, us.state.as_str()), (2, "succeeded"));
    assert!(
        us.log_tail
            .contains("deploying banking 2.5.0 to staging in us"),
        "{}",
        us.log_tail
    );
    // Europe ran once: four builds, and the one retry.
    assert_eq!(all.len(), 5, "{all:?}");
    assert_eq!(bb.build_sets().await.len(), 5);
    let page = app.get_html(&format!("/requests/{id}")).await;
    assert_eq!(page.matches("Open the CI run").count(), 5, "{page}");
}

crate::on_both_databases!(a_region_down_fails_alone_then_its_retry_deploys);
