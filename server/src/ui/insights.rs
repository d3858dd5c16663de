//! The Insights page: the DORA report for a person, presented (figures in words, bands, the
//! period before, the weekly trends), and the CSV of the deployments behind it.

use super::viewer::{filter_choices, readable};
use crate::domain::dora::Deployment;
use crate::domain::text::capitalise;
use crate::domain::Catalog;
use crate::service::error::Error;
use crate::service::insights::{self, DoraFilter, Measure, Reader};
use crate::service::lead_time::{ApplicationLeadTime, Durations, LeadTimeBreakdown};
use crate::state::AppState;
use app::model::{
    BarPiece, InsightsFilter, InsightsView, LeadTimeBar, LeadTimeView, MetricCard, TrendPoint,
    Viewer, WaitRow,
};

/// The page's filters as the service reads them: blanks are "not chosen".
pub fn filter(f: &InsightsFilter) -> DoraFilter {
    let given = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
    DoraFilter {
        application: given(&f.app),
        environment: given(&f.env),
        team: given(&f.team),
        days: given(&f.days),
    }
}

/// The deployments behind the figures `viewer` sees.
pub async fn deployments(
    state: &AppState,
    viewer: &Viewer,
    f: &DoraFilter,
) -> Result<Vec<Deployment>, Error> {
    let active = state.catalog.current();
    let reader = Reader::Person(readable(&active.catalog, viewer));
    insights::behind(&state.db, &active.catalog, &reader, f).await
}

pub async fn page(
    state: &AppState,
    viewer: &Viewer,
    f: &InsightsFilter,
) -> Result<InsightsView, Error> {
    let dora = filter(f);
    let active = state.catalog.current();
    let catalog = &active.catalog;
    let readable = readable(catalog, viewer);
    let reader = Reader::Person(readable.clone());
    let answer = insights::dora(&state.db, &state.reports, catalog, &reader, &dora).await?;
    let r = &*answer;
    let (applications, environments) = filter_choices(catalog, &readable);
    let days = r.days;
    let weeks: Vec<String> = r.weeks.iter().map(|w| day(&w.from)).collect();
    let trend = |read: fn(&insights::Week) -> Option<f64>, text: fn(f64) -> String| {
        r.weeks
            .iter()
            .zip(&weeks)
            .map(|(w, label)| {
                let value = read(w);
                TrendPoint {
                    label: label.clone(),
                    value,
                    text: value.map_or_else(|| "nothing to measure".into(), text),
                }
            })
            .collect::<Vec<_>>()
    };
    let metrics = vec![
        card(
            "frequency",
            "Deployment frequency",
            &r.deployment_frequency,
            frequency,
            days,
            "elite: daily or more · high: at least weekly · medium: at least monthly · low: less often",
            "Successful deployments per day over the period.",
            trend(|w| Some(w.deployments_per_day), frequency),
        ),
        card(
            "lead-time",
            "Change lead time",
            &r.change_lead_time,
            hours,
            days,
            "elite: under a day · high: under a week · medium: under a month · low: longer",
            if r.lead_time_from == "commit" {
                "Median time from the change's commit (as the pipelines said) to its deployment ending."
            } else {
                "Median time from the change's commit where a pipeline said when (else from the request being opened) to its deployment ending."
            },
            trend(|w| w.lead_time_hours, hours),
        ),
        card(
            "failure-rate",
            "Change failure rate",
            &r.change_failure_rate,
            percent,
            days,
            "the nearest 2024 figure: elite 5 % · medium 10 % · high 20 % · low 40 %",
            "Deployments that failed, or needed an incident or a rollback afterwards, over all deployments.",
            trend(|w| w.change_failure_rate, percent),
        ),
        card(
            "recovery",
            "Failed deployment recovery time",
            &r.recovery_time,
            hours,
            days,
            "elite: under an hour · high: under a day · medium: under a week · low: longer",
            "Median time from a failure to the next successful deployment of the same application and environment.",
            trend(|w| w.recovery_hours, hours),
        ),
    ];
    let query = serde_urlencoded::to_string([
        ("app", &f.app),
        ("env", &r.environment),
        ("team", &f.team),
        ("days", &days.to_string()),
    ])
    .unwrap_or_default();
    Ok(InsightsView {
        application: r.application.clone().unwrap_or_default(),
        environment: r.environment.clone(),
        team: dora.team.unwrap_or_default(),
        days,
        applications,
        environments,
        teams: catalog
            .teams
            .iter()
            .map(|t| (t.id.clone(), t.name.clone()))
            .collect(),
        period: format!("{} to {}", day(&r.from), day(&r.to)),
        deployments: r.deployments,
        failures: r.failures,
        unrecovered: r.unrecovered_failures,
        metrics,
        cluster: r.cluster.map(str::to_owned),
        classification: r.classification.to_owned(),
        query,
        lead_time: lead_time(catalog, &r.lead_time_breakdown),
    })
}

/// The class names of the segments, in the order the breakdown gives them.
const SEGMENT_KEYS: [&str; 5] = ["commit", "approvals", "window", "provisioning", "deploying"];

fn lead_time(catalog: &Catalog, b: &LeadTimeBreakdown) -> LeadTimeView {
    let sum = |a: &ApplicationLeadTime, read: fn(&Durations) -> f64| -> f64 {
        a.segments.iter().map(|s| read(&s.durations)).sum()
    };
    let longest = b
        .applications
        .iter()
        .map(|a| sum(a, |d| d.median_hours).max(sum(a, |d| d.p90_hours)))
        .fold(0.0_f64, f64::max);
    let pieces = |a: &ApplicationLeadTime, read: fn(&Durations) -> f64| -> Vec<BarPiece> {
        a.segments
            .iter()
            .zip(SEGMENT_KEYS)
            // Commit to request only where some pipeline said when it committed.
            .filter(|(s, _)| s.durations.count > 0)
            .map(|(s, key)| BarPiece {
                key: key.into(),
                name: capitalise(s.segment),
                text: hours(read(&s.durations)),
                width: if longest > 0.0 {
                    read(&s.durations) / longest * 100.0
                } else {
                    0.0
                },
            })
            .collect()
    };
    let row = |name: String, d: &Durations| WaitRow {
        name,
        count: d.count,
        median: hours(d.median_hours),
        p90: hours(d.p90_hours),
    };
    let app_name = |id: &str| {
        catalog
            .application(id)
            .map_or(id, |a| a.name.as_str())
            .to_owned()
    };
    LeadTimeView {
        bars: b
            .applications
            .iter()
            .map(|a| LeadTimeBar {
                application: app_name(&a.application),
                deployments: a.segments.get(1).map_or(0, |s| s.durations.count),
                median: pieces(a, |d| d.median_hours),
                p90: pieces(a, |d| d.p90_hours),
            })
            .collect(),
        stages: b
            .slowest_stages
            .iter()
            .map(|s| {
                row(
                    format!("{} · {}", app_name(&s.application), s.stage),
                    &s.durations,
                )
            })
            .collect(),
        teams: b
            .team_answers
            .iter()
            .map(|t| {
                let name = catalog
                    .team(&t.team)
                    .map_or(t.team.as_str(), |t| t.name.as_str());
                row(name.to_owned(), &t.durations)
            })
            .collect(),
        people: b.waiting_for_people.map_or_else(String::new, |share| {
            format!(
                "{:.0} % of the lead time was spent waiting for approvals.",
                share * 100.0
            )
        }),
    }
}

#[allow(clippy::too_many_arguments)]
fn card(
    key: &str,
    name: &str,
    m: &Measure,
    text: fn(f64) -> String,
    days: i64,
    bands: &str,
    definition: &str,
    trend: Vec<TrendPoint>,
) -> MetricCard {
    let previous = match (m.previous, m.change) {
        (Some(p), Some(c)) => format!(
            "{} in the {days} days before ({}{:.0} %)",
            text(p),
            if c >= 0.0 { "+" } else { "−" },
            (c * 100.0).abs()
        ),
        (Some(p), None) => format!("{} in the {days} days before", text(p)),
        (None, _) => format!("Nothing to compare in the {days} days before"),
    };
    MetricCard {
        key: key.into(),
        name: name.into(),
        value: m.value.map_or_else(|| "—".into(), text),
        band: m.band.map(str::to_owned),
        bands: bands.into(),
        previous,
        definition: definition.into(),
        trend,
    }
}

/// A frequency per day, in the unit that reads best.
fn frequency(per_day: f64) -> String {
    if per_day <= 0.0 {
        "none".into()
    } else if per_day >= 1.0 {
        format!("{per_day:.1} a day")
    } else if per_day * 7.0 >= 1.0 {
        format!("{:.1} a week", per_day * 7.0)
    } else {
        format!("{:.1} a month", per_day * 30.0)
    }
}

/// Hours, in minutes, hours or days.
fn hours(h: f64) -> String {
    if h < 1.0 {
        format!("{:.0} min", h * 60.0)
    } else if h < 48.0 {
        format!("{h:.1} h")
    } else {
        format!("{:.1} days", h / 24.0)
    }
}

fn percent(ratio: f64) -> String {
    format!("{:.0} %", ratio * 100.0)
}

/// The day of an RFC 3339 moment.
fn day(moment: &str) -> String {
    moment.get(..10).unwrap_or(moment).to_owned()
}

/// The deployments behind the figures, one CSV line each. Every value is a catalog id, a number,
/// a time or a checked version (letters, digits and `. _ + -`, starting with a letter or a digit),
/// so none needs quoting and none can start a spreadsheet formula.
pub fn csv(deployments: &[Deployment]) -> String {
    let mut out = String::from(
        "request_id,application,environment,version,commit_at,requested_at,finished_at,outcome,\
         incident,approvals_ms,schedule_or_window_ms,provisioning_ms,deploying_ms\n",
    );
    let time = crate::service::gate::rfc3339;
    for d in deployments {
        let [approvals, window, provisioning, deploying] = d.segments;
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{approvals},{window},{provisioning},{deploying}\n",
            d.request_id,
            d.application,
            d.environment,
            d.version,
            d.commit_at.map(time).unwrap_or_default(),
            time(d.requested_at),
            time(d.finished_at),
            if d.succeeded { "succeeded" } else { "failed" },
            d.incident
        ));
    }
    out
}
