//! A `<textarea>` that shows text it was given. Leptos (tachys 0.2) writes a textarea's children
//! into the server's HTML without escaping them, as it does for `<script>`: a value holding
//! `</textarea>` would end the element and the rest would be markup. The value goes in as
//! escaped inner HTML instead, which the browser decodes back to the text, with or without
//! JavaScript.

use leptos::prelude::*;

#[component]
pub fn TextBlock(
    id: &'static str,
    rows: u32,
    value: String,
    #[prop(optional)] required: bool,
) -> impl IntoView {
    view! {
        <textarea id=id name=id rows=rows.to_string() required=required
            inner_html=crate::escape_text(&value)></textarea>
    }
}
