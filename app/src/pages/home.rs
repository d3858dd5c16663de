use crate::api::catalog::get_home;
use crate::api::wire::load;
use crate::components::feedback::{loaded, Loading};
use crate::components::request_table::RequestTable;
use crate::model::{AppSummary, EnvSummary, RequestLine};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn HomePage() -> impl IntoView {
    let home = load(|| (), |_| get_home());
    view! {
        <Title text="Home"/>
        <Suspense fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                let mine = home.await.map(|h| h.mine).unwrap_or_default();
                (!mine.is_empty()).then(|| view! { <MyRequests requests=mine/> })
            })}
        </Suspense>
        <h1>"What you can release"</h1>
        {loaded(home, |h| {
            if h.catalog_empty {
                view! {
                    <p class="empty">"The catalog is empty: an administrator has not applied one yet."</p>
                }.into_any()
            } else if h.applications.is_empty() {
                view! {
                    <p class="empty">
                        "None of your teams may request releases. The "
                        <a href="/catalog">"catalog"</a>
                        " shows which teams may release each application."
                    </p>
                }.into_any()
            } else {
                view! {
                    <div class="apps">
                        {h.applications.into_iter().map(|a| view! { <AppCard app=a requestable=true/> }).collect_view()}
                    </div>
                }.into_any()
            }
        })}
    }
}

/// The viewer's own requests, open first.
#[component]
fn MyRequests(requests: Vec<RequestLine>) -> impl IntoView {
    view! {
        <section class="mine" aria-labelledby="mine-title" data-testid="my-requests">
            <h1 id="mine-title">"Your requests"</h1>
            <RequestTable requests details="Waiting for" show_state=true/>
            <p><a href="/board?mine=1">"All your requests, with filters"</a></p>
        </section>
    }
}

#[component]
pub fn AppCard(app: AppSummary, #[prop(optional)] requestable: bool) -> impl IntoView {
    view! {
        <article class="card app" id=format!("app-{}", app.id)>
            <header>
                <h2>{app.name}</h2>
                <span class="muted">"owned by "{app.owner}" · "
                    <a href=format!("/applications/{}/history", app.id)>"pipeline history"</a>
                </span>
            </header>
            <p>{app.description}</p>
            <ul class="envs">
                {app.environments.into_iter().map(|e| {
                    let link = requestable.then(|| format!("/requests/new?app={}&env={}", app.id, e.id));
                    view! { <EnvLine env=e link/> }
                }).collect_view()}
            </ul>
        </article>
    }
}

#[component]
fn EnvLine(env: EnvSummary, link: Option<String>) -> impl IntoView {
    view! {
        <li class="env" data-env=env.id>
            <p class="policy">{env.policy}</p>
            {link.map(|href| view! { <a class="button" href=href>{format!("Request a release to {}", env.name)}</a> })}
            <p class="muted">"Requested by "{env.requesters}
                {env.ci.map(|ci| format!(" · deployed through {ci}"))}</p>
            {(!env.constraints.is_empty()).then(|| view! {
                <ul class="constraints">
                    {env.constraints.into_iter().map(|c| view! { <li>{c}</li> }).collect_view()}
                </ul>
            })}
        </li>
    }
}
