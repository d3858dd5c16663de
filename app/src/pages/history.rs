use crate::api::gate::get_history;
use crate::api::wire::load;
use crate::components::feedback::{loaded_or, ErrorNotice};
use crate::model::{HistoryView, StageSeries};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use leptos_router::{lazy_route, LazyRoute};

/// An application's pipeline history: per stage, results and durations over time.
pub struct HistoryPage;

#[lazy_route]
impl LazyRoute for HistoryPage {
    fn data() -> Self {
        Self
    }

    fn view(_route: Self) -> AnyView {
        // Loaded here rather than in `data`: the code reading the data then is in the
        // page's chunk, not in the bundle every page downloads.
        let params = use_params_map();
        let app = move || params.read().get("id").unwrap_or_default();
        let history = load(app, get_history);
        view! {
            {loaded_or(
                history,
                |h| view! { <HistoryBody history=h/> },
                |e| view! { <Title text="History"/><ErrorNotice error=e/> },
            )}
        }
        .into_any()
    }
}

#[component]
fn HistoryBody(history: HistoryView) -> impl IntoView {
    let HistoryView {
        app_id: _,
        app_name,
        period,
        stages,
        latest,
    } = history;
    view! {
        <Title text=format!("{app_name} history")/>
        <h1>{format!("{app_name}: pipeline history")}</h1>
        <p class="muted">
            {format!("Stage results the pipelines reported, {period}. Each dot is a result (green: succeeded, red: failed), placed by when it finished and how long it took.")}
        </p>
        {if stages.is_empty() {
            view! { <p class="muted" data-testid="no-history">"No stage results yet: pipelines post them to /api/v1/requests/{id}/events."</p> }.into_any()
        } else {
            view! {
                <div class="history">
                    {stages.into_iter().map(|s| view! { <StageChart series=s/> }).collect_view()}
                </div>
            }.into_any()
        }}
        {(!latest.is_empty()).then(|| view! {
            <section>
                <h2>"Latest results"</h2>
                <table class="table" data-testid="history-results">
                    <thead><tr><th>"Finished"</th><th>"Environment"</th><th>"Stage"</th><th>"Result"</th><th>"Took"</th><th>"Metrics"</th><th>"Request"</th></tr></thead>
                    <tbody>
                        {latest.into_iter().map(|r| view! {
                            <tr>
                                <td>{r.at}</td>
                                <td>{r.env_name}</td>
                                <td>{r.stage}</td>
                                <td><span class=format!("state state-{}", r.status)>{r.status.clone()}</span></td>
                                <td>{r.duration}</td>
                                <td><small>{r.metrics}</small></td>
                                <td><a href=format!("/requests/{}", r.request_id)>{format!("#{}", r.request_id)}</a></td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </section>
        })}
    }
}

/// Chart size in SVG units; the chart scales to its box.
const WIDTH: f32 = 600.0;
const HEIGHT: f32 = 160.0;
const PAD: f32 = 12.0;

#[component]
fn StageChart(series: StageSeries) -> impl IntoView {
    let StageSeries {
        name,
        runs,
        failures,
        median,
        longest,
        points,
    } = series;
    let summary =
        format!("{runs} result(s), {failures} failed; median {median}, longest {longest}");
    view! {
        <figure class="card chart" data-testid="stage-chart">
            <figcaption><strong>{name.clone()}</strong>" · "{summary.clone()}</figcaption>
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=format!("{name}: {summary}")>
                <line class="axis" x1=PAD y1=HEIGHT - PAD x2=WIDTH - PAD y2=HEIGHT - PAD/>
                <line class="axis" x1=PAD y1=PAD x2=PAD y2=HEIGHT - PAD/>
                <text class="tick" x=PAD + 4.0 y=PAD + 8.0>{longest}</text>
                {points.into_iter().map(|p| {
                    let cx = PAD + p.x * (WIDTH - 2.0 * PAD);
                    let cy = HEIGHT - PAD - p.y * (HEIGHT - 2.0 * PAD);
                    view! {
                        <a href=format!("/requests/{}", p.request_id)>
                            <circle class=if p.ok { "dot dot-ok" } else { "dot dot-failed" } cx=cx cy=cy r="4">
                                <title>{p.label}</title>
                            </circle>
                        </a>
                    }
                }).collect_view()}
            </svg>
        </figure>
    }
}
