//! The one look of a form field: its label, the input, help, and what is wrong with it.

use leptos::prelude::*;
use std::collections::BTreeMap;

/// A labelled input with its error (if any) underneath.
#[component]
pub fn Field(
    name: String,
    label: String,
    errors: BTreeMap<String, String>,
    #[prop(optional)] help: String,
    #[prop(optional)] required: bool,
    children: Children,
) -> impl IntoView {
    let error = errors.get(&name).cloned();
    let invalid = error.is_some();
    view! {
        <div class="field" class:invalid=invalid>
            <label for=name.clone()>{label}{required.then_some(" *")}</label>
            {children()}
            {(!help.is_empty()).then(|| view! { <p class="help">{help}</p> })}
            {error.map(|e| view! { <p class="field-error" id=format!("{name}-error")>{e}</p> })}
        </div>
    }
}
