use crate::api::wire::Loaded;
use crate::model::ApiError;
use leptos::prelude::*;
use serde::{de::DeserializeOwned, Serialize};

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

/// A page's data, shown by `body` once it has loaded ("Loading…" until then), or a notice saying
/// why it could not be.
pub fn loaded<T, V>(
    data: Loaded<T>,
    body: impl Fn(T) -> V + Clone + Send + Sync + 'static,
) -> impl IntoView
where
    T: Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
    V: IntoView + 'static,
{
    loaded_or(data, body, |e| view! { <ErrorNotice error=e/> })
}

/// As [`loaded`], with the page's own view of a failed load (a title, a way back).
pub fn loaded_or<T, V, E>(
    data: Loaded<T>,
    body: impl Fn(T) -> V + Clone + Send + Sync + 'static,
    failed: impl Fn(ApiError) -> E + Clone + Send + Sync + 'static,
) -> impl IntoView
where
    T: Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
    V: IntoView + 'static,
    E: IntoView + 'static,
{
    view! {
        <Suspense fallback=|| view! { <Loading/> }>
            {move || {
                let (body, failed) = (body.clone(), failed.clone());
                Suspend::new(async move {
                    match data.await {
                        Err(e) => failed(e).into_any(),
                        Ok(v) => body(v).into_any(),
                    }
                })
            }}
        </Suspense>
    }
}
