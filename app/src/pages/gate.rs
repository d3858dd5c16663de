use crate::api::gate::get_gate_page;
use crate::api::wire::load;
use crate::components::feedback::{loaded, FieldProblems};
use crate::model::{GateLine, GatePageView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{lazy_route, LazyRoute};

/// The gate pipelines ask before they deploy: a dry-run form and the latest answers.
pub struct GatePage;

#[lazy_route]
impl LazyRoute for GatePage {
    fn data() -> Self {
        Self
    }

    fn view(_route: Self) -> AnyView {
        // Loaded here rather than in `data`: the code reading the data then is in the
        // page's chunk, not in the bundle every page downloads.
        let page = load(|| (), |()| get_gate_page());
        view! {
            <Title text="Deployment gate"/>
            <h1>"Deployment gate"</h1>
            <p class="muted">
                "Pipelines ask " <code>"POST /api/v1/gate"</code>
                " before they deploy. Ask it here what it would answer — for any actor, version and moment."
            </p>
            {loaded(page, |p| view! { <GateBody page=p/> })}
        }
        .into_any()
    }
}

#[component]
fn GateBody(page: GatePageView) -> impl IntoView {
    let GatePageView {
        applications,
        recent,
        posted,
        answer,
    } = page;
    let outcome = match answer {
        Some(line) => Some(view! { <Answer line/> }.into_any()),
        None if !posted.errors.is_empty() => {
            Some(view! { <FieldProblems fields=posted.errors.clone()/> }.into_any())
        }
        None => None,
    };
    let value = |name: &str| posted.value_or(name, "");
    let (chosen_app, chosen_env) = (value("application"), value("environment"));
    view! {
        <section class="card">
            <h2>"Dry run"</h2>
            <form method="post" action="/gate/dry-run" class="stacked" data-testid="dry-run">
                <label>"Application"
                    <select name="application">
                        {applications.iter().map(|a| view! { <option value=a.id.clone() selected=a.id == chosen_app>{a.name.clone()}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Environment"
                    <select name="environment">
                        {applications.iter().map(|a| view! {
                            <optgroup label=a.name.clone()>
                                {a.environments.iter().map(|(id, name)| view! { <option value=id.clone() selected=*id == chosen_env>{name.clone()}</option> }).collect_view()}
                            </optgroup>
                        }).collect_view()}
                    </select>
                </label>
                <label>"Version" <input name="version" required placeholder="2.4.0" value=value("version")/></label>
                <label>"Artifact digest (optional)" <input name="artifact" placeholder="sha256:…" value=value("artifact")/></label>
                <label>"Actor: user or team (optional)" <input name="actor" placeholder="fintech" value=value("actor")/></label>
                <label>"At (UTC; now when empty)" <input type="datetime-local" name="at" value=value("at")/></label>
                <button type="submit" class="primary">"Ask the gate"</button>
            </form>
            {outcome}
        </section>
        <section>
            <h2>"Latest answers"</h2>
            {if recent.is_empty() {
                view! { <p class="muted">"The gate has not been asked yet."</p> }.into_any()
            } else {
                view! {
                    <table class="table" data-testid="gate-checks">
                        <thead><tr>
                            <th>"Asked"</th><th>"By"</th><th>"Release"</th><th>"Actor"</th>
                            <th>"Answer"</th><th>"Why"</th>
                        </tr></thead>
                        <tbody>{recent.into_iter().map(|g| view! { <Line line=g/> }).collect_view()}</tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}

fn decision_class(decision: &str) -> String {
    format!("state state-{decision}")
}

#[component]
fn Answer(line: GateLine) -> impl IntoView {
    view! {
        <div class="notice" role="status" data-testid="gate-answer">
            <p>
                <span class=decision_class(&line.decision)>{line.decision.clone()}</span>
                {format!(" — {} {} at {} (rule: {})", line.target, line.version, line.about, line.rule)}
                {line.request_id.map(|id| view! { " · " <a href=format!("/requests/{id}")>{format!("request #{id}")}</a> })}
            </p>
            <ul>{line.reasons.into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}</ul>
        </div>
    }
}

#[component]
fn Line(line: GateLine) -> impl IntoView {
    view! {
        <tr>
            <td>{line.asked_at}{line.dry_run.then(|| view! { <br/><small class="muted">{format!("dry run for {}", line.about)}</small> })}</td>
            <td>{line.asked_by}</td>
            <td>
                {format!("{} {}", line.target, line.version)}
                {line.request_id.map(|id| view! { " · " <a href=format!("/requests/{id}")>{format!("#{id}")}</a> })}
            </td>
            <td>{if line.actor.is_empty() { "—".to_owned() } else { line.actor }}</td>
            <td><span class=decision_class(&line.decision)>{line.decision.clone()}</span></td>
            <td><small>{line.reasons.join("; ")}</small></td>
        </tr>
    }
}
