//! Where lead time goes: a release whose pipeline said when it committed, approved by a person
//! and deployed by the worker, taken apart by the DORA report and the Insights page; and the
//! demo's made-up history, written once through the lifecycle. On both databases.

use crate::dispatch::{until_state, WORKER};
use crate::helpers::*;
use crate::pipeline_api::{call, token_as};
use crate::requests::{approve, count};
use serde_json::{json, Value};

fn ago(hours: i64) -> String {
    let at = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(hours);
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn segment<'a>(app: &'a Value, name: &str) -> &'a Value {
    app["segments"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["segment"] == name))
        .map_or(&Value::Null, |s| &s["durations"])
}

async fn commits_approvals_and_steps_make_up_the_lead_time(kind: Kind) {
    let Some(app) = spawn_app_with(kind, WORKER).await else {
        return;
    };
    let pipeline = token_as(
        &app,
        "ci",
        "wes",
        &["requests:write", "events:write"],
        &["*"],
    )
    .await;
    let body = json!({
        "application": "storefront", "environment": "production", "version": "7.1.0",
        "summary": "Checkout fix.", "rollback_plan": "Redeploy 7.0.0.",
        "commit_at": ago(2),
    });
    let (status, opened, _) = call(
        &app,
        reqwest::Method::POST,
        "/api/v1/requests",
        Some(&pipeline),
        Some(body),
    )
    .await;
    assert_eq!(status, 201, "{opened}");
    let id = opened["id"].as_i64().expect("id");
    // A later stage names an older commit among its commits: the earliest one counts.
    let stage = json!({
        "stage": "build", "status": "succeeded",
        "commits": [{ "id": "9f1c2e7", "at": ago(3) }, { "id": "0ab3d4", "at": ago(1) }],
    });
    let path = format!("/api/v1/requests/{id}/events");
    let (status, answer, _) = call(
        &app,
        reqwest::Method::POST,
        &path,
        Some(&pipeline),
        Some(stage),
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    let bad = json!({ "stage": "build", "status": "succeeded", "commits": [{ "id": "x", "at": "yesterday" }] });
    let (status, problem, _) = call(
        &app,
        reqwest::Method::POST,
        &path,
        Some(&pipeline),
        Some(bad),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(
        crate::pipeline_api::problem_fields(&problem),
        vec!["commits.0.at"]
    );

    approve(&app, "pia", id)
        .await
        .expect("the web lead approves");
    until_state(&app, id, "succeeded").await;
    assert_eq!(
        count(
            &app,
            "select count(*) from deployments where request_id = $1",
            id
        )
        .await,
        1
    );

    let reader = token_as(&app, "insight", "root", &["metrics:read"], &["*"]).await;
    let (status, r, _) = call(
        &app,
        reqwest::Method::GET,
        "/api/v1/metrics/dora?application=storefront&days=30",
        Some(&reader),
        None,
    )
    .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["lead_time_from"], "commit", "{r}");
    let lead = r["change_lead_time"]["value"].as_f64().expect("lead time");
    assert!(
        (3.0..3.5).contains(&lead),
        "from the commit three hours ago: {lead}"
    );
    let b = &r["lead_time_breakdown"];
    let storefront = &b["applications"][0];
    assert_eq!(storefront["application"], "storefront", "{b}");
    let commit = segment(storefront, "commit to request")["median_hours"]
        .as_f64()
        .expect("commit");
    assert!((2.9..3.1).contains(&commit), "{commit}");
    // The parts after the commit add up to the time from the request to the end.
    let after: f64 = [
        "approvals",
        "schedule or window",
        "provisioning",
        "deploying",
    ]
    .iter()
    .map(|s| {
        segment(storefront, s)["median_hours"]
            .as_f64()
            .expect("segment")
    })
    .sum();
    assert!(
        (after + commit - lead).abs() < 0.01,
        "{after} + {commit} vs {lead}"
    );
    assert_eq!(segment(storefront, "approvals")["count"], 1);
    assert_eq!(b["slowest_stages"][0]["stage"], "Web lead", "{b}");
    assert_eq!(b["team_answers"][0]["team"], "web", "{b}");
    let people = b["waiting_for_people"].as_f64().expect("share");
    assert!((0.0..1.0).contains(&people), "{people}");

    app.login_as("olga").await;
    let page = app.get_html("/insights?app=storefront&days=30").await;
    assert!(page.contains("Where lead time goes"), "{page}");
    assert!(page.contains("Storefront · Web lead"), "{page}");
    assert!(page.contains("of the lead time was spent waiting for approvals"));
    assert!(page.contains("Commit to request"));
    let csv = app
        .get("/insights/deployments.csv?app=storefront&days=30")
        .await
        .text()
        .await
        .expect("csv");
    let row = csv.lines().nth(1).expect("one deployment");
    assert!(
        row.contains(",7.1.0,") && row.contains(",succeeded,"),
        "{csv}"
    );

    // A database from before deployments were kept: they are read again from the audit trail at
    // the next start, the same.
    let kept = "select count(*) from deployments d join deployment_waits w \
                on w.deployment_id = d.deployment_id where d.commit_at is not null and d.request_id = $1";
    assert_eq!(
        count(&app, kept, id).await,
        2,
        "a stage wait and a team answer"
    );
    let again = restart_forgetting_deployments(app).await;
    assert_eq!(count(&again, kept, id).await, 2);
}

/// `app` as a database from before deployments were kept: they are forgotten, then the portal
/// starts again on it (and reads them back from the audit trail).
pub(crate) async fn restart_forgetting_deployments(app: TestApp) -> TestApp {
    for sql in ["delete from deployment_waits", "delete from deployments"] {
        sqlx::query(sql)
            .execute(&app.state.db.pool)
            .await
            .expect("forget");
    }
    let (db, catalog) = app.stop().await;
    start(db, catalog, &[]).await
}

async fn the_demo_history_is_written_once_through_the_lifecycle(kind: Kind) {
    let Some(app) = spawn_app_with(kind, &[("RUNWAY_DEMO_HISTORY", "true")]).await else {
        return;
    };
    let all = count(
        &app,
        "select count(*) from requests where request_id > $1",
        0,
    )
    .await;
    assert!(all > 60, "ninety days of two applications: {all}");
    let demo = count(
        &app,
        "select count(*) from requests where origin = 'demo' and title like 'Demo history%' and request_id > $1",
        0,
    )
    .await;
    assert_eq!(demo, all, "every request is marked");
    // Each one was audited from its submission to its end, and kept for the metrics.
    let ended = count(
        &app,
        "select count(distinct request_id) from deployments where request_id > $1",
        0,
    )
    .await;
    assert_eq!(ended, all);
    let nothing_live = count(
        &app,
        "select (select count(*) from pending_notices) + (select count(*) from dispatch_jobs) \
         + (select count(*) from notifications) + $1",
        0,
    )
    .await;
    assert_eq!(nothing_live, 0, "no notice and no dispatch for the past");
    let reader = token_as(&app, "insight", "root", &["metrics:read"], &["*"]).await;
    for application in ["banking", "storefront"] {
        let path = format!("/api/v1/metrics/dora?application={application}&days=90");
        let (status, r, _) = call(&app, reqwest::Method::GET, &path, Some(&reader), None).await;
        assert_eq!(status, 200, "{r}");
        assert!(r["deployments"].as_u64() > Some(10), "{application}: {r}");
        assert!(r["failures"].as_u64() > Some(0), "{application}: {r}");
        assert!(r["cluster"].is_string());
        assert!(r["lead_time_breakdown"]["slowest_stages"]
            .as_array()
            .is_some_and(|s| !s.is_empty()));
    }
    let open_tickets = count(
        &app,
        "select count(*) from tickets where state = 'open' and ticket_id > $1",
        0,
    )
    .await;
    assert!(
        open_tickets <= 2,
        "failures were fixed and their tickets resolved: {open_tickets}"
    );
    // A restart writes nothing more.
    let (db, catalog) = app.stop().await;
    let again = start(db, catalog, &[("RUNWAY_DEMO_HISTORY", "true")]).await;
    assert_eq!(
        count(
            &again,
            "select count(*) from requests where request_id > $1",
            0
        )
        .await,
        all
    );
}

crate::on_both_databases!(
    commits_approvals_and_steps_make_up_the_lead_time,
    the_demo_history_is_written_once_through_the_lifecycle
);
