//! The operator metrics: served on their own address only, read by a Prometheus text parser (not
//! string matching), and moved by what the portal does — a deployment through the `shell`
//! connector, a request waiting for approval, gate answers.

use crate::buildbot::free_port;
use crate::dispatch::{deployed, submit};
use crate::helpers::*;
use crate::pipeline_api::{gate, token};
use prometheus_parse::{Sample, Scrape, Value};
use serde_json::json;

/// The samples a scrape of `address` gives.
async fn scrape(address: &str) -> Vec<Sample> {
    let resp = reqwest::get(format!("http://{address}/metrics"))
        .await
        .expect("scrape");
    assert_eq!(resp.status(), 200);
    let kind = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    let text = resp.text().await.expect("body");
    let lines = text.lines().map(|l| Ok(l.to_owned()));
    Scrape::parse(lines).expect("Prometheus text").samples
}

/// The value of the sample named `name` whose labels include `labels`.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| {
            s.metric == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(k).is_some_and(|l| l == *v))
        })
        .map(|s| match &s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
            Value::Histogram(buckets) => buckets.last().map_or(0.0, |b| b.count),
            Value::Summary(_) => f64::NAN,
        })
}

async fn work_moves_the_metrics(kind: Kind) {
    let address = format!("127.0.0.1:{}", free_port());
    let extra = [
        ("RUNWAY_DISPATCH", "true"),
        ("RUNWAY_METRICS_LISTEN", address.as_str()),
    ];
    let Some(app) = spawn_app_with(kind, &extra).await else {
        return;
    };
    app.login_as("root").await;
    assert_eq!(
        app.get("/metrics").await.status(),
        404,
        "never served with the portal, even to an administrator"
    );
    let before = scrape(&address).await;
    let starts = |s: &[Sample]| {
        value(
            s,
            "runway_ci_calls_total",
            &[("connector", "shell"), ("call", "start"), ("outcome", "ok")],
        )
        .unwrap_or(0.0)
    };
    assert_eq!(
        value(&before, "runway_requests", &[("state", "pending_approval")]),
        Some(0.0)
    );

    deployed(&app, "2.4.0", "succeeded").await;
    let waiting = submit(&app, "ada", "banking", "staging", "2.4.1").await;
    let secret = token(&app, &["gate:read"], &["banking"]).await;
    let ask = json!({ "application": "banking", "environment": "production", "version": "9.9.9" });
    assert_eq!(gate(&app, &secret, ask).await["decision"], "deny");

    let after = scrape(&address).await;
    assert_eq!(
        value(&after, "runway_requests", &[("state", "succeeded")]),
        Some(1.0)
    );
    assert_eq!(
        value(&after, "runway_requests", &[("state", "pending_approval")]),
        Some(1.0),
        "request #{waiting}"
    );
    assert_eq!(value(&after, "runway_approvals_waiting", &[]), Some(1.0));
    assert!(value(&after, "runway_approval_oldest_wait_seconds", &[]).is_some_and(|s| s >= 0.0));
    assert_eq!(value(&after, "runway_dispatch_queue_depth", &[]), Some(0.0));
    assert!(value(
        &after,
        "runway_notification_outbox_depth",
        &[("channel", "mail")]
    )
    .is_some());
    // Counters count for the whole process (other tests run beside this one): they grow.
    assert!(
        starts(&after) >= starts(&before) + 2.0,
        "provision and deploy started: {} → {}",
        starts(&before),
        starts(&after)
    );
    let timed = value(
        &after,
        "runway_ci_call_duration_seconds_count",
        &[("connector", "shell"), ("call", "start")],
    );
    assert!(timed.is_some_and(|n| n >= 2.0), "{timed:?}");
    let denied = value(
        &after,
        "runway_gate_answers_total",
        &[("decision", "deny"), ("dry_run", "false")],
    );
    assert!(denied.is_some_and(|n| n >= 1.0), "{denied:?}");
}

crate::on_both_databases!(work_moves_the_metrics);
