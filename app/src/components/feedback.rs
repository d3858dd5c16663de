use crate::model::ApiError;
use leptos::prelude::*;

/// A failed load, said plainly, with a way back in when the session ended: signing in returns
/// to this page (a link in a notification mail lands here signed out).
#[component]
pub fn ErrorNotice(error: ApiError) -> impl IntoView {
    let signed_out = error == ApiError::Unauthorized;
    let location = leptos_router::hooks::use_location();
    let (path, search) = (
        location.pathname.get_untracked(),
        location.search.get_untracked(),
    );
    let here = if search.is_empty() {
        path
    } else {
        format!("{path}?{search}")
    };
    let login = format!("/login?next={}", query_escaped(&here));
    view! {
        <div class="notice notice-error" role="alert">
            <p>{error.to_string()}</p>
            {signed_out.then(|| view! { <p><a href=login>"Sign in"</a></p> })}
        </div>
    }
}

/// `text` as a query value: everything but unreserved characters and `/` percent-encoded.
fn query_escaped(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The fields a form must mend, each with what is wrong.
#[component]
pub fn FieldProblems(fields: Vec<(String, String)>) -> impl IntoView {
    view! {
        <div class="notice notice-error" role="alert">
            <ul>{fields.into_iter().map(|(f, m)| view! { <li><strong>{f}</strong>": "{m}</li> }).collect_view()}</ul>
        </div>
    }
}

#[component]
pub fn Loading() -> impl IntoView {
    view! { <p class="loading" aria-busy="true">"Loading…"</p> }
}

/// A flash message from the last action, if any.
#[component]
pub fn NoticeBox(notice: Option<crate::model::Notice>) -> impl IntoView {
    notice.map(|n| {
        let class = if n.ok {
            "notice notice-ok"
        } else {
            "notice notice-error"
        };
        let role = if n.ok { "status" } else { "alert" };
        view! { <div class=class role=role>{n.text}</div> }
    })
}
