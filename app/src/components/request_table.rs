use crate::model::RequestLine;
use leptos::prelude::*;

/// `<option>`s for a filter, with the current value selected.
pub fn choices(items: Vec<(String, String)>, current: &str) -> impl IntoView {
    items
        .into_iter()
        .map(|(id, name)| {
            let selected = id == current;
            view! { <option value=id selected=selected>{name}</option> }
        })
        .collect_view()
}

/// A list of requests, each linking to its page.
#[component]
pub fn RequestTable(
    requests: Vec<RequestLine>,
    details: &'static str,
    #[prop(optional)] show_state: bool,
) -> impl IntoView {
    view! {
        <table class="table">
            <thead>
                <tr>
                    <th>"Request"</th><th>"Target"</th><th>"Version"</th>
                    {show_state.then(|| view! { <th>"State"</th> })}
                    <th>"Requested by"</th><th>{details}</th><th>"Updated"</th>
                </tr>
            </thead>
            <tbody>
                {requests.into_iter().map(|r| {
                    let state_class = format!("state state-{}", r.state.replace(' ', "-"));
                    view! {
                        <tr>
                            <td>
                                <a href=format!("/requests/{}", r.id)>{format!("#{} {}", r.id, r.title)}</a>
                                {match r.change.as_str() {
                                    "emergency" => Some(view! { " " <span class="badge badge-emergency">"Emergency"</span> }.into_any()),
                                    "rollback" => Some(view! { " " <span class="badge badge-rollback">"Rollback"</span> }.into_any()),
                                    "standard" => Some(view! { " " <span class="badge badge-standard">"Standard"</span> }.into_any()),
                                    _ => None,
                                }}
                            </td>
                            <td>{format!("{} → {}", r.app_name, r.env_name)}</td>
                            <td><code>{r.version}</code></td>
                            {show_state.then(|| view! { <td><span class=state_class>{r.state}</span></td> })}
                            <td>{r.requester}</td>
                            <td>{r.waiting_for}</td>
                            <td><time title=r.updated_utc>{r.updated_at}</time></td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
