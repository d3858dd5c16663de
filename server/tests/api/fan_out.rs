//! A deployment fanned out to several targets: Storefront production's two regions in the demo
//! catalog, through the `shell` connector, on both databases. One approval covers them; in
//! parallel a failed region lets the other finish, in order it stops those after it; operations
//! retry the failed region alone.

use crate::dispatch::{run_pid, stop_as_olga, submit, until_state, until_stopped, WORKER};
use crate::helpers::*;
use crate::requests::{approve, count, revision, state};
use server::db::dispatch::{runs, RunRow};
use std::time::Duration;

/// (target, step, attempt, state) of each run, by target then step.
fn by_target(runs: &[RunRow]) -> Vec<(String, String, i64, String)> {
    let mut all: Vec<_> = runs
        .iter()
        .map(|r| {
            (
                r.target_id.clone(),
                r.step.clone(),
                r.attempt,
                r.state.clone(),
            )
        })
        .collect();
    all.sort();
    all
}

fn row(target: &str, step: &str, attempt: i64, state: &str) -> (String, String, i64, String) {
    (target.into(), step.into(), attempt, state.into())
}

/// A portal whose Storefront production runs its regions `order`, Europe's jobs pausing
/// `eu_pause` seconds at each of their steps.
async fn portal(kind: Kind, order: &str, eu_pause: &str) -> Option<TestApp> {
    let db = TestDb::new(kind).await?;
    let catalog = test_catalog(&db);
    let text = std::fs::read_to_string(&catalog).expect("catalog");
    let (head, regions) = text.split_at(text.find("id = \"eu\"").expect("eu"));
    let (eu, us) = regions.split_at(regions.find("id = \"us\"").expect("us"));
    let eu = eu.replace(
        "DEMO_PAUSE = \"0\"",
        &format!("DEMO_PAUSE = \"{eu_pause}\""),
    );
    let text =
        format!("{head}{eu}{us}").replace("run = \"parallel\"", &format!("run = \"{order}\""));
    std::fs::write(&catalog, text).expect("write");
    Some(start(db, catalog, WORKER).await)
}

/// Wes asks for `version` of Storefront production and Pia approves: one approval for both regions.
async fn approved(app: &TestApp, version: &str) -> i64 {
    let id = submit(app, "wes", "storefront", "production", version).await;
    approve(app, "pia", id).await.expect("pia");
    id
}

async fn until_run(app: &TestApp, id: i64, done: impl Fn(&[RunRow]) -> bool) -> Vec<RunRow> {
    for _ in 0..300 {
        let runs = runs(&app.state.db.pool, id).await.expect("runs");
        if done(&runs) {
            return runs;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let runs = runs(&app.state.db.pool, id).await.expect("runs");
    panic!("request {id} never got there: {:?}", by_target(&runs));
}

fn site(app: &TestApp, region: &str) -> std::path::PathBuf {
    app.state
        .settings
        .data_dir
        .join(format!("sites/storefront-production-{region}/current"))
}

async fn a_failed_region_lets_the_other_finish_then_is_retried_alone(kind: Kind) {
    let Some(app) = portal(kind, "parallel", "1").await else {
        return;
    };
    let id = approved(&app, "7.2.0-fail-us").await;
    // The United States fail at once; Europe, slower, is still on its way: the request waits.
    let runs = until_run(&app, id, |r| {
        r.iter().any(|r| r.target_id == "us" && r.state == "failed")
    })
    .await;
    assert!(
        runs.iter()
            .any(|r| r.target_id == "eu" && r.finished_at.is_none()),
        "Europe still runs: {:?}",
        by_target(&runs)
    );
    assert_eq!(state(&app, id).await, "deploying");
    until_state(&app, id, "failed").await;
    let runs = runs_of(&app, id).await;
    assert_eq!(
        by_target(&runs),
        [
            row("eu", "deploy", 1, "succeeded"),
            row("eu", "provision", 1, "succeeded"),
            row("us", "deploy", 1, "failed"),
            row("us", "provision", 1, "succeeded"),
        ]
    );
    assert!(site(&app, "eu").exists() && !site(&app, "us").exists());
    // Each run carries its target in its key and its parameters.
    let eu = runs
        .iter()
        .find(|r| r.target_id == "eu" && r.step == "deploy");
    assert_eq!(
        eu.map(|r| r.run_key.clone()),
        Some(format!("runway-{id}-eu-deploy-1"))
    );
    // The incident names the region; one for the one failure.
    let tickets = count(
        &app,
        "select count(*) from tickets where request_id = $1 and title like '%Deployment of us failed%'",
        id,
    )
    .await;
    assert_eq!(tickets, 1);

    // The page shows each region's steps and offers to retry the failed one alone.
    app.login_as("olga").await;
    let page = app.get_html(&format!("/requests/{id}")).await;
    assert!(page.contains("Deploys to 2 targets in parallel"), "{page}");
    for (region, status) in [("eu", "succeeded"), ("us", "failed")] {
        let block = target_block(&page, region);
        assert!(block.contains(&format!(">{status}<")), "{region}: {block}");
    }
    assert!(page.contains("Retry United States") && !page.contains("Retry Europe"));
    assert!(page.contains("Deploy of us failed: "), "{page}");
    assert!(
        page.contains("Failed: every target ended, and United States failed"),
        "{page}"
    );

    // A target that did not fail is refused, by name; the failed one runs again, alone.
    let refused = retry_by_form(&app, id, "eu").await;
    assert!(
        refused.contains("\"eu\" is not a target whose step failed"),
        "{refused}"
    );
    retry_by_form(&app, id, "us").await;
    until_state(&app, id, "succeeded").await;
    assert_eq!(
        by_target(&runs_of(&app, id).await),
        [
            row("eu", "deploy", 1, "succeeded"),
            row("eu", "provision", 1, "succeeded"),
            row("us", "deploy", 1, "failed"),
            row("us", "deploy", 2, "succeeded"),
            row("us", "provision", 1, "succeeded"),
        ]
    );
    assert!(site(&app, "us").exists());

    // Kept for the delivery metrics: one failed deployment (when both regions had ended), then
    // the success; the same when read again from the audit trail at the next start.
    let kept = "select count(*) from deployments where request_id = $1";
    let failed = "select count(*) from deployments where request_id = $1 and succeeded = 0";
    assert_eq!(
        (count(&app, kept, id).await, count(&app, failed, id).await),
        (2, 1)
    );
    let again = crate::lead_time::restart_forgetting_deployments(app).await;
    assert_eq!(
        (
            count(&again, kept, id).await,
            count(&again, failed, id).await
        ),
        (2, 1)
    );
}

/// The signed-in operator retries `target` with the request page's form: the page it goes back
/// to, which says the retry is on its way (checked here) or why it is refused.
pub(crate) async fn retry_by_form(app: &TestApp, id: i64, target: &str) -> String {
    let body = format!("revision={}&target={target}", revision(app, id).await);
    let page = app
        .post_form_then_page(&format!("/requests/{id}/retry"), &body)
        .await;
    let on_its_way = match target {
        "*" => "will run again".to_owned(),
        one => format!("The deployment of {one} will run again"),
    };
    assert!(
        page.contains(&on_its_way) || page.contains("is not a target whose step failed"),
        "{page}"
    );
    page
}

/// The `<li>` of `region` on a request page.
fn target_block<'p>(page: &'p str, region: &str) -> &'p str {
    let start = page
        .find(&format!("data-target=\"{region}\""))
        .unwrap_or_else(|| panic!("no block for {region}"));
    let rest = &page[start..];
    &rest[..rest.find("</li><li class=\"target\"").unwrap_or(rest.len())]
}

async fn runs_of(app: &TestApp, id: i64) -> Vec<RunRow> {
    runs(&app.state.db.pool, id).await.expect("runs")
}

async fn in_order_a_failed_region_stops_the_next_until_it_is_retried(kind: Kind) {
    let Some(app) = portal(kind, "in_order", "0").await else {
        return;
    };
    let id = approved(&app, "7.3.0-fail-eu").await;
    until_state(&app, id, "failed").await;
    // Europe failed: the United States never started.
    assert_eq!(
        by_target(&runs_of(&app, id).await),
        [
            row("eu", "deploy", 1, "failed"),
            row("eu", "provision", 1, "succeeded"),
        ]
    );
    app.login_as("olga").await;
    let page = app.get_html(&format!("/requests/{id}")).await;
    assert!(page.contains("Deploys to 2 targets in order"), "{page}");
    assert!(target_block(&page, "us").contains(">skipped<"), "{page}");
    // One failed target: the retry needs no name.
    let olga = app.user("olga").await;
    let at = (id, revision(&app, id).await);
    let said = server::service::deployments::retry(&app.state, &olga, true, at, None)
        .await
        .expect("retried");
    assert_eq!(said, "The deployment of eu will run again (attempt 2).");
    until_state(&app, id, "succeeded").await;
    let runs = runs_of(&app, id).await;
    assert_eq!(
        by_target(&runs),
        [
            row("eu", "deploy", 1, "failed"),
            row("eu", "deploy", 2, "succeeded"),
            row("eu", "provision", 1, "succeeded"),
            row("us", "deploy", 1, "succeeded"),
            row("us", "provision", 1, "succeeded"),
        ]
    );
    // The United States started once Europe was done.
    let eu_done = runs
        .iter()
        .filter(|r| r.target_id == "eu")
        .filter_map(|r| r.finished_at)
        .max()
        .expect("eu ended");
    let us_started = runs
        .iter()
        .filter(|r| r.target_id == "us")
        .map(|r| r.started_at)
        .min()
        .expect("us started");
    assert!(us_started >= eu_done, "{us_started} < {eu_done}");
}

async fn operations_stop_every_region_of_a_parallel_deployment(kind: Kind) {
    let Some(app) = portal(kind, "parallel", "30").await else {
        return;
    };
    // The United States pause as long as Europe.
    let text = std::fs::read_to_string(&app.catalog)
        .expect("catalog")
        .replace("DEMO_PAUSE = \"0\"", "DEMO_PAUSE = \"30\"");
    std::fs::write(&app.catalog, text).expect("write");
    app.state
        .catalog
        .apply_file(&app.state.db)
        .await
        .expect("applied");
    let id = approved(&app, "7.4.0").await;
    until_state(&app, id, "provisioning").await;
    let keys = [
        format!("runway-{id}-eu-provision-1"),
        format!("runway-{id}-us-provision-1"),
    ];
    let mut pids = Vec::new();
    for key in &keys {
        pids.push(run_pid(&app, key).await);
    }
    let said = stop_as_olga(&app, id).await;
    assert_eq!(
        said,
        format!("Request #{id} cancelled; its CI runs were stopped.")
    );
    assert_eq!(state(&app, id).await, "cancelled");
    for pid in pids {
        until_stopped(pid).await;
    }
    let runs = runs_of(&app, id).await;
    assert!(
        runs.iter().all(|r| r.state == "cancelled"),
        "{:?}",
        by_target(&runs)
    );
}

async fn a_binding_whose_secret_is_missing_fails_the_deployment_once(kind: Kind) {
    let Some(db) = TestDb::new(kind).await else {
        return;
    };
    // Storefront production's regions deploy through a Buildbot whose password is not set.
    let catalog = test_catalog(&db);
    let text = std::fs::read_to_string(&catalog).expect("catalog").replace(
        "connector = \"shell\"\nrun = \"parallel\"",
        "connector = \"buildbot\"\nrun = \"parallel\"\n\
         settings = { url = \"http://127.0.0.1:9\", user = \"runway\", password_env = \"FAN_OUT_UNSET_PASSWORD\" }",
    );
    std::fs::write(&catalog, text).expect("write");
    let app = start(db, catalog, WORKER).await;
    let id = approved(&app, "7.6.0").await;
    until_state(&app, id, "failed").await;
    // Once: the job ended with the request, never claimed again.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let said = "the environment variable FAN_OUT_UNSET_PASSWORD, which the catalog names for a CI \
                secret, is not set";
    let failures = count(
        &app,
        &format!(
            "select count(*) from request_events where request_id = $1 \
             and kind = 'step_failed' and payload like '%{said}%'"
        ),
        id,
    )
    .await;
    assert_eq!(failures, 1);
    let ended = count(
        &app,
        "select count(*) from dispatch_jobs where request_id = $1 and state = 'failed'",
        id,
    )
    .await;
    assert_eq!(ended, 1);
    assert!(runs_of(&app, id).await.is_empty());
}

async fn every_failed_region_is_retried_at_once(kind: Kind) {
    let Some(app) = portal(kind, "parallel", "0").await else {
        return;
    };
    let id = approved(&app, "7.7.0-fail-all").await;
    until_state(&app, id, "failed").await;
    app.login_as("olga").await;
    let page = app.get_html(&format!("/requests/{id}")).await;
    assert!(page.contains("Retry every failed target"), "{page}");
    // Without a name, the portal asks which.
    let olga = app.user("olga").await;
    let at = (id, revision(&app, id).await);
    let asked = server::service::deployments::retry(&app.state, &olga, true, at, None)
        .await
        .expect_err("which one?");
    assert!(asked.to_string().contains("some fields"), "{asked}");
    let said = retry_by_form(&app, id, "*").await;
    assert!(
        said.contains(
            "The deployment of eu will run again (attempt 2). \
             The deployment of us will run again (attempt 2)."
        ),
        "{said}"
    );
    until_state(&app, id, "succeeded").await;
    assert_eq!(
        by_target(&runs_of(&app, id).await),
        [
            row("eu", "deploy", 1, "failed"),
            row("eu", "deploy", 2, "succeeded"),
            row("eu", "provision", 1, "succeeded"),
            row("us", "deploy", 1, "failed"),
            row("us", "deploy", 2, "succeeded"),
            row("us", "provision", 1, "succeeded"),
        ]
    );
}

crate::on_both_databases!(
    every_failed_region_is_retried_at_once,
    a_binding_whose_secret_is_missing_fails_the_deployment_once,
    a_failed_region_lets_the_other_finish_then_is_retried_alone,
    in_order_a_failed_region_stops_the_next_until_it_is_retried,
    operations_stop_every_region_of_a_parallel_deployment,
);
