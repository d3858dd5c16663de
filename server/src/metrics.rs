//! The portal's own health for operators, as Prometheus metrics (OpenMetrics text), served on an
//! address of its own (`RUNWAY_METRICS_LISTEN`) so it is never exposed with the portal.
//!
//! Counters and histograms (CI calls, gate answers) count from the process's start, as Prometheus
//! expects; gauges (requests by state, waits, queues) are read from the database at each scrape,
//! so every replica reports the same shared work.

use crate::db::{now_ms, operator_metrics, Db};
use crate::domain::request::State;
use axum::extract::State as Extract;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Registry, Unit};
use std::sync::atomic::AtomicU64;
use std::sync::LazyLock;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChannelLabel {
    channel: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CiCall {
    connector: &'static str,
    call: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CiLatency {
    connector: &'static str,
    call: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GateLabel {
    decision: &'static str,
    dry_run: &'static str,
}

type Seconds = Gauge<f64, AtomicU64>;

struct Metrics {
    registry: Registry,
    requests: Family<StateLabel, Gauge>,
    approvals_waiting: Gauge,
    approval_wait: Seconds,
    dispatch_depth: Gauge,
    dispatch_wait: Seconds,
    outbox: Family<ChannelLabel, Gauge>,
    ci_calls: Family<CiCall, Counter>,
    ci_latency: Family<CiLatency, Histogram, fn() -> Histogram>,
    gate: Family<GateLabel, Counter>,
    /// One scrape at a time: the gauges are set, then the whole registry is encoded.
    scrape: tokio::sync::Mutex<()>,
}

/// Latencies from 10 ms to about 40 s.
fn latency() -> Histogram {
    Histogram::new(exponential_buckets(0.01, 2.0, 13))
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let mut registry = Registry::with_prefix("runway");
    let m = Metrics {
        registry: Registry::default(),
        requests: Family::default(),
        approvals_waiting: Gauge::default(),
        approval_wait: Seconds::default(),
        dispatch_depth: Gauge::default(),
        dispatch_wait: Seconds::default(),
        outbox: Family::default(),
        ci_calls: Family::default(),
        ci_latency: Family::new_with_constructor(latency),
        gate: Family::default(),
        scrape: tokio::sync::Mutex::new(()),
    };
    registry.register("requests", "Requests by state", m.requests.clone());
    registry.register(
        "approvals_waiting",
        "Requests waiting for an approval",
        m.approvals_waiting.clone(),
    );
    registry.register_with_unit(
        "approval_oldest_wait",
        "How long the request waiting longest for approval has waited",
        Unit::Seconds,
        m.approval_wait.clone(),
    );
    registry.register(
        "dispatch_queue_depth",
        "Deployments queued or running in the dispatcher",
        m.dispatch_depth.clone(),
    );
    registry.register_with_unit(
        "dispatch_oldest_wait",
        "How long the job due longest ago has waited to be claimed",
        Unit::Seconds,
        m.dispatch_wait.clone(),
    );
    registry.register(
        "notification_outbox_depth",
        "Notifications waiting to be sent, by channel",
        m.outbox.clone(),
    );
    registry.register(
        "ci_calls",
        "Calls to CI servers by connector, call and outcome (ok, transient, config)",
        m.ci_calls.clone(),
    );
    registry.register_with_unit(
        "ci_call_duration",
        "How long calls to CI servers took",
        Unit::Seconds,
        m.ci_latency.clone(),
    );
    registry.register(
        "gate_answers",
        "Gate answers by decision, and whether they were dry runs",
        m.gate.clone(),
    );
    // Every gate answer is listed from the start, so a rate over it has a series to read.
    for decision in ["allow", "deny", "pending"] {
        for dry_run in ["true", "false"] {
            m.gate
                .get_or_create(&GateLabel { decision, dry_run })
                .inc_by(0);
        }
    }
    Metrics { registry, ..m }
});

/// A call to a CI server: its connector, which call, how it ended and how long it took.
pub fn ci_call(connector: &'static str, call: &'static str, outcome: &'static str, secs: f64) {
    METRICS
        .ci_calls
        .get_or_create(&CiCall {
            connector,
            call,
            outcome,
        })
        .inc();
    METRICS
        .ci_latency
        .get_or_create(&CiLatency { connector, call })
        .observe(secs);
}

/// A gate answer.
pub fn gate_answered(decision: &'static str, dry_run: bool) {
    let dry_run = if dry_run { "true" } else { "false" };
    METRICS
        .gate
        .get_or_create(&GateLabel { decision, dry_run })
        .inc();
}

/// The metrics as they stand, in the OpenMetrics text format.
pub async fn render(db: &Db) -> anyhow::Result<String> {
    let now = now_ms();
    let snapshot = operator_metrics::snapshot(db, now).await?;
    let m = &*METRICS;
    let _one = m.scrape.lock().await;
    for state in State::ALL {
        let n = snapshot
            .requests
            .iter()
            .find(|(s, _)| s == state.as_str())
            .map_or(0, |(_, n)| *n);
        m.requests
            .get_or_create(&StateLabel {
                state: state.as_str(),
            })
            .set(n);
        if state == State::PendingApproval {
            m.approvals_waiting.set(n);
        }
    }
    let age = |at: Option<i64>| at.map_or(0.0, |at| (now - at).max(0) as f64 / 1000.0);
    m.approval_wait.set(age(snapshot.oldest_pending_at));
    m.dispatch_depth.set(snapshot.dispatch_depth);
    m.dispatch_wait.set(age(snapshot.oldest_due_at));
    for (channel, n) in &snapshot.outbox {
        m.outbox.get_or_create(&ChannelLabel { channel }).set(*n);
    }
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &m.registry)?;
    Ok(text)
}

/// The router of the metrics address: `GET /metrics`, nothing else.
pub fn router(db: Db) -> axum::Router {
    axum::Router::new()
        .route("/metrics", axum::routing::get(scrape))
        .with_state(db)
}

async fn scrape(Extract(db): Extract<Db>) -> Response {
    match render(&db).await {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot read the metrics");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the database cannot be read\n",
            )
                .into_response()
        }
    }
}
