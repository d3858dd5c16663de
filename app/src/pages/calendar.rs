use crate::api::calendar::get_calendar;
use crate::api::wire::load;
use crate::components::feedback::{loaded_or, ErrorNotice, NoticeBox};
use crate::components::request_table::choices;
use crate::model::{CalendarDay, CalendarView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use leptos_router::{lazy_route, LazyRoute};

/// The change calendar: a week or a month of deployments, change windows and freezes, linked by
/// its address (`?month=2026-12`, `?week=2026-W51`).
pub struct CalendarPage;

#[lazy_route]
impl LazyRoute for CalendarPage {
    fn data() -> Self {
        Self
    }

    fn view(_route: Self) -> AnyView {
        // Loaded here rather than in `data`, so that the code reading it is in the page's chunk.
        let query = use_query_map();
        let ask = move || {
            query.with(|q| {
                let get = |k: &str| q.get(k).unwrap_or_default();
                (get("month"), get("week"), get("team"), get("application"))
            })
        };
        let calendar = load(ask, |(month, week, team, application)| {
            get_calendar(month, week, team, application)
        });
        view! {
            <Title text="Change calendar"/>
            {loaded_or(
                calendar,
                |c| view! { <Calendar calendar=c/> },
                |e| view! {
                    <h1>"Change calendar"</h1>
                    <ErrorNotice error=e/>
                    <p><a href="/calendar">"This week"</a></p>
                },
            )}
        }
        .into_any()
    }
}

#[component]
fn Calendar(calendar: CalendarView) -> impl IntoView {
    let c = calendar;
    let filters = |period: &str| {
        let mut q = period.to_owned();
        for (k, v) in [("team", &c.team), ("application", &c.application)] {
            if !v.is_empty() {
                q.push_str(&format!("&{k}={v}"));
            }
        }
        format!("/calendar?{q}")
    };
    let other = if c.mode == "week" {
        "Month view"
    } else {
        "Week view"
    };
    let (period_field, period_value) = c
        .this
        .split_once('=')
        .map_or((String::new(), String::new()), |(k, v)| {
            (k.to_owned(), v.to_owned())
        });
    view! {
        <h1>{format!("Change calendar: {}", c.title)}</h1>
        <nav class="filters" aria-label="Period">
            <a href=filters(&c.previous) rel="prev">"← Previous"</a>" · "
            <a href=filters(&c.next) rel="next">"Next →"</a>" · "
            <a href=filters(&c.other)>{other}</a>" · "
            <a href="/calendar">"This week"</a>
        </nav>
        <form method="get" action="/calendar" class="filters">
            <input type="hidden" name=period_field value=period_value/>
            <label>"Team "
                <select name="team">
                    <option value="">"All"</option>
                    {choices(c.teams.clone(), &c.team)}
                </select>
            </label>
            <label>" Application "
                <select name="application">
                    <option value="">"All"</option>
                    {choices(c.applications.clone(), &c.application)}
                </select>
            </label>
            <button type="submit">"Show"</button>
        </form>
        <p class="muted">{format!("Times in {}. Shaded: change windows; marked: freezes and blackouts.", c.time_zone)}</p>
        <ol class=format!("calendar calendar-{}", c.mode) data-testid="calendar">
            {c.days.into_iter().map(|d| view! { <Day day=d/> }).collect_view()}
        </ol>
        <Feed since=c.feed_since url=c.feed_url notice=c.notice/>
    }
}

/// The viewer's private iCalendar address: made (shown once), replaced or revoked.
#[component]
fn Feed(
    since: Option<String>,
    url: Option<String>,
    notice: Option<crate::model::Notice>,
) -> impl IntoView {
    let made = since.is_some();
    view! {
        <section class="card" data-testid="feed">
            <h2>"In your own calendar"</h2>
            <NoticeBox notice/>
            {match (url, since) {
                (Some(url), _) => view! {
                    <p>"Subscribe to this address in your calendar application. It is shown once and shows what you may read; add "
                        <code>"&team=<id>"</code>" or "<code>"&application=<id>"</code>" to keep to one."</p>
                    <p><code data-testid="feed-url">{url}</code></p>
                }.into_any(),
                (None, Some(since)) => view! { <p>{format!("You have a private feed address, made {since}.")}</p> }.into_any(),
                (None, None) => view! { <p>"A private address gives your calendar application these deployments and freezes."</p> }.into_any(),
            }}
            <form method="post" action="/calendar/feed" class="inline">
                <button type="submit">{if made { "Replace the address" } else { "Make a private address" }}</button>
            </form>
            {made.then(|| view! {
                " "
                <form method="post" action="/calendar/feed/revoke" class="inline">
                    <button type="submit" class="danger">"Revoke it"</button>
                </form>
            })}
        </section>
    }
}

#[component]
fn Day(day: CalendarDay) -> impl IntoView {
    let class = format!(
        "day{}{}{}",
        if day.today { " today" } else { "" },
        if day.windows.is_empty() {
            ""
        } else {
            " in-window"
        },
        if day.freezes.is_empty() {
            ""
        } else {
            " frozen"
        }
    );
    let date = day.date.clone();
    view! {
        <li class=class data-date=date>
            <h2 class="day-label"><time datetime=day.date>{day.label}</time></h2>
            {day.windows.into_iter().map(|w| view! { <p class="window">{w}</p> }).collect_view()}
            {day.freezes.into_iter().map(|f| view! { <p class="freeze">{format!("Frozen: {f}")}</p> }).collect_view()}
            <ul class="entries">
                {day.entries.into_iter().map(|e| {
                    let class = format!("entry entry-{}", e.status.replace(' ', "-"));
                    let change = (!e.change.is_empty()).then(|| format!(" ({})", e.change));
                    view! {
                        <li class=class>
                            <a href=format!("/requests/{}", e.request_id)>
                                {format!("{} #{} {}", e.time, e.request_id, e.text)}
                            </a>
                            {format!(" — {}", e.status)}
                            {change}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </li>
    }
}
