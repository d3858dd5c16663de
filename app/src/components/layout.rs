use crate::api::inbox::get_unread;
use crate::api::requests::get_queue_count;
use crate::api::session::get_viewer;
use crate::api::wire::{load, Loaded};
use crate::model::Viewer;
use leptos::prelude::*;
use leptos_router::components::{Outlet, A};

/// The signed-in user, shared by every page under the layout.
pub type ViewerResource = Loaded<Option<Viewer>>;

/// Counts the request changes the server announced; pages read it to refetch at once.
#[derive(Debug, Clone, Copy)]
pub struct Changes(pub RwSignal<u64>);

/// Counts the times the server said the viewer's inbox changed.
#[derive(Debug, Clone, Copy)]
pub struct InboxChanges(pub RwSignal<u64>);

/// The inbox change count, for resources that must follow the viewer's notifications.
pub fn inbox_changes() -> u64 {
    use_context::<InboxChanges>()
        .map(|c| c.0.get())
        .unwrap_or_default()
}

/// The change count, for resources that must follow every request change.
pub fn changes() -> u64 {
    use_context::<Changes>()
        .map(|c| c.0.get())
        .unwrap_or_default()
}

#[component]
pub fn Layout() -> impl IntoView {
    let viewer: ViewerResource = load(|| (), |_| get_viewer());
    provide_context(viewer);
    let changes = RwSignal::new(0u64);
    provide_context(Changes(changes));
    let inbox = RwSignal::new(0u64);
    provide_context(InboxChanges(inbox));
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| listen(changes, inbox));
    view! {
        <header class="topbar">
            <a class="brand" href="/">"Runway"</a>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match viewer.await {
                        Ok(Some(v)) => view! { <Nav viewer=v/> }.into_any(),
                        _ => view! { <nav class="nav"><a href="/login">"Sign in"</a></nav> }.into_any(),
                    }
                })}
            </Suspense>
        </header>
        <main class="content">
            <Outlet/>
        </main>
    }
}

#[component]
fn Nav(viewer: Viewer) -> impl IntoView {
    let roles = viewer.roles.labels();
    let teams = viewer
        .teams
        .iter()
        .map(|t| t.name.clone())
        .collect::<Vec<_>>()
        .join(", ");
    view! {
        <nav class="nav" aria-label="Main">
            <A href="/" exact=true>"Home"</A>
            {viewer.roles.approver.then(|| view! { <ApprovalsLink/> })}
            <A href="/board">"Requests"</A>
            <A href="/calendar">"Calendar"</A>
            <A href="/tickets">"Tickets"</A>
            <A href="/gate">"Gate"</A>
            <A href="/insights">"Insights"</A>
            <A href="/catalog">"Catalog"</A>
            {viewer.roles.admin.then(|| view! { <A href="/admin/users">"Accounts"</A> <A href="/admin/tokens">"API tokens"</A> <A href="/admin/mail">"Mail"</A> })}
            {(viewer.roles.admin || viewer.roles.ops).then(|| view! { <A href="/audit">"Audit"</A> })}
        </nav>
        <div class="user">
            <InboxLink/>
            <a class="user-name" href="/profile" title=teams>{viewer.display_name.clone()}</a>
            {roles.into_iter().map(|r| view! { <span class=format!("role role-{r}")>{r}</span> }).collect_view()}
            <form method="post" action="/logout" class="inline">
                <button type="submit" class="link">"Sign out"</button>
            </form>
        </div>
    }
}

/// "Approvals" with the number of requests waiting for the viewer.
#[component]
fn ApprovalsLink() -> impl IntoView {
    let count = load(changes, |_| get_queue_count());
    view! {
        <A href="/approvals">
            "Approvals"
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    count.await.ok().filter(|n| *n > 0).map(|n| view! {
                        " " <span class="badge" data-testid="queue-count" aria-label=format!("{n} waiting")>{n}</span>
                    })
                })}
            </Suspense>
        </A>
    }
}

/// The bell: the viewer's notifications, with the number unread, kept live.
#[component]
fn InboxLink() -> impl IntoView {
    let count = load(inbox_changes, |_| get_unread());
    view! {
        <A href="/inbox" attr:class="bell" attr:aria-label="Notifications">
            // Drawn rather than an emoji: the same bell everywhere, and no emoji font to look
            // up before the page's first layout.
            <svg class="icon" aria-hidden="true" viewBox="0 0 24 24" width="18" height="18" fill="none"
                stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
                <path d="M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9"/>
                <path d="M13.7 21a2 2 0 0 1-3.4 0"/>
            </svg>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    count.await.ok().filter(|n| *n > 0).map(|n| view! {
                        " " <span class="badge" data-testid="unread-count" aria-label=format!("{n} unread")>{n}</span>
                    })
                })}
            </Suspense>
        </A>
    }
}

/// Subscribes to the server's change stream; the browser reconnects by itself after a drop.
#[cfg(feature = "hydrate")]
fn listen(changes: RwSignal<u64>, inbox: RwSignal<u64>) {
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    let Ok(source) = web_sys::EventSource::new("/events") else {
        return;
    };
    let on_change =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_| changes.update(|n| *n += 1));
    let _ = source.add_event_listener_with_callback("request", on_change.as_ref().unchecked_ref());
    let on_inbox =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_| inbox.update(|n| *n += 1));
    let _ = source.add_event_listener_with_callback("inbox", on_inbox.as_ref().unchecked_ref());
    // They live as long as the page: the layout never unmounts.
    on_change.forget();
    on_inbox.forget();
    std::mem::forget(source);
}
