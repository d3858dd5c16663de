use crate::api::inbox::get_mail_outbox;
use crate::api::wire::load;
use crate::components::feedback::loaded;
use crate::model::{MailLine, MailOutboxView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{lazy_route, LazyRoute};

/// Administrators: every message the portal mailed or still has to, failures first.
pub struct MailPage;

#[lazy_route]
impl LazyRoute for MailPage {
    fn data() -> Self {
        Self
    }

    fn view(_route: Self) -> AnyView {
        // Loaded here rather than in `data`: the code reading the data then is in the
        // page's chunk, not in the bundle every page downloads.
        let outbox = load(|| (), |()| get_mail_outbox());
        view! {
            <Title text="Mail"/>
            <h1>"Mail"</h1>
            {loaded(outbox, |v| view! { <MailBody view=v/> })}
        }
        .into_any()
    }
}

#[component]
fn MailBody(view: MailOutboxView) -> impl IntoView {
    let MailOutboxView {
        lines,
        chat,
        destination,
    } = view;
    view! {
        <p class="muted">{destination}</p>
        <Lines lines=lines to="To" empty="No mail yet." testid="mail"/>
        <h2>"Chat"</h2>
        <p class="muted">"Posted to the incoming webhook each team's or application's chat_webhook_env names in the catalog."</p>
        <Lines lines=chat to="Webhook" empty="No chat messages yet." testid="chat"/>
    }
}

#[component]
fn Lines(
    lines: Vec<MailLine>,
    to: &'static str,
    empty: &'static str,
    testid: &'static str,
) -> impl IntoView {
    if lines.is_empty() {
        return view! { <p class="muted">{empty}</p> }.into_any();
    }
    view! {
        <table class="table" data-testid=testid>
            <thead><tr>
                <th>{to}</th><th>"Subject"</th><th>"State"</th><th>"Tries"</th><th>"When"</th><th>"Last error"</th>
            </tr></thead>
            <tbody>{lines.into_iter().map(|l| view! { <MailRow line=l/> }).collect_view()}</tbody>
        </table>
    }
    .into_any()
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
