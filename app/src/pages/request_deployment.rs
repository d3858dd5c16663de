use crate::model::{DeploymentView, StepView, TargetView};
use leptos::prelude::*;

/// A request's deployment: what it waits for, its CI steps (by target when it fans out), and
/// what operations may do to it.
#[component]
pub fn Deployment(
    id: i64,
    revision: i64,
    deployment: DeploymentView,
    waiting: Option<String>,
    can_stop: bool,
) -> impl IntoView {
    let shown = !deployment.steps.is_empty()
        || deployment.targets.iter().any(|t| !t.steps.is_empty())
        || waiting.is_some();
    let DeploymentView {
        steps,
        targets,
        order,
        can_retry,
        can_retry_every,
    } = deployment;
    let fans_out = !targets.is_empty();
    shown.then(|| view! {
        <section class="card deployment">
            <h2>"Deployment"</h2>
            {waiting.map(|w| view! { <p class="notice notice-warn" data-testid="waiting">{w}</p> })}
            {(!order.is_empty()).then(|| view! { <p class="muted">{order}</p> })}
            {(!steps.is_empty()).then(|| view! {
                <ol class="steps">
                    {steps.into_iter().map(|s| view! { <Step step=s/> }).collect_view()}
                </ol>
            })}
            {(fans_out).then(|| view! {
                <ol class="targets">
                    {targets.into_iter().map(|t| view! { <Target id revision target=t/> }).collect_view()}
                </ol>
            })}
            {can_retry_every.then(|| view! {
                <form method="post" action=format!("/requests/{id}/retry") class="form inline">
                    <input type="hidden" name="revision" value=revision/>
                    <input type="hidden" name="target" value="*"/>
                    <button type="submit" class="primary">"Retry every failed target"</button>
                </form>
            })}
            {(can_retry && !fans_out).then(|| view! {
                <form method="post" action=format!("/requests/{id}/retry") class="form inline">
                    <input type="hidden" name="revision" value=revision/>
                    <button type="submit" class="primary">"Retry the failed step"</button>
                </form>
            })}
            {can_stop.then(|| view! {
                <form method="post" action=format!("/requests/{id}/stop") class="form inline">
                    <input type="hidden" name="revision" value=revision/>
                    <label for="stop-reason">"Reason"</label>
                    <input id="stop-reason" name="reason" maxlength="2000"/>
                    <button type="submit" class="danger">"Cancel the deployment"</button>
                </form>
            })}
        </section>
    })
}

/// One target of a fan-out: where it stands, its steps, and its own retry.
#[component]
fn Target(id: i64, revision: i64, target: TargetView) -> impl IntoView {
    let class = format!("state state-{}", target.status.replace(' ', "-"));
    let heading = if target.name == target.id {
        target.name.clone()
    } else {
        format!("{} ({})", target.name, target.id)
    };
    let label = format!("Retry {}", target.name);
    let target_id = target.id.clone();
    view! {
        <li class="target" data-testid="target" data-target=target_id>
            <header>
                <strong>{heading}</strong>" "
                <span class=class data-testid="target-status">{target.status}</span>
            </header>
            {(!target.steps.is_empty()).then(|| view! {
                <ol class="steps">
                    {target.steps.into_iter().map(|s| view! { <Step step=s/> }).collect_view()}
                </ol>
            })}
            {target.can_retry.then(|| view! {
                <form method="post" action=format!("/requests/{id}/retry") class="form inline">
                    <input type="hidden" name="revision" value=revision/>
                    <input type="hidden" name="target" value=target.id/>
                    <button type="submit" class="primary">{label}</button>
                </form>
            })}
        </li>
    }
}

#[component]
fn Step(step: StepView) -> impl IntoView {
    let class = format!("state state-{}", step.state);
    let times = match &step.finished_at {
        Some(end) => format!("{} → {end}", step.started_at),
        None => format!("since {}", step.started_at),
    };
    view! {
        <li class="step" data-testid="step">
            <header>
                <strong>{step.name}</strong>" "
                <span class=class>{step.state.clone()}</span>" "
                <span class="muted">{format!("{} · {times}", step.job)}</span>
                {step.url.map(|u| view! { " " <a href=u target="_blank" rel="noopener">"Open the CI run"</a> })}
            </header>
            {(!step.message.is_empty()).then(|| view! { <p class="field-error">{step.message}</p> })}
            {(!step.log_tail.is_empty()).then(|| view! { <pre class="log">{step.log_tail}</pre> })}
        </li>
    }
}
