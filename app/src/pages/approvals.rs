use crate::api::requests::get_queue;
use crate::api::wire::load;
use crate::components::feedback::loaded;
use crate::components::layout::changes;
use crate::components::request_table::{choices, RequestTable};
use crate::model::QueueView;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn ApprovalsPage() -> impl IntoView {
    let query = use_query_map();
    let filters = move || {
        query.with(|q| {
            (
                q.get("app").unwrap_or_default(),
                q.get("env").unwrap_or_default(),
                q.get("order").as_deref() == Some("oldest"),
            )
        })
    };
    let queue = load(
        move || (filters(), changes()),
        |((app, env, oldest), _)| get_queue(app, env, oldest),
    );
    view! {
        <Title text="Approvals"/>
        <h1>"Waiting for your decision"</h1>
        {loaded(queue, move |q| {
            let (app, env, oldest) = filters();
            view! { <Queue queue=q app env oldest/> }
        })}
    }
}

#[component]
fn Queue(queue: QueueView, app: String, env: String, oldest: bool) -> impl IntoView {
    view! {
        <form method="get" action="/approvals" class="filters">
            <select name="app" aria-label="Application">
                <option value="">"All applications"</option>
                {choices(queue.applications, &app)}
            </select>
            <select name="env" aria-label="Environment">
                <option value="">"All environments"</option>
                {choices(queue.environments, &env)}
            </select>
            <select name="order" aria-label="Order">
                <option value="newest" selected=!oldest>"Newest first"</option>
                <option value="oldest" selected=oldest>"Oldest first"</option>
            </select>
            <button type="submit">"Filter"</button>
        </form>
        {if queue.requests.is_empty() {
            view! { <p class="empty">"Nothing waits for you right now."</p> }.into_any()
        } else {
            view! {
                <RequestTable requests=queue.requests details="Waiting for"/>
            }.into_any()
        }}
    }
}
