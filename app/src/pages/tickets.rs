use crate::api::tickets::{get_ticket, get_tickets};
use crate::api::wire::load;
use crate::components::feedback::{loaded, loaded_or, ErrorNotice, FieldProblems, NoticeBox};
use crate::model::{TicketLine, TicketView, TicketsView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use leptos_router::{lazy_route, LazyRoute};

/// Every ticket failures raised, newest first, by state.
pub struct TicketsPage;

#[lazy_route]
impl LazyRoute for TicketsPage {
    fn data() -> Self {
        Self
    }

    fn view(_route: Self) -> AnyView {
        // Loaded here rather than in `data`: the code reading the data then is in the
        // page's chunk, not in the bundle every page downloads.
        let query = use_query_map();
        let state = move || query.read().get("state").unwrap_or_default();
        let tickets = load(state, get_tickets);
        view! {
            <Title text="Tickets"/>
            <h1>"Tickets"</h1>
            <p class="muted">"Raised when a deployment or a stage fails, as the catalog's ticket rules say, and for the review of each emergency change."</p>
            <nav class="filters">
                <a href="/tickets">"All"</a>" · "
                <a href="/tickets?state=open">"Open"</a>" · "
                <a href="/tickets?state=acknowledged">"Acknowledged"</a>" · "
                <a href="/tickets?state=resolved">"Resolved"</a>" · "
                <a href="/tickets?state=overdue">"Overdue reviews"</a>
            </nav>
            {loaded(tickets, |TicketsView { tickets, state }| {
                if tickets.is_empty() {
                    let none = if state.is_empty() { "No tickets.".to_owned() } else { format!("No {state} tickets.") };
                    view! { <p class="muted">{none}</p> }.into_any()
                } else {
                    view! { <TicketTable tickets/> }.into_any()
                }
            })}
        }
        .into_any()
    }
}

/// A list of tickets (also on a request's page).
#[component]
pub fn TicketTable(tickets: Vec<TicketLine>) -> impl IntoView {
    view! {
        <table class="table" data-testid="tickets">
            <thead><tr><th>"Ticket"</th><th>"Kind"</th><th>"State"</th><th>"Owner"</th><th>"Opened"</th><th>"Due"</th><th>"Request"</th></tr></thead>
            <tbody>
                {tickets.into_iter().map(|t| view! {
                    <tr>
                        <td><a href=format!("/tickets/{}", t.id)>{format!("#{} {}", t.id, t.title)}</a></td>
                        <td>{t.kind}</td>
                        <td><span class=format!("state ticket-{}", t.state)>{t.state.clone()}</span></td>
                        <td>{t.owner_team}</td>
                        <td>{t.opened_at}</td>
                        <td class:overdue=t.overdue>{if t.overdue { format!("{} (overdue)", t.due) } else { t.due }}</td>
                        <td><a href=format!("/requests/{}", t.request_id)>{format!("#{}", t.request_id)}</a></td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

pub struct TicketPage;

#[lazy_route]
impl LazyRoute for TicketPage {
    fn data() -> Self {
        Self
    }

    fn view(_route: Self) -> AnyView {
        // As for the list: loaded in the page's chunk.
        let params = use_params_map();
        let id = move || {
            params
                .read()
                .get("id")
                .and_then(|s| s.parse::<i64>().ok())
                .unwrap_or_default()
        };
        let ticket = load(id, get_ticket);
        view! {
            {loaded_or(
                ticket,
                |t| view! { <TicketBody ticket=t/> },
                |e| view! { <Title text="Ticket"/><ErrorNotice error=e/> },
            )}
        }
        .into_any()
    }
}

#[component]
fn TicketBody(ticket: TicketView) -> impl IntoView {
    let TicketView {
        ticket: line,
        detail,
        rule,
        acknowledged_at,
        resolved_at,
        webhook,
        comments,
        can_work,
        posted,
    } = ticket;
    let id = line.id;
    let state = line.state.clone();
    let buttons: Vec<(&str, &str)> = match state.as_str() {
        "open" => vec![("acknowledge", "Acknowledge"), ("resolve", "Resolve")],
        "acknowledged" => vec![("resolve", "Resolve")],
        _ => vec![("reopen", "Reopen")],
    };
    view! {
        <Title text=format!("Ticket #{id}")/>
        <header class="request-head">
            <h1>{format!("#{id} {}", line.title)}</h1>
            <span class=format!("state ticket-{}", line.state) data-testid="ticket-state">{line.state.clone()}</span>
        </header>
        <p class="muted">
            {format!("{} for {} · opened {} by rule {rule}", line.kind, line.owner_team, line.opened_at)}
            {acknowledged_at.map(|a| format!(" · acknowledged {a}"))}
            {resolved_at.map(|r| format!(" · resolved {r}"))}
            " · " <a href=format!("/requests/{}", line.request_id)>{format!("request #{}", line.request_id)}</a>
        </p>
        <section class="card">
            <h2>"What happened"</h2>
            <p class="prose">{detail}</p>
            {webhook.map(|w| view! { <p class="muted" data-testid="webhook">"Webhook: "{w}</p> })}
        </section>
        <section class="card">
            <h2>"Comments"</h2>
            {if comments.is_empty() {
                view! { <p class="muted">"No comments yet."</p> }.into_any()
            } else {
                view! {
                    <ol class="timeline">
                        {comments.into_iter().map(|(who, text, at)| view! {
                            <li><strong>{who}</strong>" · "<span class="muted">{at}</span><p class="prose">{text}</p></li>
                        }).collect_view()}
                    </ol>
                }.into_any()
            }}
            {can_work.then(|| view! {
                <form method="post" action=format!("/tickets/{id}/work") class="stacked" data-testid="work-ticket">
                    <label>"Comment" <textarea name="comment" rows="3">{posted.value_or("comment", "")}</textarea></label>
                    <div class="actions">
                        {buttons.into_iter().map(|(action, label)| view! {
                            <button type="submit" name="action" value=action>{label}</button>
                        }).collect_view()}
                        <button type="submit" name="action" value="comment" class="secondary">"Comment"</button>
                    </div>
                </form>
            })}
            <NoticeBox notice=posted.notice.clone()/>
            {(!posted.errors.is_empty()).then(|| view! { <FieldProblems fields=posted.errors.clone()/> })}
        </section>
    }
}
