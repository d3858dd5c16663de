use crate::api::accounts::get_accounts;
use crate::api::wire::load;
use crate::components::feedback::{loaded, FieldProblems, NoticeBox};
use crate::model::{AccountLine, AccountsView, AdminLine};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use leptos_router::{lazy_route, LazyRoute};

/// Administrators: every account, its teams and rights, and what was done to them.
pub struct UsersPage;

#[lazy_route]
impl LazyRoute for UsersPage {
    fn data() -> Self {
        Self
    }

    fn view(_route: Self) -> AnyView {
        // Loaded here rather than in `data`: the code reading the data then is in the
        // page's chunk, not in the bundle every page downloads.
        let query = use_query_map();
        let q = move || query.with(|q| q.get("q").unwrap_or_default());
        let accounts = load(q, get_accounts);
        view! {
            <Title text="Accounts"/>
            <h1>"Accounts"</h1>
            <p class="muted">
                "Who may sign in, in which teams, and who administers the portal. Disabling someone "
                "ends every session of theirs at once; a reset password is shown once. Every change "
                "here is kept in the administration trail, checked by "<code>"runway audit verify"</code>"."
            </p>
            {loaded(accounts, |v| view! { <UsersBody view=v/> })}
        }
        .into_any()
    }
}

#[component]
fn UsersBody(view: AccountsView) -> impl IntoView {
    let AccountsView {
        accounts,
        teams,
        query,
        me,
        posted,
        secret,
        recent,
    } = view;
    let outcome = match secret {
        Some(s) => view! {
            <div class="notice notice-ok" role="status">
                <p>{format!("The password of {} is below. Give it to them now: it is not shown again.", s.username)}</p>
                <pre data-testid="secret">{s.password}</pre>
            </div>
        }
        .into_any(),
        None if !posted.errors.is_empty() => view! { <FieldProblems fields=posted.errors.clone()/> }.into_any(),
        None => view! { <NoticeBox notice=posted.notice.clone()/> }.into_any(),
    };
    let value = |name: &str| posted.value_or(name, "");
    let new_teams = teams
        .iter()
        .map(|(id, name)| {
            let ticked = posted.values.contains_key(&format!("team:{id}"));
            view! {
                <label><input type="checkbox" name="teams" value=id.clone() checked=ticked/>{format!(" {name}")}</label>
            }
        })
        .collect_view();
    let count = accounts.len();
    view! {
        {outcome}
        <section class="card">
            <form method="get" action="/admin/users" class="inline" role="search">
                <label>"Find " <input name="q" type="search" value=query.clone() placeholder="name, user name or email"/></label>
                <button type="submit">"Search"</button>
            </form>
            <p class="muted">{if query.is_empty() { format!("{count} account(s).") } else { format!("{count} account(s) match \"{query}\".") }}</p>
            <table class="table" data-testid="accounts">
                <thead><tr>
                    <th>"Person"</th><th>"Email"</th><th>"Teams"</th><th>"Role"</th>
                    <th>"State"</th><th>"Sessions"</th><th>"Actions"</th>
                </tr></thead>
                <tbody>
                    {accounts.into_iter().map(|a| view! { <AccountRow account=a teams=teams.clone() me=me/> }).collect_view()}
                </tbody>
            </table>
        </section>
        <section class="card">
            <h2>"New account"</h2>
            <p class="muted">"A password is made for them and shown once; they sign in with it."</p>
            <form method="post" action="/admin/users/new" class="stacked">
                <label>"User name" <input name="username" required maxlength="64" placeholder="grace" value=value("username")/></label>
                <label>"Display name" <input name="display_name" required maxlength="100" placeholder="Grace Hopper" value=value("display_name")/></label>
                <label>"Email (optional)" <input name="email" type="email" placeholder="grace@example.com" value=value("email")/></label>
                <fieldset><legend>"Teams"</legend>{new_teams}</fieldset>
                <label><input type="checkbox" name="admin" value="on" checked=posted.ticked_or("admin", false)/>" Administrator"</label>
                <button type="submit" class="primary">"Create the account"</button>
            </form>
        </section>
        <section>
            <h2>"Administration trail"</h2>
            <AdminTrail lines=recent/>
        </section>
    }
}

#[component]
fn AccountRow(account: AccountLine, teams: Vec<(String, String)>, me: i64) -> impl IntoView {
    let AccountLine {
        id,
        username,
        display_name,
        email,
        teams: member_of,
        admin,
        disabled,
        created,
        sessions,
        via_provider,
    } = account;
    let own = id == me;
    let row_user = username.clone();
    let action = move |what: &str| format!("/admin/users/{id}/{what}");
    let boxes = teams
        .into_iter()
        .map(|(team, name)| {
            let ticked = member_of.contains(&team);
            view! { <label><input type="checkbox" name="teams" value=team checked=ticked/>{format!(" {name}")}</label> }
        })
        .collect_view();
    let state = match &disabled {
        Some(at) => format!("disabled {at}"),
        None => "active".to_owned(),
    };
    let toggle = if disabled.is_some() {
        view! { <form method="post" action=action("enable") class="inline"><button type="submit">"Enable"</button></form> }.into_any()
    } else if own {
        ().into_any()
    } else {
        view! { <form method="post" action=action("disable") class="inline"><button type="submit" class="danger">"Disable"</button></form> }.into_any()
    };
    let rights = match (admin, own) {
        (true, true) => ().into_any(),
        (true, false) => view! {
            <form method="post" action=action("admin") class="inline">
                <input type="hidden" name="admin" value="off"/>
                <button type="submit">"Remove admin"</button>
            </form>
        }
        .into_any(),
        (false, _) => view! {
            <form method="post" action=action("admin") class="inline">
                <input type="hidden" name="admin" value="on"/>
                <button type="submit">"Make admin"</button>
            </form>
        }
        .into_any(),
    };
    // The identity provider sets the teams of those who sign in through it; they have no password.
    let local = if via_provider {
        view! { <small class="muted">"Teams and sign-in from the identity provider"</small> }
            .into_any()
    } else {
        view! {
            <details>
                <summary>"Teams"</summary>
                <form method="post" action=action("teams") class="stacked">
                    {boxes}
                    <button type="submit">"Save teams"</button>
                </form>
            </details>
            <form method="post" action=action("password") class="inline">
                <button type="submit">"Reset password"</button>
            </form>
        }
        .into_any()
    };
    view! {
        <tr class=disabled.is_some().then_some("revoked") data-user=row_user>
            <td><strong>{display_name}</strong><br/><code>{username}</code><br/><small class="muted">{format!("since {created}")}</small></td>
            <td>{email}</td>
            <td>{member_of.join(", ")}</td>
            <td>{if admin { "administrator" } else { "member" }}</td>
            <td>{state}</td>
            <td>{sessions}</td>
            <td class="actions">
                {local}
                {toggle}
                {rights}
            </td>
        </tr>
    }
}

#[component]
fn AdminTrail(lines: Vec<AdminLine>) -> impl IntoView {
    if lines.is_empty() {
        return view! { <p class="muted">"Nothing yet."</p> }.into_any();
    }
    view! {
        <ul class="timeline" data-testid="admin-trail">
            {lines.into_iter().map(|l| view! {
                <li><time>{l.at}</time>" "<strong>{l.actor}</strong>" "{l.text}</li>
            }).collect_view()}
        </ul>
    }
    .into_any()
}
