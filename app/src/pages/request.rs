use crate::api::requests::get_request;
use crate::api::wire::load;
use crate::components::feedback::{loaded_or, ErrorNotice, NoticeBox};
use crate::components::layout::changes;
use crate::model::{Notice, RequestView, StageView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn RequestPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params.with(|p| {
            p.get("id")
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(-1)
        })
    };
    // The outcome of the viewer's last action arrives once, with the first reading of the page;
    // it stays while live changes read the page again. Those readings leave it alone: a change
    // announced while the action's redirect is on its way must not take it from the new page.
    let opened_at = untrack(changes);
    let request = load(
        move || (id(), changes()),
        move |(id, seen)| get_request(id, seen == opened_at),
    );
    let kept: RwSignal<Option<(i64, Notice)>> = RwSignal::new(None);
    view! {
        {loaded_or(
            request,
            move |mut r| {
                match &r.notice {
                    Some(n) => kept.set(Some((r.id, n.clone()))),
                    None => {
                        r.notice = kept
                            .get_untracked()
                            .filter(|(of, _)| *of == r.id)
                            .map(|(_, n)| n);
                    }
                }
                view! { <RequestBody request=r/> }
            },
            |e| view! { <Title text="Request"/><ErrorNotice error=e/> },
        )}
    }
}

#[component]
fn RequestBody(request: RequestView) -> impl IntoView {
    let r = request;
    let state_class = format!("state state-{}", r.state.replace(' ', "-"));
    let id = r.id;
    view! {
        <Title text=format!("#{} {}", r.id, r.title)/>
        <header class="request-head">
            <h1>{format!("#{} {}", r.id, r.title)}</h1>
            <span class=state_class data-testid="state">{r.state.clone()}</span>
            {r.emergency.is_some().then(|| view! { <span class="badge badge-emergency" data-testid="emergency">"Emergency change"</span> })}
            {r.standard.clone().map(|rule| view! { <span class="badge badge-standard" data-testid="standard" title=rule.clone()>{format!("Standard change: {rule}")}</span> })}
            {r.rollback_of.map(|of| view! { <a class="badge badge-rollback" data-testid="rollback" href=format!("/requests/{of}")>{format!("Rollback of #{of}")}</a> })}
            {r.rollback_to.clone().map(|version| view! {
                <a class="button" href=format!("/requests/new?app={}&env={}&rollback={id}", r.app_id, r.env_id)>{format!("Roll back to {version}")}</a>
            })}
            {r.can_edit.then(|| view! { <a class="button" href=format!("/requests/{id}/edit")>"Edit"</a> })}
        </header>
        <p class="muted">
            {format!("{} → {} · requested by {} on ", r.app_name, r.env_name, r.requester)}
            <time data-testid="submitted-at">{r.created_at.clone()}</time>
            " · " <a href=format!("/applications/{}/history", r.app_id)>"pipeline history"</a>
            {r.catalog_version.map(|v| format!(" · policy from catalog version {v}"))}
        </p>
        <NoticeBox notice=r.notice.clone()/>
        {r.emergency.clone().map(|why| view! {
            <p class="notice notice-warn" role="note">"Emergency change: " {why}</p>
        })}
        {(!r.warnings.is_empty()).then(|| view! {
            <div class="notice notice-warn" role="note" data-testid="warnings">
                <ul>{r.warnings.iter().map(|w| view! { <li>{w.clone()}</li> }).collect_view()}</ul>
            </div>
        })}
        <div class="request-grid">
            <section class="card">
                <h2>"Release"</h2>
                <dl class="facts">
                    <dt>"Version"</dt><dd><code>{r.version.clone()}</code></dd>
                    <dt>"Artifact"</dt><dd>{if r.artifact.is_empty() { "—".to_owned() } else { r.artifact.clone() }}</dd>
                    <dt>"Risk"</dt><dd>{r.risk.clone()}</dd>
                    <dt>"When"</dt><dd>{r.schedule.clone()}</dd>
                    {r.pipeline.clone().map(|url| view! {
                        <dt>"Opened by"</dt>
                        <dd data-testid="pipeline">
                            {if url.is_empty() {
                                view! { "a pipeline" }.into_any()
                            } else {
                                view! { "the pipeline " <a href=url.clone() rel="noopener noreferrer">{url.clone()}</a> }.into_any()
                            }}
                        </dd>
                    })}
                    {r.self_deploy.then(|| view! {
                        <dt>"Deployment"</dt><dd>"by the pipeline itself, once approved (it asks the gate)"</dd>
                    })}
                    {r.fields.iter().map(|(k, v)| view! { <dt>{k.clone()}</dt><dd>{v.clone()}</dd> }).collect_view()}
                </dl>
                <h3>"Change summary"</h3>
                <p class="prose">{r.summary.clone()}</p>
                <h3>"Rollback plan"</h3>
                <p class="prose">{r.rollback_plan.clone()}</p>
            </section>
            <section class="card">
                <h2>"Approvals"</h2>
                {if r.stages.is_empty() {
                    view! { <p class="muted">"This environment needs no approval."</p> }.into_any()
                } else {
                    view! { <ol class="stages">{r.stages.iter().cloned().map(|s| view! { <Stage stage=s/> }).collect_view()}</ol> }.into_any()
                }}
                {r.can_decide.then(|| view! { <DecisionForm id revision=r.revision deciding_for=r.deciding_for.clone()/> })}
                {r.can_cancel.then(|| view! {
                    <form method="post" action=format!("/requests/{id}/cancel") class="form cancel">
                        <input type="hidden" name="revision" value=r.revision/>
                        <label for="reason">"Reason for cancelling"</label>
                        <input id="reason" name="reason" maxlength="2000"/>
                        <button type="submit">"Cancel this request"</button>
                    </form>
                })}
            </section>
        </div>
        <super::request_deployment::Deployment
            id
            revision=r.revision
            deployment=r.deployment.clone()
            waiting=r.waiting.clone()
            can_stop=r.can_stop
        />
        {(!r.tickets.is_empty()).then(|| view! {
            <section>
                <h2>"Tickets"</h2>
                <crate::pages::tickets::TicketTable tickets=r.tickets.clone()/>
            </section>
        })}
        <section>
            <h2>"Timeline"</h2>
            <ol class="timeline">
                {r.timeline.into_iter().map(|e| view! {
                    <li>
                        <time>{e.at}</time>" "
                        {e.actor.map(|a| view! { <strong>{a}</strong> " " })}
                        {e.text}
                    </li>
                }).collect_view()}
            </ol>
        </section>
    }
}

#[component]
fn Stage(stage: StageView) -> impl IntoView {
    let class = format!("stage stage-{}", stage.status);
    view! {
        <li class=class>
            <strong>{stage.name}</strong>" "<span class="muted">{format!("({})", stage.status)}</span>
            <ul>
                {stage.rules.into_iter().map(|rule| view! {
                    <li>
                        {rule.text}": "
                        {if rule.approved_by.is_empty() { "no approval yet".to_owned() } else { format!("approved by {}", rule.approved_by.join(", ")) }}
                        {(rule.still_needed > 0).then(|| {
                            let from = if rule.eligible.is_empty() {
                                " (nobody eligible is left in that team)".to_owned()
                            } else {
                                format!(" from {}", rule.eligible.join(", "))
                            };
                            view! { <span class="muted">{format!(" · {} more needed{from}", rule.still_needed)}</span> }
                        })}
                    </li>
                }).collect_view()}
            </ul>
        </li>
    }
}

#[component]
fn DecisionForm(id: i64, revision: i64, deciding_for: String) -> impl IntoView {
    let delegated = (!deciding_for.is_empty()).then(|| {
        view! {
            <p class="notice" data-testid="deciding-for">
                {format!("You decide in the place of {deciding_for}, who is away and named you their delegate.")}
            </p>
        }
    });
    view! {
        <form method="post" action=format!("/requests/{id}/decision") class="form decision">
            {delegated}
            <input type="hidden" name="revision" value=revision/>
            <label for="comment">"Comment (required to reject)"</label>
            <textarea id="comment" name="comment" rows="2"></textarea>
            <div class="actions">
                <button type="submit" name="verdict" value="approve" class="primary">"Approve"</button>
                <button type="submit" name="verdict" value="reject" class="danger">"Reject"</button>
            </div>
        </form>
    }
}
