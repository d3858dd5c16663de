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

#[component]
pub fn Loading() -> impl IntoView {
    view! { <p class="loading" aria-busy="true">"Loading…"</p> }
}
