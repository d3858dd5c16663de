use leptos::prelude::*;
use leptos_meta::Title;

/// Administrators and operations: the audit trail downloaded, filtered by day, application and
/// person. The form asks the server for the file directly (a plain GET): nothing to hydrate.
#[component]
pub fn AuditPage() -> impl IntoView {
    view! {
        <Title text="Audit trail"/>
        <h1>"Audit trail"</h1>
        <p>
            "Every event of every request, oldest first: who did what, when, with the hash of the "
            "request's event before it and its own. "
            <code>"runway audit verify"</code>
            " walks those hashes and names any event changed, removed or inserted behind the portal's back."
        </p>
        <form method="get" action="/audit/export" class="stacked" data-testid="audit-export">
            <label>"From (day, UTC) " <input type="date" name="from"/></label>
            <label>"To (day, UTC, included) " <input type="date" name="to"/></label>
            <label>"Application (its id) " <input name="application" placeholder="banking"/></label>
            <label>"Person (user name) " <input name="person" placeholder="ada"/></label>
            <fieldset>
                <legend>"Format"</legend>
                <label><input type="radio" name="format" value="jsonl" checked=true/>" JSON Lines"</label>
                <label><input type="radio" name="format" value="csv"/>" CSV"</label>
            </fieldset>
            <button type="submit">"Download"</button>
        </form>
        <p class="muted">
            "Pipelines read the same trail a page at a time with a token of scope audit:read: "
            <code>"GET /api/v1/audit"</code>
            " (see the API's OpenAPI document)."
        </p>
    }
}
