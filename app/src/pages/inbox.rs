use crate::api::inbox::get_inbox;
use crate::api::wire::load;
use crate::components::feedback::{loaded, NoticeBox};
use crate::components::layout::inbox_changes;
use crate::model::{InboxItem, InboxView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use leptos_router::{lazy_route, LazyRoute};

/// What the portal told the viewer: newest first, unread marked, each linking to its request.
pub struct InboxPage;

#[lazy_route]
impl LazyRoute for InboxPage {
    fn data() -> Self {
        Self
    }

    fn view(_route: Self) -> AnyView {
        // Loaded here, as on every lazy page: the code reading the data is in the page's chunk.
        let query = use_query_map();
        let before = move || {
            query
                .read()
                .get("before")
                .and_then(|b| b.parse::<i64>().ok())
                .unwrap_or_default()
        };
        let inbox = load(move || (before(), inbox_changes()), |(b, _)| get_inbox(b));
        view! {
            <Title text="Notifications"/>
            <h1>"Notifications"</h1>
            {loaded(inbox, |v| view! { <InboxBody view=v/> })}
        }
        .into_any()
    }
}

#[component]
fn InboxBody(view: InboxView) -> impl IntoView {
    let InboxView {
        items,
        unread,
        older,
        posted,
    } = view;
    view! {
        <NoticeBox notice=posted.notice/>
        <div class="toolbar">
            <p class="muted" data-testid="unread-summary">{match unread {
                0 => "Everything is read.".to_owned(),
                1 => "1 unread.".to_owned(),
                n => format!("{n} unread."),
            }}</p>
            {(unread > 0).then(|| view! {
                <form method="post" action="/inbox/read" class="inline">
                    <button type="submit" class="secondary">"Mark all read"</button>
                </form>
            })}
            <a href="/profile">"Choose what you receive by email"</a>
        </div>
        {if items.is_empty() {
            view! { <p class="muted">"Nothing yet. You are told here when a request needs you or one of yours moves on."</p> }.into_any()
        } else {
            view! {
                <ul class="inbox" data-testid="inbox">
                    {items.into_iter().map(|i| view! { <InboxLine item=i/> }).collect_view()}
                </ul>
            }.into_any()
        }}
        {older.map(|o| view! { <p><a href=format!("/inbox?before={o}")>"Older notifications"</a></p> })}
    }
}

#[component]
fn InboxLine(item: InboxItem) -> impl IntoView {
    let InboxItem {
        id,
        request_id,
        kind,
        subject,
        detail,
        at,
        at_utc,
        read,
    } = item;
    view! {
        <li class=format!("inbox-item kind-{kind}") class:unread=!read>
            <div class="inbox-main">
                <a href=format!("/requests/{request_id}")>{subject}</a>
                {(!detail.is_empty()).then(|| view! { <p class="inbox-detail">{detail}</p> })}
                <time class="muted" title=at_utc>{at}</time>
            </div>
            {(!read).then(|| view! {
                <form method="post" action="/inbox/read" class="inline">
                    <input type="hidden" name="id" value=id.to_string()/>
                    <button type="submit" class="link" aria-label=format!("Mark notification {id} read")>"Mark read"</button>
                </form>
            })}
        </li>
    }
}
