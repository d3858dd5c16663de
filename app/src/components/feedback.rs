use crate::model::ApiError;
use leptos::prelude::*;

/// A failed load, said plainly, with a way back in when the session ended.
#[component]
pub fn ErrorNotice(error: ApiError) -> impl IntoView {
    let signed_out = error == ApiError::Unauthorized;
    view! {
        <div class="notice notice-error" role="alert">
            <p>{error.to_string()}</p>
            {signed_out.then(|| view! { <p><a href="/login">"Sign in"</a></p> })}
        </div>
    }
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
