use crate::api::gate::get_tokens;
use crate::api::wire::load;
use crate::components::feedback::{loaded, FieldProblems, NoticeBox};
use crate::model::{TokenLine, TokensView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{lazy_route, LazyRoute};

/// Administrators: the tokens CI servers use for `/api/v1`.
pub struct TokensPage;

#[lazy_route]
impl LazyRoute for TokensPage {
    fn data() -> Self {
        Self
    }

    fn view(_route: Self) -> AnyView {
        // Loaded here rather than in `data`: the code reading the data then is in the
        // page's chunk, not in the bundle every page downloads.
        let tokens = load(|| (), |()| get_tokens());
        view! {
            <Title text="API tokens"/>
            <h1>"API tokens"</h1>
            <p class="muted">
                "CI servers call the portal's API with one of these: "
                <code>"Authorization: Bearer rwy_…"</code>
                ". The secret is shown once, when the token is made; only its hash is kept. See "
                <a href="/api/v1/openapi.json">"the API description"</a> "."
            </p>
            {loaded(tokens, |t| view! { <TokensBody view=t/> })}
        }
        .into_any()
    }
}

#[component]
fn TokensBody(view: TokensView) -> impl IntoView {
    let TokensView {
        tokens,
        applications,
        scopes: _,
        posted,
        created,
    } = view;
    let known = applications
        .iter()
        .map(|(id, name)| format!("{id} ({name})"))
        .collect::<Vec<_>>()
        .join(", ");
    let outcome = match created {
        Some(made) => view! {
            <div class="notice notice-ok" role="status">
                <p>{format!("Token \"{}\" made. Copy its secret now: it is not shown again.", made.name)}</p>
                <pre data-testid="secret">{made.secret}</pre>
            </div>
        }
        .into_any(),
        None if !posted.errors.is_empty() => view! { <FieldProblems fields=posted.errors.clone()/> }.into_any(),
        None => view! { <NoticeBox notice=posted.notice.clone()/> }.into_any(),
    };
    let value = |name: &str| posted.value_or(name, "");
    view! {
        <section class="card">
            <h2>"New token"</h2>
            <form method="post" action="/admin/tokens/new" class="stacked">
                <label>"Name" <input name="name" required placeholder="Jenkins banking pipeline" value=value("name")/></label>
                <fieldset>
                    <legend>"Scopes"</legend>
                    <label><input type="checkbox" name="gate_read" value="on" checked=posted.ticked_or("gate_read", true)/>" gate:read — ask the gate, read requests"</label>
                    <label><input type="checkbox" name="requests_write" value="on" checked=posted.ticked_or("requests_write", false)/>" requests:write — open requests"</label>
                    <label><input type="checkbox" name="events_write" value="on" checked=posted.ticked_or("events_write", false)/>" events:write — post stage results"</label>
                    <label><input type="checkbox" name="requests_on_behalf" value="on" checked=posted.ticked_or("requests_on_behalf", false)/>" requests:on-behalf — open requests for other people (requested_by)"</label>
                    <label><input type="checkbox" name="audit_read" value="on" checked=posted.ticked_or("audit_read", false)/>" audit:read — export the audit trail"</label>
                    <label><input type="checkbox" name="metrics_read" value="on" checked=posted.ticked_or("metrics_read", false)/>" metrics:read — read the delivery metrics (DORA)"</label>
                </fieldset>
                <label>
                    "Applications (ids, or * for every application)"
                    <input name="applications" required placeholder="banking storefront" value=value("applications")/>
                    <small class="muted">{format!("Known: {known}")}</small>
                </label>
                <label>
                    "Acts as (the user a pipeline's requests come from; you when empty)"
                    <input name="acts_as" placeholder="ada" value=value("acts_as")/>
                </label>
                <button type="submit" class="primary">"Make the token"</button>
            </form>
            {outcome}
        </section>
        <section>
            <h2>"Tokens"</h2>
            {if tokens.is_empty() {
                view! { <p class="muted">"No tokens yet."</p> }.into_any()
            } else {
                view! {
                    <table class="table" data-testid="tokens">
                        <thead><tr>
                            <th>"Name"</th><th>"Token"</th><th>"Scopes"</th><th>"Applications"</th>
                            <th>"Acts as"</th><th>"Made"</th><th>"Last used"</th><th></th>
                        </tr></thead>
                        <tbody>{tokens.into_iter().map(|t| view! { <TokenRow token=t/> }).collect_view()}</tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn TokenRow(token: TokenLine) -> impl IntoView {
    let TokenLine {
        id,
        name,
        prefix,
        scopes,
        applications,
        acts_as,
        created_by,
        created_at,
        last_used,
        revoked,
    } = token;
    let row_class = revoked.is_some().then_some("revoked");
    view! {
        <tr class=row_class>
            <td>{name}</td>
            <td><code>{prefix}</code></td>
            <td>{scopes.join(", ")}</td>
            <td>{applications}</td>
            <td>{acts_as}</td>
            <td>{format!("{created_at} by {created_by}")}</td>
            <td>{last_used.unwrap_or_else(|| "never".to_owned())}</td>
            <td>
                {match revoked {
                    Some(at) => view! { <span class="muted">{format!("revoked {at}")}</span> }.into_any(),
                    None => view! {
                        <form method="post" action=format!("/admin/tokens/{id}/revoke") class="inline">
                            <button type="submit" class="danger">"Revoke"</button>
                        </form>
                    }.into_any(),
                }}
            </td>
        </tr>
    }
}
