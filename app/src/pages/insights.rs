//! Insights: the four DORA metrics of the deployments the portal made or followed, each with its
//! band against the 2024 clusters, the period before and a weekly trend.

use crate::api::gate::get_insights;
use crate::api::wire::load;
use crate::components::feedback::loaded;
use crate::components::request_table::choices;
use crate::model::{
    BarPiece, InsightsFilter, InsightsView, LeadTimeBar, LeadTimeView, MetricCard, WaitRow,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use leptos_router::{lazy_route, LazyRoute};

pub struct InsightsPage;

#[lazy_route]
impl LazyRoute for InsightsPage {
    fn data() -> Self {
        Self
    }

    fn view(_route: Self) -> AnyView {
        // Loaded here rather than in `data`: the code reading the data then is in the
        // page's chunk, not in the bundle every page downloads.
        let query = use_query_map();
        let filter = move || {
            query.with(|q| InsightsFilter {
                app: q.get("app").unwrap_or_default(),
                env: q.get("env").unwrap_or_default(),
                team: q.get("team").unwrap_or_default(),
                days: q.get("days").unwrap_or_default(),
            })
        };
        let insights = load(filter, get_insights);
        view! {
            <Title text="Insights"/>
            {loaded(insights, |view| view! { <Insights view=view/> })}
        }
        .into_any()
    }
}

#[component]
fn Insights(view: InsightsView) -> impl IntoView {
    let InsightsView {
        application,
        environment,
        team,
        days,
        applications,
        environments,
        teams,
        period,
        deployments,
        failures,
        unrecovered,
        metrics,
        cluster,
        classification,
        query,
        lead_time,
    } = view;
    let periods = [30, 90, 180]
        .map(|d| (d.to_string(), format!("{d} days")))
        .to_vec();
    let summary = format!(
        "{deployments} deployment(s) to {environment}, {period}: {failures} needed remediation, {unrecovered} not yet recovered."
    );
    view! {
        <h1>"Insights"</h1>
        <form method="get" action="/insights" class="filters">
            <select name="app" aria-label="Application">
                <option value="">"All applications"</option>
                {choices(applications, &application)}
            </select>
            <select name="env" aria-label="Environment">{choices(environments, &environment)}</select>
            <select name="team" aria-label="Team">
                <option value="">"Every team"</option>
                {choices(teams, &team)}
            </select>
            <select name="days" aria-label="Period">{choices(periods, &days.to_string())}</select>
            <button type="submit">"Show"</button>
        </form>
        <p data-testid="insights-summary">{summary}</p>
        <section class="card" data-testid="cluster">
            <h2>
                "Overall: "
                {match cluster {
                    Some(c) => view! { <span class=format!("band band-{c}")>{c.clone()}</span> }.into_any(),
                    None => view! { <span class="muted">"not enough deployments to say"</span> }.into_any(),
                }}
            </h2>
            <p class="muted">{classification}</p>
        </section>
        <div class="insights">
            {metrics.into_iter().map(|m| view! { <Metric card=m/> }).collect_view()}
        </div>
        <LeadTime view=lead_time/>
        <p>
            <a href=format!("/insights/deployments.csv?{query}") data-testid="insights-csv" rel="external" download="">
                "Download the deployments behind these figures (CSV)"
            </a>
        </p>
    }
}

/// Chart size in SVG units; the chart scales to its box.
const WIDTH: f32 = 320.0;
const HEIGHT: f32 = 90.0;
const PAD: f32 = 4.0;

#[component]
fn Metric(card: MetricCard) -> impl IntoView {
    let MetricCard {
        key,
        name,
        value,
        band,
        bands,
        previous,
        definition,
        trend,
    } = card;
    let top = trend.iter().filter_map(|p| p.value).fold(0.0_f64, f64::max);
    let step = (WIDTH - 2.0 * PAD) / trend.len().max(1) as f32;
    let label = format!("{name}, week by week");
    view! {
        <figure class="card chart metric" data-testid=format!("metric-{key}")>
            <figcaption>
                <strong>{name}</strong>
                <span class="figure" data-testid="figure">{value}</span>
                {band.map(|b| view! { <span class=format!("band band-{b}") data-testid="band">{b.clone()}</span> })}
            </figcaption>
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=label>
                <line class="axis" x1=PAD y1=HEIGHT - PAD x2=WIDTH - PAD y2=HEIGHT - PAD/>
                {trend.into_iter().enumerate().map(|(i, p)| {
                    let share = match (p.value, top > 0.0) {
                        (Some(v), true) => (v / top) as f32,
                        _ => 0.0,
                    };
                    let h = share * (HEIGHT - 2.0 * PAD);
                    view! {
                        <rect class="bar" x=PAD + i as f32 * step + 1.0 y=HEIGHT - PAD - h width=(step - 2.0).max(1.0) height=h>
                            <title>{format!("{}: {}", p.label, p.text)}</title>
                        </rect>
                    }
                }).collect_view()}
            </svg>
            <p class="muted">{previous}</p>
            <p><small>{bands}</small></p>
            <p><small>{definition}</small></p>
        </figure>
    }
}

/// Where lead time goes: a stacked bar of the medians and one of the 90th percentiles per
/// application, the slowest approval stages and the approver teams' answer times.
#[component]
fn LeadTime(view: LeadTimeView) -> impl IntoView {
    let LeadTimeView {
        bars,
        stages,
        teams,
        people,
    } = view;
    let empty = bars.is_empty();
    view! {
        <section class="card lead-time" data-testid="lead-time">
            <h2>"Where lead time goes"</h2>
            {if empty {
                view! { <p class="muted">"No successful deployment in the period to take apart."</p> }.into_any()
            } else {
                view! {
                    <p data-testid="people-share">{people}</p>
                    <ul class="legend">
                        {bars.first().map(|b| b.median.iter().map(|p| view! {
                            <li><span class=format!("swatch seg-{}", p.key)></span>{p.name.clone()}</li>
                        }).collect_view())}
                    </ul>
                    {bars.into_iter().map(|b| view! { <Bar bar=b/> }).collect_view()}
                }.into_any()
            }}
            <div class="waits">
                <Waits title="Slowest approval stages" testid="slowest-stages" rows=stages/>
                <Waits title="Approver teams' answer times" testid="team-answers" rows=teams/>
            </div>
        </section>
    }
}

#[component]
fn Bar(bar: LeadTimeBar) -> impl IntoView {
    let LeadTimeBar {
        application,
        deployments,
        median,
        p90,
    } = bar;
    let row = |label: &'static str, pieces: Vec<BarPiece>| {
        let text = pieces
            .iter()
            .map(|p| format!("{} {}", p.name, p.text))
            .collect::<Vec<_>>()
            .join(", ");
        let mut x = 0.0;
        let rects = pieces
            .into_iter()
            .map(|p| {
                let at = x;
                x += p.width;
                view! {
                    <rect class=format!("seg-{}", p.key) x=at y="0" width=p.width height="10">
                        <title>{format!("{}: {}", p.name, p.text)}</title>
                    </rect>
                }
            })
            .collect_view();
        view! {
            <div class="bar-row">
                <span class="muted">{label}</span>
                <svg viewBox="0 0 100 10" preserveAspectRatio="none" role="img" aria-label=format!("{label}: {text}")>
                    {rects}
                </svg>
                <small>{text.clone()}</small>
            </div>
        }
    };
    view! {
        <figure class="stacked" data-testid="lead-time-bar">
            <figcaption><strong>{application}</strong>" · "{format!("{deployments} deployment(s)")}</figcaption>
            {row("median", median)}
            {row("90th percentile", p90)}
        </figure>
    }
}

#[component]
fn Waits(title: &'static str, testid: &'static str, rows: Vec<WaitRow>) -> impl IntoView {
    view! {
        <div data-testid=testid>
            <h3>{title}</h3>
            {if rows.is_empty() {
                view! { <p class="muted">"None in the period."</p> }.into_any()
            } else {
                view! {
                    <table>
                        <thead><tr><th scope="col">"Who"</th><th scope="col">"Answers"</th><th scope="col">"Median"</th><th scope="col">"90th percentile"</th></tr></thead>
                        <tbody>
                            {rows.into_iter().map(|r| view! {
                                <tr><td>{r.name}</td><td>{r.count}</td><td>{r.median}</td><td>{r.p90}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </div>
    }
}
