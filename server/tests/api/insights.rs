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

    // The figures are kept between readings, but a deployment that ends is in them at once.
    let id = submit(&app, "wes", "storefront", "staging", "5.0.3").await;
    until_state(&app, id, "succeeded").await;
    let (_, after) = read(
        &app,
        &secret,
        "?application=storefront&environment=staging&days=30",
    )
    .await;
    assert_eq!(after["deployments"], 5, "{after}");
}

/// The quarter of `domain::dora`'s hand-worked fixture, stored as kept deployments: forty to
/// Banking production, #10 and #40 failed, an incident on #20, #31 bringing #29's version back;
/// even ones said their commit time. The figures worked out by hand come back from the API.
async fn a_quarter_worked_out_by_hand_comes_back_from_the_database(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    const HOUR: i64 = 3_600_000;
    const DAY: i64 = 24 * HOUR;
    let t0 = server::db::now_ms() - 90 * DAY + HOUR;
    let ada = app.user("ada").await.id;
    let catalog = app.state.catalog.current();
    let policy = catalog
        .catalog
        .application("banking")
        .and_then(|a| a.environment("production"))
        .map(|e| serde_json::to_string(&e.policy).expect("policy"))
        .expect("banking production");
    let pool = &app.state.db.pool;
    for i in 1..=40_i64 {
        let finished = t0 + 2 * i * DAY + 10 * HOUR;
        let failed = i == 10 || i == 40;
        let version = if i == 31 {
            "1.29.0".to_owned()
        } else {
            format!("1.{i}.0")
        };
        let id: i64 = sqlx::query_scalar(
            "insert into requests (application_id, environment_id, requester_id, title, version, \
             summary, risk, rollback_plan, fields, state, policy, created_at, updated_at) \
             values ('banking', 'production', $1, 'Banking', $2, 'fixture', 'low', 'redeploy', \
             '{}', $3, $4, $5, $6) returning request_id",
        )
        .bind(ada)
        .bind(&version)
        .bind(if failed { "failed" } else { "succeeded" })
        .bind(&policy)
        .bind(finished - 20 * HOUR)
        .bind(finished)
        .fetch_one(pool)
        .await
        .expect("request");
        sqlx::query(
            "insert into deployments (request_id, application_id, environment_id, version, \
             requested_at, commit_at, finished_at, succeeded, approval_ms, waiting_ms, \
             provision_ms, deploy_ms) \
             values ($1, 'banking', 'production', $2, $3, $4, $5, $6, 0, 0, 0, 0)",
        )
        .bind(id)
        .bind(&version)
        .bind(finished - 20 * HOUR)
        .bind((i % 2 == 0).then_some(finished - 44 * HOUR))
        .bind(finished)
        .bind(i64::from(!failed))
        .execute(pool)
        .await
        .expect("deployment");
        if i == 20 {
            sqlx::query(
                "insert into tickets (request_id, rule_id, kind, title, owner_team, state, \
                 opened_at, updated_at) values ($1, 'production-deploy-failed', 'incident', \
                 'Payments down', 'ops', 'resolved', $2, $2)",
            )
            .bind(id)
            .bind(finished + HOUR)
            .execute(pool)
            .await
            .expect("incident");
        }
    }
    let secret = token_as(&app, "insight", "root", &["metrics:read"], &["*"]).await;
    let (status, r) = read(&app, &secret, "?application=banking&days=90").await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(
        (
            r["deployments"].as_u64(),
            r["failures"].as_u64(),
            r["unrecovered_failures"].as_u64()
        ),
        (Some(40), Some(4), Some(1)),
        "#10 and #40 failed, #20 had an incident, #30 was rolled back; #40 never recovered"
    );
    let value = |m: &str| r[m]["value"].as_f64().expect(m);
    assert!((value("deployment_frequency") - 38.0 / 90.0).abs() < 1e-9);
    assert_eq!(
        value("change_lead_time"),
        20.0,
        "the 19th and 20th of 38 are both 20 h"
    );
    assert_eq!(
        r["lead_time_from"], "request",
        "odd ones said no commit time"
    );
    assert_eq!(value("change_failure_rate"), 0.1);
    assert_eq!(value("recovery_time"), 48.0);
    let bands: Vec<&str> = [
        "deployment_frequency",
        "change_lead_time",
        "change_failure_rate",
        "recovery_time",
    ]
    .iter()
    .map(|m| r[m]["band"].as_str().expect("band"))
    .collect();
    assert_eq!(bands, ["high", "elite", "medium", "medium"]);
    assert_eq!(r["cluster"], "high");
    assert!(
        r["deployment_frequency"]["previous"].as_f64() == Some(0.0),
        "{r}"
    );
}

crate::on_both_databases!(
    deployments_make_the_four_metrics,
    a_quarter_worked_out_by_hand_comes_back_from_the_database
);
