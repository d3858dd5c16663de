use crate::api::catalog::get_catalog;
use crate::api::wire::load;
use crate::components::feedback::loaded;
use crate::model::{CatalogVersionView, CatalogView, ReloadOutcome};
use crate::pages::home::AppCard;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{lazy_route, LazyRoute};

pub struct CatalogPage;

#[lazy_route]
impl LazyRoute for CatalogPage {
    fn data() -> Self {
        Self
    }

    fn view(_route: Self) -> AnyView {
        // Loaded here rather than in `data`: the code reading the data then is in the
        // page's chunk, not in the bundle every page downloads.
        let catalog = load(|| (), |()| get_catalog());
        view! {
            <Title text="Catalog"/>
            <h1>"Catalog"</h1>
            {loaded(catalog, |c| view! { <CatalogBody catalog=c/> })}
        }
        .into_any()
    }
}

#[component]
fn CatalogBody(catalog: CatalogView) -> impl IntoView {
    let CatalogView {
        version,
        teams,
        applications,
        windows,
        freezes,
        history,
        can_reload,
        reload,
    } = catalog;
    view! {
        <p class="muted version">
            {match version {
                Some(v) => format!("Version {} · {} · applied {} from {}", v.id, short(&v.checksum), v.applied_at, v.origin),
                None => "No catalog has been applied yet.".to_owned(),
            }}
        </p>
        {can_reload.then(|| view! { <ReloadForm outcome=reload/> })}
        <section>
            <h2>"Applications"</h2>
            <div class="apps">
                {applications.into_iter().map(|a| view! { <AppCard app=a/> }).collect_view()}
            </div>
        </section>
        <section>
            <h2>"Teams"</h2>
            <table class="table">
                <thead><tr><th>"Team"</th><th>"About"</th><th>"Members"</th></tr></thead>
                <tbody>
                    {teams.into_iter().map(|t| view! {
                        <tr id=format!("team-{}", t.id)>
                            <td>{t.name}{t.ops.then(|| view! { " " <span class="role role-ops">"ops"</span> })}</td>
                            <td>{t.description}</td>
                            <td>{if t.members.is_empty() { "—".to_owned() } else { t.members.join(", ") }}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
        <section>
            <h2>"Change windows"</h2>
            <Lines items=windows empty="No change windows: deployments may happen at any time."/>
            <h2>"Freezes"</h2>
            <Lines items=freezes empty="No freezes."/>
        </section>
        {(!history.is_empty()).then(|| view! { <History history/> })}
    }
}

#[component]
fn Lines(items: Vec<String>, empty: &'static str) -> impl IntoView {
    if items.is_empty() {
        view! { <p class="muted">{empty}</p> }.into_any()
    } else {
        view! { <ul>{items.into_iter().map(|i| view! { <li>{i}</li> }).collect_view()}</ul> }
            .into_any()
    }
}

#[component]
fn ReloadForm(outcome: Option<ReloadOutcome>) -> impl IntoView {
    let outcome = outcome.map(|outcome| match outcome {
            ReloadOutcome::Applied(v) => view! {
                <p class="notice notice-ok" role="status">{format!("Applied version {} ({}).", v.id, short(&v.checksum))}</p>
            }.into_any(),
            ReloadOutcome::Unchanged(v) => view! {
                <p class="notice" role="status">{format!("The file is unchanged: version {} stays in force.", v.id)}</p>
            }.into_any(),
            ReloadOutcome::Rejected(text) => view! {
                <div class="notice notice-error" role="alert">
                    <p>"The file was refused; the running version stays in force."</p>
                    <pre>{text}</pre>
                </div>
            }.into_any(),
        });
    view! {
        <form method="post" action="/catalog/reload" class="inline">
            <button type="submit">"Re-apply the catalog file"</button>
        </form>
        {outcome}
    }
}

#[component]
fn History(history: Vec<CatalogVersionView>) -> impl IntoView {
    view! {
        <section>
            <h2>"Applied versions"</h2>
            <table class="table">
                <thead><tr><th>"Version"</th><th>"Applied (UTC)"</th><th>"Checksum"</th><th>"From"</th></tr></thead>
                <tbody>
                    {history.into_iter().map(|v| view! {
                        <tr>
                            <td>{v.id}</td>
                            <td>{v.applied_at}</td>
                            <td><code title=v.checksum.clone()>{short(&v.checksum)}</code></td>
                            <td>{v.origin}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

fn short(checksum: &str) -> String {
    checksum.chars().take(19).collect()
}
