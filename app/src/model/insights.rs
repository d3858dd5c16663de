//! The Insights page: the four DORA metrics of the portal's deployments, with their trends.

use serde::{Deserialize, Serialize};

/// One week's figure of a metric, for its trend chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendPoint {
    /// The week, as "24 Nov".
    pub label: String,
    /// The figure (absent when the week had nothing to measure).
    pub value: Option<f64>,
    /// The figure as read.
    pub text: String,
}

/// One metric: its figure, its band, the period before and the weeks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricCard {
    /// `frequency`, `lead-time`, `failure-rate` or `recovery`.
    pub key: String,
    pub name: String,
    pub value: String,
    /// elite, high, medium or low.
    pub band: Option<String>,
    /// The 2024 bands of this metric, one line.
    pub bands: String,
    /// "0.3 a day the 90 days before (+20 %)".
    pub previous: String,
    /// How the portal computes it, one line.
    pub definition: String,
    pub trend: Vec<TrendPoint>,
}

/// The page's filters, as its query string gives them ("" when not chosen).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InsightsFilter {
    pub app: String,
    pub env: String,
    pub team: String,
    pub days: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InsightsView {
    /// The filters in force ("" for every application or team).
    pub application: String,
    pub environment: String,
    pub team: String,
    pub days: i64,
    /// The choices of the filters: (id, name).
    pub applications: Vec<(String, String)>,
    pub environments: Vec<(String, String)>,
    pub teams: Vec<(String, String)>,
    /// "7 Sep – 6 Dec 2026".
    pub period: String,
    pub deployments: usize,
    pub failures: usize,
    pub unrecovered: usize,
    pub metrics: Vec<MetricCard>,
    /// The nearest 2024 cluster, and how it was found.
    pub cluster: Option<String>,
    pub classification: String,
    /// The query string of the filters, for the CSV link.
    pub query: String,
    pub lead_time: LeadTimeView,
}

/// One piece of a stacked bar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BarPiece {
    /// `commit`, `approvals`, `window`, `provisioning` or `deploying`.
    pub key: String,
    pub name: String,
    /// "3.5 h".
    pub text: String,
    /// Its width, in percent of the longest bar on the chart.
    pub width: f64,
}

/// An application's lead time taken apart: the medians and the 90th percentiles of its segments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadTimeBar {
    pub application: String,
    pub deployments: usize,
    pub median: Vec<BarPiece>,
    pub p90: Vec<BarPiece>,
}

/// A stage's or a team's wait: who, how many, the median and the 90th percentile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaitRow {
    pub name: String,
    pub count: usize,
    pub median: String,
    pub p90: String,
}

/// Where lead time goes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LeadTimeView {
    pub bars: Vec<LeadTimeBar>,
    pub stages: Vec<WaitRow>,
    pub teams: Vec<WaitRow>,
    /// "38 % of the lead time was spent waiting for approvals.", or "" without deployments.
    pub people: String,
}
