//! The DORA metrics of an application (or all) and an environment over 30, 90 or 180 days, with
//! each figure's band, its change against the period before, the weekly trend and the nearest
//! 2024 cluster (see `domain::dora` for the definitions).

use super::gate::rfc3339;
use crate::db::tokens::TokenRow;
use crate::db::{deployments, now_ms, Db};
use crate::domain::dora::{self, Figures};
use crate::domain::lead_time;
use crate::domain::Catalog;
use crate::service::error::{Error, Result};
use crate::service::lead_time::LeadTimeBreakdown;
use crate::service::reports::{Answer, Key, Reports};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::domain::dora::DAY;
const HOUR: f64 = 3_600_000.0;

/// The scope a token needs to read the metrics.
pub const SCOPE: &str = "metrics:read";

/// The filters as given: every one optional.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DoraFilter {
    /// An application id (every application the reader may see when not given).
    pub application: Option<String>,
    /// An environment id: `production` when not given.
    pub environment: Option<String>,
    /// A team id: the applications it owns.
    pub team: Option<String>,
    /// The period, in days before now: 30, 90 (when not given) or 180.
    pub days: Option<String>,
}

/// One of the four metrics.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Measure {
    /// The figure over the period (absent when nothing was there to measure).
    pub value: Option<f64>,
    /// What `value` counts: `per_day`, `hours` or `ratio`.
    pub unit: &'static str,
    /// elite, high, medium or low, against the 2024 clusters.
    pub band: Option<&'static str>,
    /// The same figure over the period just before.
    pub previous: Option<f64>,
    /// `value` against `previous`, as a ratio of change (0.25: a quarter more).
    pub change: Option<f64>,
}

/// One week of the trend.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Week {
    /// The week's first moment (RFC 3339).
    pub from: String,
    pub deployments: usize,
    pub deployments_per_day: f64,
    pub lead_time_hours: Option<f64>,
    pub change_failure_rate: Option<f64>,
    pub recovery_hours: Option<f64>,
}

/// The four metrics, how they were classified, and the weeks behind them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DoraReport {
    pub application: Option<String>,
    pub environment: String,
    pub days: i64,
    /// The period (RFC 3339), `to` being now.
    pub from: String,
    pub to: String,
    pub deployments: usize,
    pub failures: usize,
    /// Failures of the period with no successful deployment after them yet.
    pub unrecovered_failures: usize,
    pub deployment_frequency: Measure,
    pub change_lead_time: Measure,
    /// `commit` when every deployment's pipeline said when its change was committed, else
    /// `request` (from the request being opened, for those without).
    pub lead_time_from: &'static str,
    pub change_failure_rate: Measure,
    pub recovery_time: Measure,
    /// The nearest 2024 cluster, and how it was found.
    pub cluster: Option<&'static str>,
    pub classification: &'static str,
    pub weeks: Vec<Week>,
    /// Where the lead time of the period's successful deployments went.
    pub lead_time_breakdown: LeadTimeBreakdown,
}

/// Who reads the metrics.
pub enum Reader<'a> {
    /// A pipeline's token, of scope `metrics:read`: the applications it may touch.
    Token(&'a TokenRow),
    /// A signed-in person: the applications they may read.
    Person(Vec<String>),
}

/// The report for `reader`: the one kept in `reports` while nothing it is computed from has
/// changed.
pub async fn dora(
    db: &Db,
    reports: &Reports,
    catalog: &Catalog,
    reader: &Reader<'_>,
    filter: &DoraFilter,
) -> Result<Answer> {
    let key = scope(catalog, reader, filter)?;
    let counter = deployments::metrics_counter(db).await?;
    reports
        .get(key.clone(), counter, || compute(db, &key))
        .await
}

/// The deployments behind the figures of the report for `reader` (read afresh: they are asked
/// for rarely, and are too many to keep).
pub async fn behind(
    db: &Db,
    catalog: &Catalog,
    reader: &Reader<'_>,
    filter: &DoraFilter,
) -> Result<Vec<dora::Deployment>> {
    let key = scope(catalog, reader, filter)?;
    let from = now_ms() - key.days * DAY;
    Ok(deployments::since(db, &key.applications, &key.environment, from).await?)
}

/// What `reader` asked for and may see: the applications the filters and their rights leave.
fn scope(catalog: &Catalog, reader: &Reader<'_>, filter: &DoraFilter) -> Result<Key> {
    if let Reader::Token(token) = reader {
        crate::service::tokens::require_scope(token, &[SCOPE])?;
    }
    let (application, environment, days) = checked(catalog, filter)?;
    let allowed: Option<Vec<String>> = match reader {
        Reader::Token(t) if t.applications.iter().any(|a| a == "*") => None,
        Reader::Token(t) => Some(t.applications.clone()),
        Reader::Person(readable) => Some(readable.clone()),
    };
    if let Some(app) = application {
        if allowed
            .as_ref()
            .is_some_and(|a| !a.iter().any(|id| id == app))
        {
            return Err(Error::Forbidden(match reader {
                Reader::Token(t) => format!(
                    "The token \"{}\" may not touch the application {app}.",
                    t.name
                ),
                Reader::Person(_) => format!("You may not see the application {app}."),
            }));
        }
    }
    let team = filter.team.as_deref();
    let applications = catalog
        .applications
        .iter()
        .filter(|a| application.is_none_or(|id| a.id == id))
        .filter(|a| team.is_none_or(|t| a.owner == t))
        .filter(|a| allowed.as_ref().is_none_or(|ids| ids.contains(&a.id)))
        .map(|a| a.id.clone())
        .collect();
    Ok(Key {
        application: application.map(str::to_owned),
        environment: environment.to_owned(),
        days,
        applications,
    })
}

/// The report read and computed afresh.
async fn compute(db: &Db, key: &Key) -> Result<Answer> {
    let (applications, environment) = (&key.applications, key.environment.as_str());
    let to = now_ms();
    let from = to - key.days * DAY;
    // Two connections at once: readers waiting for this report wait for the slower only.
    let (all, waits) = tokio::try_join!(
        deployments::since(db, applications, environment, from - key.days * DAY),
        deployments::waits(db, applications, environment, from, to),
    )?;
    let application = key.application.as_deref();
    Ok(Arc::new(report(
        &all,
        &waits,
        application,
        environment,
        key.days,
        from,
        to,
    )))
}

/// The filters checked, each mistake named by its field: the application, the environment and
/// the number of days.
fn checked<'f>(
    catalog: &Catalog,
    filter: &'f DoraFilter,
) -> Result<(Option<&'f str>, &'f str, i64)> {
    let mut errors = BTreeMap::new();
    let application = filter.application.as_deref();
    if let Some(app) = application.filter(|a| catalog.application(a).is_none()) {
        errors.insert(
            "application".into(),
            format!("There is no application {app}."),
        );
    }
    if let Some(team) = filter.team.as_deref().filter(|t| catalog.team(t).is_none()) {
        errors.insert("team".into(), format!("There is no team {team}."));
    }
    let environment = filter.environment.as_deref().unwrap_or("production");
    // An environment some application has; one the chosen application lacks simply has no
    // deployments.
    if !catalog
        .applications
        .iter()
        .any(|a| a.environment(environment).is_some())
    {
        errors.insert(
            "environment".into(),
            format!("No application here has the environment {environment}."),
        );
    }
    let days = match filter.days.as_deref() {
        None => 90,
        Some("30") => 30,
        Some("90") => 90,
        Some("180") => 180,
        Some(_) => {
            errors.insert("days".into(), "Give 30, 90 or 180.".into());
            90
        }
    };
    if errors.is_empty() {
        Ok((application, environment, days))
    } else {
        Err(Error::Invalid(errors))
    }
}

/// The report of `all` for the period `[from, to)` of `days` days.
pub fn report(
    all: &[dora::Deployment],
    waits: &[deployments::Wait],
    application: Option<&str>,
    environment: &str,
    days: i64,
    from: i64,
    to: i64,
) -> DoraReport {
    let history = dora::History::new(all);
    let now = history.figures(from, to);
    let before = history.figures(from - (to - from), from);
    let successes = history.successes(from, to);
    let bands = now.bands();
    let measure = |unit, i: usize, read: fn(&Figures) -> Option<f64>| {
        let (value, previous) = (read(&now), read(&before));
        Measure {
            value,
            unit,
            band: bands[i].map(dora::Band::as_str),
            previous,
            change: value
                .zip(previous)
                .filter(|(_, p)| *p > 0.0)
                .map(|(v, p)| (v - p) / p),
        }
    };
    let hours = |ms: Option<i64>| ms.map(|ms| ms as f64 / HOUR);
    DoraReport {
        application: application.map(str::to_owned),
        environment: environment.to_owned(),
        days,
        from: rfc3339(from),
        to: rfc3339(to),
        deployments: now.deployments,
        failures: now.failures,
        unrecovered_failures: now.unrecovered,
        deployment_frequency: measure("per_day", 0, |f| Some(f.per_day)),
        change_lead_time: measure("hours", 1, |f| f.lead_time_ms.map(|ms| ms as f64 / HOUR)),
        lead_time_from: if now.lead_from_commits {
            "commit"
        } else {
            "request"
        },
        change_failure_rate: measure("ratio", 2, |f| f.failure_rate),
        recovery_time: measure("hours", 3, |f| f.recovery_ms.map(|ms| ms as f64 / HOUR)),
        cluster: now.cluster().map(dora::Band::as_str),
        classification: "Each figure has the band of its 2024 range (the failure rate: the \
            cluster whose figure is nearest); the cluster is the one nearest over the four \
            figures on a log scale.",
        lead_time_breakdown: lead_time::summary(&successes, waits).into(),
        weeks: history
            .weekly(from, to)
            .into_iter()
            .map(|(start, f)| Week {
                from: rfc3339(start),
                deployments: f.deployments,
                deployments_per_day: f.per_day,
                lead_time_hours: hours(f.lead_time_ms),
                change_failure_rate: f.failure_rate,
                recovery_hours: hours(f.recovery_ms),
            })
            .collect(),
    }
}
