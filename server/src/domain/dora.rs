//! The four DORA software delivery metrics, computed from the deployments the portal knows, with
//! each figure's band and the nearest 2024 performance cluster. Pure: the caller reads the
//! deployments and says which period is asked about.
//!
//! The definitions used (the README repeats them):
//! - **Deployment frequency**: successful production deployments per day over the period.
//! - **Change lead time**: median, over the successful deployments of the period, of the time from
//!   the change's commit (when the pipeline said when) or else from the request being opened, to
//!   the deployment finishing.
//! - **Change failure rate**: the share of the period's deployments that failed, or that needed
//!   remediation afterwards: an incident linked to them, or a rollback (the next successful
//!   deployment to the same application and environment was a rollback request, or brought back
//!   a version deployed there before).
//! - **Failed deployment recovery time**: median, over those failures, of the time from the
//!   failure (the deployment's end) to the next successful deployment of the same application and
//!   environment; failures not yet recovered are counted apart.

use std::collections::HashMap;

const HOUR: i64 = 3_600_000;
pub const DAY: i64 = 24 * HOUR;
const WEEK: i64 = 7 * DAY;
const MONTH: i64 = 30 * DAY;

/// One deployment of a request, as the metrics read it (a request retried after a failure has
/// one for each attempt that ended).
#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    pub id: i64,
    pub request_id: i64,
    pub application: String,
    pub environment: String,
    pub version: String,
    /// When the request was opened.
    pub requested_at: i64,
    /// When the change was committed, if the pipeline said.
    pub commit_at: Option<i64>,
    /// When the deployment ended.
    pub finished_at: i64,
    pub succeeded: bool,
    /// An incident was linked to it.
    pub incident: bool,
    /// Its request was a rollback: what it replaced needed remediation.
    pub rollback: bool,
    /// Where the time from the request being opened went: approvals, the schedule or a window,
    /// provisioning, deploying (see `domain::lead_time`).
    pub segments: [i64; 4],
}

impl Deployment {
    /// When its lead time starts: the commit, when the pipeline said and it came before the
    /// request, else the request being opened.
    pub fn lead_start(&self) -> i64 {
        self.commit_at
            .map_or(self.requested_at, |c| c.min(self.requested_at))
    }
}

/// How a figure compares with the 2024 clusters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Band {
    Elite,
    High,
    Medium,
    Low,
}

impl Band {
    pub const ALL: [Band; 4] = [Band::Elite, Band::High, Band::Medium, Band::Low];

    pub fn as_str(self) -> &'static str {
        match self {
            Band::Elite => "elite",
            Band::High => "high",
            Band::Medium => "medium",
            Band::Low => "low",
        }
    }

    /// The cluster's typical figures (frequency per day, lead time, failure rate, recovery time),
    /// taken inside its 2024 bands (the geometric middle of a range), for the nearest-cluster
    /// distance.
    fn centre(self) -> [f64; 4] {
        let day = DAY as f64;
        match self {
            Band::Elite => [2.0, 0.5 * day, 0.05, 0.5 * HOUR as f64],
            Band::High => [
                1.0 / 7f64.sqrt(),
                7f64.sqrt() * day,
                0.20,
                6.0 * HOUR as f64,
            ],
            Band::Medium => [
                1.0 / 210f64.sqrt(),
                210f64.sqrt() * day,
                0.10,
                12.0 * HOUR as f64,
            ],
            Band::Low => [1.0 / 5400f64.sqrt(), 5400f64.sqrt() * day, 0.40, 14.5 * day],
        }
    }
}

/// Deployments per day: several a day (1 or more) elite, at least weekly high, at least monthly
/// medium, less often low.
pub fn frequency_band(per_day: f64) -> Band {
    if per_day >= 1.0 {
        Band::Elite
    } else if per_day >= 1.0 / 7.0 {
        Band::High
    } else if per_day >= 1.0 / 30.0 {
        Band::Medium
    } else {
        Band::Low
    }
}

/// Lead time: under a day elite, under a week high, under a month medium, more low.
pub fn lead_time_band(ms: i64) -> Band {
    by_duration(ms, [DAY, WEEK, MONTH])
}

/// Failure rate: the cluster whose 2024 figure is nearest (5 % elite, 10 % medium, 20 % high,
/// 40 % low; the clusters are not in order on this metric).
pub fn failure_band(rate: f64) -> Band {
    Band::ALL
        .into_iter()
        .min_by(|a, b| {
            let d = |band: Band| (rate - band.centre()[2]).abs();
            d(*a).total_cmp(&d(*b))
        })
        .unwrap_or(Band::Low)
}

/// Recovery: under an hour elite, under a day high (medium shares it in 2024), under a week
/// medium, more low.
pub fn recovery_band(ms: i64) -> Band {
    by_duration(ms, [HOUR, DAY, WEEK])
}

fn by_duration(ms: i64, [elite, high, medium]: [i64; 3]) -> Band {
    if ms < elite {
        Band::Elite
    } else if ms < high {
        Band::High
    } else if ms < medium {
        Band::Medium
    } else {
        Band::Low
    }
}

/// The four figures of one period, `None` where nothing was there to measure.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    /// Deployments that ended in the period, and how many succeeded.
    pub deployments: usize,
    pub successes: usize,
    pub per_day: f64,
    /// Median lead time, and whether every deployment measured it from a commit time.
    pub lead_time_ms: Option<i64>,
    pub lead_from_commits: bool,
    pub failures: usize,
    pub failure_rate: Option<f64>,
    pub recovery_ms: Option<i64>,
    /// Failures in the period with no successful deployment after them yet.
    pub unrecovered: usize,
}

impl Figures {
    /// Each figure's band, in the order frequency, lead time, failure rate, recovery.
    pub fn bands(&self) -> [Option<Band>; 4] {
        [
            (self.deployments > 0).then(|| frequency_band(self.per_day)),
            self.lead_time_ms.map(lead_time_band),
            self.failure_rate.map(failure_band),
            self.recovery_ms.map(recovery_band),
        ]
    }

    /// The nearest cluster over the figures there are, on a log scale (a failure rate under 1 %
    /// counts as 1 %); `None` without any deployment.
    pub fn cluster(&self) -> Option<Band> {
        if self.deployments == 0 {
            return None;
        }
        let figures = [
            Some(self.per_day.max(1e-4)),
            self.lead_time_ms.map(|ms| ms.max(60_000) as f64),
            self.failure_rate.map(|r| r.max(0.01)),
            self.recovery_ms.map(|ms| ms.max(60_000) as f64),
        ];
        let distance = |band: Band| -> f64 {
            figures
                .iter()
                .zip(band.centre())
                .filter_map(|(f, c)| f.map(|f| (f.ln() - c.ln()).powi(2)))
                .sum()
        };
        Band::ALL
            .into_iter()
            .min_by(|a, b| distance(*a).total_cmp(&distance(*b)))
    }
}

/// The figures of the deployments that ended in `[from, to)`. `all` holds every deployment known
/// (before and after the period too): a rollback or a recovery may come later.
pub fn figures(all: &[Deployment], from: i64, to: i64) -> Figures {
    History::new(all).figures(from, to)
}

/// The deployments known, with what came after each worked out once: whether it needed
/// remediation, and when the service was restored after it.
pub struct History<'a> {
    all: &'a [Deployment],
    /// It failed, had an incident, or was rolled back.
    failed: Vec<bool>,
    /// When the next successful deployment to the same place ended.
    recovered_at: Vec<Option<i64>>,
}

impl<'a> History<'a> {
    pub fn new(all: &'a [Deployment]) -> History<'a> {
        let mut places: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
        for (i, d) in all.iter().enumerate() {
            places
                .entry((d.application.as_str(), d.environment.as_str()))
                .or_default()
                .push(i);
        }
        let mut failed = vec![false; all.len()];
        let mut recovered_at = vec![None; all.len()];
        for mut here in places.into_values() {
            here.sort_by_key(|i| all[*i].finished_at);
            // The first success of each version here: deployed there before `d` when earlier.
            let mut first_ok: HashMap<&str, i64> = HashMap::new();
            for i in &here {
                let d = &all[*i];
                if d.succeeded {
                    first_ok.entry(d.version.as_str()).or_insert(d.finished_at);
                }
            }
            // Walking back in time, the next success is the latest one seen that ended later
            // (several ending at one moment all follow what ended before it).
            let mut next: Option<usize> = None;
            for run in here
                .chunk_by(|a, b| all[*a].finished_at == all[*b].finished_at)
                .rev()
            {
                for i in run {
                    let d = &all[*i];
                    recovered_at[*i] = next.map(|n| all[n].finished_at);
                    // A rollback: the deployment that replaced this one brought back a version
                    // deployed there before it. (Versions are not ordered: a commit hash is a
                    // version too.)
                    let rolled_back = d.succeeded
                        && next.is_some_and(|n| {
                            let v = &all[n].version;
                            all[n].rollback
                                || *v != d.version
                                    && first_ok
                                        .get(v.as_str())
                                        .is_some_and(|at| *at < d.finished_at)
                        });
                    failed[*i] = !d.succeeded || d.incident || rolled_back;
                }
                if let Some(ok) = run.iter().find(|i| all[**i].succeeded) {
                    next = Some(*ok);
                }
            }
        }
        History {
            all,
            failed,
            recovered_at,
        }
    }

    /// The indexes of the deployments that ended in `[from, to)`.
    fn in_period(&self, from: i64, to: i64) -> Vec<usize> {
        (0..self.all.len())
            .filter(|i| (from..to).contains(&self.all[*i].finished_at))
            .collect()
    }

    /// The successful deployments among the indexes `in_period`.
    fn successes_among(&self, in_period: &[usize]) -> Vec<&'a Deployment> {
        let all = self.all;
        in_period
            .iter()
            .map(|i| &all[*i])
            .filter(|d| d.succeeded)
            .collect()
    }

    /// The successful deployments that ended in `[from, to)`.
    pub fn successes(&self, from: i64, to: i64) -> Vec<&'a Deployment> {
        self.successes_among(&self.in_period(from, to))
    }

    /// The figures of the deployments that ended in `[from, to)`.
    pub fn figures(&self, from: i64, to: i64) -> Figures {
        let in_period = self.in_period(from, to);
        let successes = self.successes_among(&in_period);
        let days = ((to - from) as f64 / DAY as f64).max(1.0 / 24.0);
        let mut leads: Vec<i64> = successes
            .iter()
            .map(|d| d.finished_at - d.lead_start())
            .collect();
        let failed: Vec<usize> = in_period
            .iter()
            .copied()
            .filter(|i| self.failed[*i])
            .collect();
        let mut recoveries = Vec::new();
        let mut unrecovered = 0;
        for i in &failed {
            match self.recovered_at[*i] {
                Some(at) => recoveries.push(at - self.all[*i].finished_at),
                None => unrecovered += 1,
            }
        }
        Figures {
            deployments: in_period.len(),
            successes: successes.len(),
            per_day: successes.len() as f64 / days,
            lead_time_ms: median(&mut leads),
            lead_from_commits: !successes.is_empty()
                && successes.iter().all(|d| d.commit_at.is_some()),
            failures: failed.len(),
            failure_rate: (!in_period.is_empty())
                .then(|| failed.len() as f64 / in_period.len() as f64),
            recovery_ms: median(&mut recoveries),
            unrecovered,
        }
    }

    /// The figures of each week from `from` (the last one cut at `to`), for the trend charts.
    pub fn weekly(&self, from: i64, to: i64) -> Vec<(i64, Figures)> {
        (0..)
            .map(|w| from + w * WEEK)
            .take_while(|start| *start < to)
            .map(|start| (start, self.figures(start, (start + WEEK).min(to))))
            .collect()
    }
}

/// The median (the mean of the two middle values of an even count), `None` for none.
fn median(values: &mut [i64]) -> Option<i64> {
    values.sort_unstable();
    let n = values.len();
    (n > 0).then(|| (values[(n - 1) / 2] + values[n / 2]) / 2)
}

/// The figures of each week from `from` (the last one cut at `to`), for the trend charts.
pub fn weekly(all: &[Deployment], from: i64, to: i64) -> Vec<(i64, Figures)> {
    History::new(all).weekly(from, to)
}

#[cfg(test)]
#[path = "dora_tests.rs"]
mod tests;
