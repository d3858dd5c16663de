//! The DORA metrics from deployments made through the portal: a success, a failure, its
//! recovery and a rollback, read by a pipeline from `/api/v1/metrics/dora`, on both databases.

use crate::dispatch::{submit, until_state, WORKER};
use crate::helpers::*;
use crate::pipeline_api::{call, token_as};
use serde_json::Value;

async fn read(app: &TestApp, token: &str, query: &str) -> (u16, Value) {
    let path = format!("/api/v1/metrics/dora{query}");
    let (status, answer, _) = call(app, reqwest::Method::GET, &path, Some(token), None).await;
    (status, answer)
}

async fn deployments_make_the_four_metrics(kind: Kind) {
    let Some(app) = spawn_app_with(kind, WORKER).await else {
        return;
    };
    // 5.0.0 deploys, 5.0.1 fails, 5.0.2 recovers, then 5.0.0 again rolls 5.0.2 back.
    for (version, end) in [
        ("5.0.0", "succeeded"),
        ("5.0.1-fail", "failed"),
        ("5.0.2", "succeeded"),
        ("5.0.0", "succeeded"),
    ] {
        let id = submit(&app, "wes", "storefront", "staging", version).await;
        until_state(&app, id, end).await;
    }
    let secret = token_as(&app, "insight", "root", &["metrics:read"], &["*"]).await;
    let (status, r) = read(
        &app,
        &secret,
        "?application=storefront&environment=staging&days=30",
    )
    .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(
        (r["deployments"].as_u64(), r["failures"].as_u64()),
        (Some(4), Some(2)),
        "{r}"
    );
    assert_eq!(r["unrecovered_failures"], 0);
    // Three successes in thirty days: at least monthly, not weekly.
    let frequency = r["deployment_frequency"]["value"]
        .as_f64()
        .expect("frequency");
    assert!((frequency - 0.1).abs() < 1e-9, "{frequency}");
    assert_eq!(r["deployment_frequency"]["band"], "medium");
    assert_eq!(r["change_failure_rate"]["value"], 0.5);
    assert_eq!(r["change_failure_rate"]["band"], "low", "nearest to 40 %");
    assert_eq!(
        r["lead_time_from"], "request",
        "no pipeline said when it committed"
    );
    assert!(r["change_lead_time"]["value"]
        .as_f64()
        .is_some_and(|h| h >= 0.0));
    assert!(r["recovery_time"]["value"]
        .as_f64()
        .is_some_and(|h| h >= 0.0));
    assert!(r["cluster"].is_string(), "{r}");
    let weeks = r["weeks"].as_array().expect("weeks");
    assert_eq!(weeks.len(), 5, "four weeks and two days");
    let counted: u64 = weeks.iter().filter_map(|w| w["deployments"].as_u64()).sum();
    assert_eq!(counted, 4);
    // Production saw none: a frequency of nothing, and no cluster.
    let (_, prod) = read(&app, &secret, "?application=storefront").await;
    assert_eq!(
        (prod["deployments"].as_u64(), prod["days"].as_u64()),
        (Some(0), Some(90))
    );
    assert!(prod["cluster"].is_null());

    let (status, problem) = read(&app, &secret, "?days=7&environment=nowhere").await;
    assert_eq!(status, 422, "{problem}");
    let fields = crate::pipeline_api::problem_fields(&problem);
    assert!(
        fields.iter().any(|f| f == "days") && fields.iter().any(|f| f == "environment"),
        "{fields:?}"
    );
    let banking = token_as(
        &app,
        "banking only",
        "root",
        &["metrics:read"],
        &["banking"],
    )
    .await;
    let (status, _) = read(
        &app,
        &banking,
        "?application=storefront&environment=staging",
    )
    .await;
    assert_eq!(status, 403);
    let (_, own) = read(&app, &banking, "?environment=staging").await;
    assert_eq!(own["deployments"], 0, "only banking's deployments: {own}");
    let gate = token_as(&app, "gate only", "root", &["gate:read"], &["*"]).await;
    assert_eq!(read(&app, &gate, "").await.0, 403);

    // The Insights page says the same in words, and its filters change the figures.
    app.login_as("olga").await;
    let page = app
        .get_html("/insights?app=storefront&env=staging&days=30")
        .await;
    for key in ["frequency", "lead-time", "failure-rate", "recovery"] {
        assert!(
            page.contains(&format!("data-testid=\"metric-{key}\"")),
            "{key}"
        );
    }
    assert!(page.contains("3.0 a month"), "three in thirty days: {page}");
    assert!(page.contains("50 %"), "two of four needed remediation");
    assert!(page.contains("4 deployment(s) to staging"), "{page}");
    let quarter = app
        .get_html("/insights?app=storefront&env=staging&days=90")
        .await;
    assert!(quarter.contains("1.0 a month"), "three in ninety days");
    let csv = app
        .get("/insights/deployments.csv?app=storefront&env=staging&days=30")
        .await
        .text()
        .await
        .expect("csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 5, "{csv}");
    assert!(lines[0].starts_with("request_id,application,environment,version"));
    assert!(
        lines
            .iter()
            .any(|l| l.contains(",5.0.1-fail,") && l.contains(",failed,")),
        "{csv}"
    );
    let refused = app.get("/insights/deployments.csv?days=7").await;
    assert_eq!(refused.status(), 422);
}

crate::on_both_databases!(deployments_make_the_four_metrics);
