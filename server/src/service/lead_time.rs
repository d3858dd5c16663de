//! Where lead time goes, as the DORA report and the Insights page give it: per application the
//! median and 90th percentile of each segment, the slowest approval stages, the approver teams'
//! answer times, and the share spent waiting for people (see `domain::lead_time`).

use crate::domain::lead_time::{Spread, Summary, SEGMENTS};
use serde::Serialize;

const HOUR: f64 = 3_600_000.0;

/// How long something took over several deployments.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Durations {
    /// How many were measured.
    pub count: usize,
    pub median_hours: f64,
    pub p90_hours: f64,
}

impl From<Spread> for Durations {
    fn from(s: Spread) -> Self {
        Durations {
            count: s.count,
            median_hours: s.median_ms as f64 / HOUR,
            p90_hours: s.p90_ms as f64 / HOUR,
        }
    }
}

/// One segment of an application's lead time.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Segment {
    /// commit to request, approvals, schedule or window, provisioning, deploying.
    pub segment: &'static str,
    pub durations: Durations,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApplicationLeadTime {
    pub application: String,
    pub segments: Vec<Segment>,
}

/// How long an approval stage waited to be satisfied.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StageWait {
    pub application: String,
    pub stage: String,
    pub durations: Durations,
}

/// How long an approver team took to answer, from the moment its stage could be decided.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TeamAnswer {
    pub team: String,
    pub durations: Durations,
}

/// Where the lead time of the period's successful deployments went.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LeadTimeBreakdown {
    pub applications: Vec<ApplicationLeadTime>,
    /// Slowest (by the 90th percentile) first.
    pub slowest_stages: Vec<StageWait>,
    /// Slowest first.
    pub team_answers: Vec<TeamAnswer>,
    /// The share of the whole lead time spent waiting for approvals (absent without deployments).
    pub waiting_for_people: Option<f64>,
}

impl From<Summary> for LeadTimeBreakdown {
    fn from(s: Summary) -> Self {
        LeadTimeBreakdown {
            applications: s
                .applications
                .into_iter()
                .map(|a| ApplicationLeadTime {
                    application: a.application,
                    segments: SEGMENTS
                        .iter()
                        .zip(a.segments)
                        .map(|(segment, spread)| Segment {
                            segment,
                            durations: spread.into(),
                        })
                        .collect(),
                })
                .collect(),
            slowest_stages: s
                .stages
                .into_iter()
                .map(|(application, stage, spread)| StageWait {
                    application,
                    stage,
                    durations: spread.into(),
                })
                .collect(),
            team_answers: s
                .teams
                .into_iter()
                .map(|(team, spread)| TeamAnswer {
                    team,
                    durations: spread.into(),
                })
                .collect(),
            waiting_for_people: s.people_share,
        }
    }
}
