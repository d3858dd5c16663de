use crate::api::inbox::get_mail_outbox;
use crate::components::feedback::{ErrorNotice, Loading};
use crate::model::{MailLine, MailOutboxView};
use leptos::prelude::*;
use leptos_meta::Title;

/// Administrators: every message the portal mailed or still has to, failures first.
#[component]
pub fn MailPage() -> impl IntoView {
    let outbox = Resource::new(|| (), |()| get_mail_outbox());
    view! {
        <Title text="Mail"/>
        <h1>"Mail"</h1>
        <Suspense fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match outbox.await {
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    Ok(v) => view! { <MailBody view=v/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn MailBody(view: MailOutboxView) -> impl IntoView {
    let MailOutboxView { lines, destination } = view;
    view! {
        <p class="muted">{destination}</p>
        {if lines.is_empty() {
            view! { <p class="muted">"No mail yet."</p> }.into_any()
        } else {
            view! {
                <table class="table" data-testid="mail">
                    <thead><tr>
                        <th>"To"</th><th>"Subject"</th><th>"State"</th><th>"Tries"</th><th>"When"</th><th>"Last error"</th>
                    </tr></thead>
                    <tbody>{lines.into_iter().map(|l| view! { <MailRow line=l/> }).collect_view()}</tbody>
                </table>
            }.into_any()
        }}
    }
}

#[component]
fn MailRow(line: MailLine) -> impl IntoView {
    let MailLine {
        id: _,
        address,
        request_id,
        subject,
        state,
        attempts,
        last_error,
        when,
    } = line;
    view! {
        <tr class=format!("mail-{state}")>
            <td>{address}</td>
            <td><a href=format!("/requests/{request_id}")>{subject}</a></td>
            <td><span class=format!("state state-{state}")>{state.clone()}</span></td>
            <td>{attempts}</td>
            <td>{when}</td>
            <td class="wrap">{last_error}</td>
        </tr>
    }
}
