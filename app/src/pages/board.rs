use crate::api::requests::get_board;
use crate::api::wire::load;
use crate::components::feedback::loaded;
use crate::components::layout::changes;
use crate::components::request_table::{choices, RequestTable};
use crate::model::{BoardFilter, BoardView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn BoardPage() -> impl IntoView {
    let query = use_query_map();
    let filter = move || {
        query.with(|q| BoardFilter {
            state: q.get("state").unwrap_or_default(),
            app: q.get("app").unwrap_or_default(),
            env: q.get("env").unwrap_or_default(),
            q: q.get("q").unwrap_or_default(),
            before: q
                .get("before")
                .and_then(|b| b.parse().ok())
                .unwrap_or_default(),
            mine: q.get("mine").is_some_and(|m| !m.is_empty() && m != "0"),
        })
    };
    let board = load(move || (filter(), changes()), |(f, _)| get_board(f));
    view! {
        <Title text="Requests"/>
        {loaded(board, move |b| view! { <Board board=b filter=filter()/> })}
    }
}

#[component]
fn Board(board: BoardView, filter: BoardFilter) -> impl IntoView {
    let states = board
        .states
        .into_iter()
        .map(|s| (s.clone(), s.replace('_', " ")))
        .collect();
    let next = board.next_before.map(|before| {
        let query = [
            ("state", filter.state.clone()),
            ("app", filter.app.clone()),
            ("env", filter.env.clone()),
            ("q", filter.q.clone()),
            (
                "mine",
                if filter.mine {
                    "1".into()
                } else {
                    String::new()
                },
            ),
            ("before", before.to_string()),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", urlencode(&v)))
        .collect::<Vec<_>>()
        .join("&");
        format!("/board?{query}")
    });
    let in_flight = (!board.in_flight.is_empty()).then(|| {
        let parts = board
            .in_flight
            .iter()
            .map(|(state, n)| {
                view! { <a href=format!("/board?state={state}")>{format!("{n} {}", state.replace('_', " "))}</a> }
            })
            .collect::<Vec<_>>();
        view! { <p class="in-flight" data-testid="in-flight"><strong>"In flight now: "</strong>{parts}</p> }
    });
    let heading = match (filter.mine, board.everything) {
        (true, _) => "Your requests",
        (false, true) => "Every request",
        (false, false) => "Requests you can read",
    };
    view! {
        <h1>{heading}</h1>
        {in_flight}
        <form method="get" action="/board" class="filters">
            <select name="state" aria-label="State">
                <option value="">"Any state"</option>
                {choices(states, &filter.state)}
            </select>
            <select name="app" aria-label="Application">
                <option value="">"All applications"</option>
                {choices(board.applications, &filter.app)}
            </select>
            <select name="env" aria-label="Environment">
                <option value="">"All environments"</option>
                {choices(board.environments, &filter.env)}
            </select>
            <input type="search" name="q" value=filter.q.clone() placeholder="Title or version" aria-label="Search"/>
            <label class="check"><input type="checkbox" name="mine" value="1" checked=filter.mine/>" Only mine"</label>
            <button type="submit">"Filter"</button>
        </form>
        {if board.requests.is_empty() {
            view! { <p class="empty">"No request matches."</p> }.into_any()
        } else {
            view! {
                <RequestTable requests=board.requests details="" show_state=true/>
            }.into_any()
        }}
        {next.map(|href| view! { <p><a href=href class="button">"Older requests"</a></p> })}
    }
}

/// Percent-encodes a query value.
pub(crate) fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
