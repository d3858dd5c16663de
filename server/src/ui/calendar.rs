//! The change calendar as its page shows it: the days of a week or a month in the viewer's time
//! zone, each with the openings of the change windows, the freezes and blackouts, and the
//! deployments set for it, in progress or ended; filtered by team and application.

use super::viewer::{readable, team_ids};
use crate::db::calendar::{entries, Entry};
use crate::db::{now_ms, Db};
use crate::domain::calendar::{day_start, freeze_spans, window_spans, Period};
use crate::domain::{ics, Application, Catalog, Freeze};
use crate::service::error::Error;
use app::model::{CalendarDay, CalendarEntry, CalendarView, Viewer};
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// What the calendar page shows once after a feed address is made: its key.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct MadeKey {
    pub key: String,
}

/// What the calendar page asks for: a period and its filters, as the address gives them.
#[derive(Debug, Clone, Default)]
pub struct Ask {
    pub month: String,
    pub week: String,
    pub team: String,
    pub application: String,
}

pub async fn calendar(
    db: &Db,
    catalog: &Catalog,
    viewer: &Viewer,
    ask: &Ask,
) -> Result<CalendarView, Error> {
    let tz = TimeZone::get(&viewer.time_zone).unwrap_or(TimeZone::UTC);
    let now = now_ms();
    let today = Timestamp::from_millisecond(now)
        .map(|t| t.to_zoned_datetime(tz.clone()).date())
        .unwrap_or_default();
    let period = Period::parse(ask.month.trim(), ask.week.trim(), today)
        .map_err(|(field, message)| Error::invalid(&field, message))?;
    let (team, application) = (ask.team.trim(), ask.application.trim());
    if !team.is_empty() && catalog.team(team).is_none() {
        return Err(Error::invalid("team", format!("There is no team {team}.")));
    }
    let readable = readable(catalog, viewer);
    if !application.is_empty() && !readable.iter().any(|a| a == application) {
        return Err(Error::invalid(
            "application",
            format!("There is no application {application} you may read."),
        ));
    }
    let shown = shown(catalog, &readable, team, application);
    let (first, count) = period.days();
    let day = |i: i32| first.saturating_add(jiff::Span::new().days(i));
    let (from, to) = (day_start(first, &tz), day_start(day(count), &tz));
    // Each window named with the environments whose policies open it.
    let mut governed: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for a in &shown {
        for e in &a.environments {
            for w in &e.policy.windows {
                governed
                    .entry(w.as_str())
                    .or_default()
                    .push(format!("{} {}", a.name, e.name));
            }
        }
    }
    let windows: Vec<(String, i64, i64)> = governed
        .iter()
        .flat_map(|(id, envs)| {
            window_spans(catalog, &[(*id).to_owned()], from, to)
                .into_iter()
                .map(move |(name, s, e)| (format!("{name} ({})", envs.join(", ")), s, e))
        })
        .collect();
    let freezes: Vec<(String, i64, i64)> = frozen(catalog, &shown, (from, to))
        .map(|(f, s, e)| {
            let whom = if f.environments.is_empty() {
                String::new()
            } else {
                format!(" ({})", f.environments.join(", "))
            };
            (format!("{}{whom}", f.reason), s, e)
        })
        .collect();
    let found = entries(db, &ids(&shown), (from, to), now).await?;
    let local = |ms: i64, format: &str| {
        Timestamp::from_millisecond(ms)
            .map(|t| t.to_zoned_datetime(tz.clone()).strftime(format).to_string())
            .unwrap_or_default()
    };
    let days = (0..count)
        .map(|i| {
            let date = day(i);
            let (start, end) = (day_start(date, &tz), day_start(day(i + 1), &tz));
            let hours = |s: i64, e: i64| {
                if s <= start && e >= end {
                    "all day".to_owned()
                } else {
                    let until = if e >= end {
                        "24:00".to_owned()
                    } else {
                        local(e, "%H:%M")
                    };
                    format!("{}–{until}", local(s.max(start), "%H:%M"))
                }
            };
            let during = |spans: &[(String, i64, i64)]| -> Vec<String> {
                spans
                    .iter()
                    .filter(|(_, s, e)| *s < end && *e > start)
                    .map(|(name, s, e)| format!("{name} {}", hours(*s, *e)))
                    .collect()
            };
            CalendarDay {
                date: date.to_string(),
                label: date.strftime("%a %-d").to_string(),
                today: date == today,
                windows: during(&windows),
                freezes: during(&freezes),
                entries: found
                    .iter()
                    .filter(|e| e.at >= start && e.at < end)
                    .map(|e| entry(catalog, e, local(e.at, "%H:%M")))
                    .collect(),
            }
        })
        .collect();
    let other = match period {
        Period::Month { .. } => {
            let iso = first.iso_week_date();
            Period::Week {
                year: iso.year(),
                week: iso.week(),
            }
        }
        Period::Week { .. } => Period::Month {
            year: first.year(),
            month: first.month(),
        },
    };
    let mine = team_ids(viewer);
    Ok(CalendarView {
        title: period.title(),
        mode: match period {
            Period::Month { .. } => "month",
            Period::Week { .. } => "week",
        }
        .to_owned(),
        this: period.query(),
        previous: period.step(-1).query(),
        next: period.step(1).query(),
        other: other.query(),
        time_zone: tz.iana_name().unwrap_or("UTC").to_owned(),
        days,
        teams: catalog
            .teams
            .iter()
            .filter(|t| super::viewer::privileged(viewer) || mine.contains(&t.id) || !t.ops)
            .map(|t| (t.id.clone(), t.name.clone()))
            .collect(),
        applications: catalog
            .applications
            .iter()
            .filter(|a| readable.contains(&a.id))
            .map(|a| (a.id.clone(), a.name.clone()))
            .collect(),
        team: team.to_owned(),
        application: application.to_owned(),
        feed_since: None,
        feed_url: None,
        notice: None,
    })
}

/// The readable applications the filters keep: one application, or those a team owns or whose
/// policies name it.
fn shown<'a>(
    catalog: &'a Catalog,
    readable: &[String],
    team: &str,
    application: &str,
) -> Vec<&'a Application> {
    catalog
        .applications
        .iter()
        .filter(|a| readable.contains(&a.id))
        .filter(|a| application.is_empty() || a.id == application)
        .filter(|a| {
            team.is_empty()
                || a.owner == team
                || a.environments.iter().any(|e| e.policy.names_team(team))
        })
        .collect()
}

/// The iCalendar feed of `viewer`'s calendar, filtered as the page is: the deployments and the
/// freezes of the last 30 days and the next 180.
pub async fn feed(
    db: &Db,
    catalog: &Catalog,
    viewer: &Viewer,
    (team, application): (&str, &str),
    public_url: &str,
) -> Result<String, Error> {
    let readable = readable(catalog, viewer);
    if !application.is_empty() && !readable.iter().any(|a| a == application) {
        return Err(Error::NotFound(format!(
            "There is no application {application} you may read."
        )));
    }
    let shown = shown(catalog, &readable, team, application);
    let now = now_ms();
    let (from, to) = (now - 30 * DAY, now + 180 * DAY);
    let base = public_url.trim_end_matches('/');
    let mut events: Vec<ics::Event> = entries(db, &ids(&shown), (from, to), now)
        .await?
        .into_iter()
        .map(|e| {
            let CalendarEntry { text, status, .. } = entry(catalog, &e, String::new());
            // The same identifier on every fetch: a planned deployment is one event whatever
            // its time becomes; an ended one is its own.
            let uid = match status.as_str() {
                "succeeded" | "failed" => format!("deployment-{}-{}@runway", e.request_id, e.at),
                _ => format!("request-{}@runway", e.request_id),
            };
            ics::Event {
                uid,
                start_ms: e.at,
                end_ms: e.at + 30 * 60_000,
                summary: format!("#{} {text} ({status})", e.request_id),
                description: String::new(),
                url: format!("{base}/requests/{}", e.request_id),
            }
        })
        .collect();
    for (f, start, end) in frozen(catalog, &shown, (from, to)) {
        events.push(ics::Event {
            uid: format!("freeze-{}-{start}@runway", f.id),
            start_ms: start,
            end_ms: end,
            summary: format!("Freeze: {}", f.reason),
            description: crate::ui::views::freeze_text(f),
            url: format!("{base}/calendar"),
        });
    }
    let name = match (team, application) {
        ("", "") => "Runway changes".to_owned(),
        (team, "") => format!("Runway changes: {}", catalog.team_name(team)),
        (_, app) => format!(
            "Runway changes: {}",
            catalog.application(app).map_or(app, |a| a.name.as_str())
        ),
    };
    Ok(ics::calendar(&name, &events))
}

const DAY: i64 = 86_400_000;

fn ids(shown: &[&Application]) -> Vec<String> {
    shown.iter().map(|a| a.id.clone()).collect()
}

/// The frozen spans in [`from`, `to`) of the freezes that reach the shown applications.
fn frozen<'a>(
    catalog: &'a Catalog,
    shown: &'a [&Application],
    (from, to): (i64, i64),
) -> impl Iterator<Item = (&'a Freeze, i64, i64)> + 'a {
    catalog
        .freezes
        .iter()
        .filter(|f| {
            f.applications.is_empty() || shown.iter().any(|a| f.applications.contains(&a.id))
        })
        .flat_map(move |f| {
            freeze_spans(f, from, to)
                .into_iter()
                .map(move |(s, e)| (f, s, e))
        })
}

fn entry(catalog: &Catalog, e: &Entry, time: String) -> CalendarEntry {
    let (app, env) =
        super::request_lists::target_names(catalog, &e.application_id, &e.environment_id);
    CalendarEntry {
        request_id: e.request_id,
        time,
        text: format!("{app} {} → {env}", e.version),
        status: e.status.clone(),
        change: if e.change_kind == "normal" {
            String::new()
        } else {
            e.change_kind.clone()
        },
    }
}
