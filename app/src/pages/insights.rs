//! Insights: the four DORA metrics of the deployments the portal made or followed, each with its
//! band against the 2024 clusters, the period before and a weekly trend.

use crate::api::gate::get_insights;
use crate::components::feedback::{ErrorNotice, Loading};
use crate::components::request_table::choices;
use crate::model::{InsightsFilter, InsightsView, MetricCard};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn InsightsPage() -> impl IntoView {
    let query = use_query_map();
    let filter = move || {
        query.with(|q| InsightsFilter {
            app: q.get("app").unwrap_or_default(),
            env: q.get("env").unwrap_or_default(),
            team: q.get("team").unwrap_or_default(),
            days: q.get("days").unwrap_or_default(),
        })
    };
    let insights = Resource::new(filter, get_insights);
    view! {
        <Title text="Insights"/>
        <Suspense fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match insights.await {
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    Ok(view) => view! { <Insights view=view/> }.into_any(),
                }
            })}
        </Suspense>
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
