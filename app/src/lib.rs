//! Runway's user interface: server-rendered with Leptos and hydrated in the browser.

pub mod api;
#[cfg(feature = "ssr")]
pub mod backend;
#[cfg(feature = "ssr")]
mod bundle;
pub mod components;
pub mod model;
pub mod pages;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Title};
#[cfg(feature = "ssr")]
use leptos_meta::{HashedStylesheet, MetaTags};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{path, Lazy, SsrMode};

/// The HTML document around the app, rendered on the server.
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                // The bundle's names carry their digests when the build wrote them (see
                // `scripts/assets.mjs`), so that a browser keeps them until they change. Its
                // script comes before the stylesheet, which would hold a script back.
                <bundle::Bundle options=options.clone()/>
                <HashedStylesheet options=options.clone() id="runway"/>
                <AutoReload options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// "page · Runway". The server's copy is escaped here because leptos_meta 0.8 writes the title
/// into the served `<title>` element as it is, unescaped: a request titled `</title><script>`
/// would end the element and run. In the browser it becomes `document.title`, plain text.
pub fn document_title(page: String) -> String {
    let title = if page.is_empty() {
        "Runway".to_owned()
    } else {
        format!("{page} · Runway")
    };
    if cfg!(feature = "ssr") {
        escape_text(&title)
    } else {
        title
    }
}

/// `&`, `<` and `>` as entities: text that can end no element.
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// The routes. Pages that most people never open (administration, the catalog, the calendar, the gate,
/// tickets, history, Insights, one's profile and notifications, and the sign-in page that a
/// signed-in person never sees), and the request form (opened once per request, never by
/// approvers), are lazy: their code is split from the bundle at
/// build time (`cargo leptos build --split`), with the code that reads their data, and fetched
/// when such a page is first opened; the server links the chunks a page it renders needs when leptos
/// has recorded them (it can miss them under load: the chunk then comes once the bundle runs).
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title formatter=document_title/>
        <Router>
            <Routes fallback=|| view! { <pages::not_found::NotFound/> }>
                <Route path=path!("/login") view={Lazy::<pages::login::LoginPage>::new()} ssr=SsrMode::Async/>
                <ParentRoute path=path!("") view=components::layout::Layout ssr=SsrMode::Async>
                    <Route path=path!("/") view=pages::home::HomePage ssr=SsrMode::Async/>
                    <Route path=path!("/catalog") view={Lazy::<pages::catalog::CatalogPage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/approvals") view=pages::approvals::ApprovalsPage ssr=SsrMode::Async/>
                    <Route path=path!("/board") view=pages::board::BoardPage ssr=SsrMode::Async/>
                    <Route path=path!("/calendar") view={Lazy::<pages::calendar::CalendarPage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/gate") view={Lazy::<pages::gate::GatePage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/tickets") view={Lazy::<pages::tickets::TicketsPage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/tickets/:id") view={Lazy::<pages::tickets::TicketPage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/applications/:id/history") view={Lazy::<pages::history::HistoryPage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/insights") view={Lazy::<pages::insights::InsightsPage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/tokens") view={Lazy::<pages::tokens::TokensPage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/users") view={Lazy::<pages::users::UsersPage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/mail") view={Lazy::<pages::mail::MailPage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/audit") view=pages::audit::AuditPage ssr=SsrMode::Async/>
                    <Route path=path!("/inbox") view={Lazy::<pages::inbox::InboxPage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/profile") view={Lazy::<pages::profile::ProfilePage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/requests/new") view={Lazy::<pages::new_request::NewRequestPage>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/requests/:id") view=pages::request::RequestPage ssr=SsrMode::Async/>
                    <Route path=path!("/requests/:id/edit") view={Lazy::<pages::new_request::EditRequestPage>::new()} ssr=SsrMode::Async/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// Tells the server the browser's time zone (a cookie), so that times are shown in it for people
/// who did not choose one on their profile.
#[cfg(feature = "hydrate")]
fn remember_time_zone() {
    use js_sys::Reflect;
    let Some(zone) = browser_time_zone() else {
        return;
    };
    let Ok(document) = Reflect::get(&js_sys::global(), &"document".into()) else {
        return;
    };
    let cookie = format!("runway_tz={zone}; path=/; max-age=31536000; samesite=lax");
    let _ = Reflect::set(&document, &"cookie".into(), &cookie.into());
}

/// The browser's time zone (`Europe/Paris`), when it says.
#[cfg(feature = "hydrate")]
pub fn browser_time_zone() -> Option<String> {
    use js_sys::{Array, Intl, Object, Reflect};
    let options = Intl::DateTimeFormat::new(&Array::new(), &Object::new()).resolved_options();
    Reflect::get(&options, &"timeZone".into())
        .ok()
        .and_then(|z| z.as_string())
}

/// Runs `task` once the browser is idle (at once where it cannot tell).
#[cfg(feature = "hydrate")]
fn when_idle(task: fn()) {
    use js_sys::{Function, Reflect};
    use wasm_bindgen::{closure::Closure, JsCast};
    let global = js_sys::global();
    let idle = Reflect::get(&global, &"requestIdleCallback".into())
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok());
    match idle {
        Some(idle) => {
            // Within two seconds even on a page that is never idle (a busy or hidden tab).
            let options = js_sys::Object::new();
            let _ = Reflect::set(&options, &"timeout".into(), &2000.into());
            let _ = idle.call2(&global, &Closure::once_into_js(task), &options);
        }
        None => task(),
    }
}

/// A `performance.mark`: when the bundle was ready and when the page was hydrated, for the
/// first-load benchmark to tell fetching and compiling from hydrating.
#[cfg(feature = "hydrate")]
fn mark(name: &str) {
    use js_sys::{Function, Reflect};
    use wasm_bindgen::JsCast;
    let Ok(performance) = Reflect::get(&js_sys::global(), &"performance".into()) else {
        return;
    };
    if let Ok(mark) = Reflect::get(&performance, &"mark".into()) {
        let _ = mark
            .dyn_into::<Function>()
            .map(|mark| mark.call1(&performance, &name.into()));
    }
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    mark("runway-hydrate-start");
    // A lazy route's page is hydrated once its chunk has arrived, so hydration is asynchronous.
    wasm_bindgen_futures::spawn_local(async {
        leptos::mount::hydrate_from_async(leptos::tachys::dom::body(), App)
            .await
            .forget();
        mark("runway-hydrated");
        // Lets browser tests (and curious users) tell a hydrated page from plain HTML.
        let _ = js_sys::Reflect::set(&js_sys::global(), &"__runwayHydrated".into(), &true.into());
        // Reading the time zone starts the browser's time-zone data, a slow first call: it waits
        // until the page is idle rather than hold up the page being usable.
        when_idle(remember_time_zone);
    });
}
