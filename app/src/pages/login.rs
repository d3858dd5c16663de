use crate::api::session::get_login_info;
use crate::api::wire::load;
use crate::model::LoginInfo;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use leptos_router::{lazy_route, LazyRoute};

fn refused(why: &str) -> String {
    format!("Your identity provider's answer was refused: {why}. Please try again.")
}

/// Maps the code the login handler redirects with to what the user reads.
fn message(code: &str, wait: Option<&str>) -> Option<(&'static str, String)> {
    let text = match code {
        "credentials" => "Wrong user name or password.".to_owned(),
        "disabled" => "This account is disabled. Ask an administrator to enable it.".to_owned(),
        "throttled" => format!(
            "Too many failed sign-in attempts. Try again in {} s.",
            wait.and_then(|w| w.parse::<u64>().ok()).unwrap_or(60)
        ),
        "username_missing" => "Enter your user name.".to_owned(),
        "password_missing" => "Enter your password.".to_owned(),
        "username_too_long" => "The user name is too long (64 characters at most).".to_owned(),
        "password_too_long" => "The password is too long (1024 characters at most).".to_owned(),
        "expired" => "Your session has ended; please sign in again.".to_owned(),
        "passwords_off" => "Passwords are switched off here: sign in with your company account. \
            Only break-glass administrator accounts may use a password."
            .to_owned(),
        "sso_unavailable" => {
            "Sign-in through your identity provider is unavailable right now (the \
            cause is in the portal's log). Administrators with a local account can still sign in \
            below."
                .to_owned()
        }
        "sso_state" => "That sign-in did not start in this browser, or was already used. Please \
            start again."
            .to_owned(),
        "sso_denied" => "Your identity provider did not sign you in. Please try again.".to_owned(),
        "sso_signature" => refused("its signature does not match: it may have been tampered with"),
        "sso_key" => refused("it is signed with a key the provider does not publish"),
        "sso_nonce" => refused("it answers another sign-in (its nonce does not match)"),
        "sso_expired" => refused("it has expired; check this server's clock"),
        "sso_claims" => refused("it was not issued by the expected provider for this portal"),
        _ => return None,
    };
    let field = match code {
        "username_missing" | "username_too_long" => "username",
        "password_missing" | "password_too_long" => "password",
        _ => "form",
    };
    Some((field, text))
}

/// "Sign in with …" above the password form, or why it cannot be used now.
fn provider_sign_in(info: &LoginInfo, next: &str) -> impl IntoView {
    let passwords = info.passwords;
    info.provider.clone().map(|p| {
        let href = format!("/auth/oidc/start?next={}", super::board::urlencode(next));
        let label = format!("Sign in with {}", p.label);
        view! {
            <section class="card sso" aria-label="Company sign-in">
                {if p.available {
                    // `rel="external"`: a full page load, not the in-app router.
                    view! { <a class="button primary" href=href rel="external" data-testid="sso">{label}</a> }.into_any()
                } else {
                    let text = format!(
                        "{label} is unavailable right now. Administrators with a local account \
                         can still sign in below."
                    );
                    view! { <p class="notice notice-error" role="alert">{text}</p> }.into_any()
                }}
                <p class="muted">
                    {if passwords {
                        "Or sign in with a local account:"
                    } else {
                        "Local passwords are for break-glass administrator accounts only:"
                    }}
                </p>
            </section>
        }
    })
}

pub struct LoginPage;

#[lazy_route]
impl LazyRoute for LoginPage {
    fn data() -> Self {
        Self
    }

    fn view(_route: Self) -> AnyView {
        // Lazy: a signed-in person never needs this page's code.
        let query = use_query_map();
        let info = load(|| (), |_| get_login_info());
        let read = move |key: &str| query.with_untracked(|q| q.get(key));
        let error = read("error").and_then(|code| message(&code, read("wait").as_deref()));
        let username = read("username").unwrap_or_default();
        let next = read("next").unwrap_or_default();
        let sso_next = next.clone();
        let signed_out = read("bye").is_some();
        let field_error = |field: &'static str| {
            error.clone().filter(|(f, _)| *f == field).map(
                |(_, text)| view! { <p class="field-error" id=format!("{field}-error")>{text}</p> },
            )
        };
        let form_error = field_error("form");
        let username_error = field_error("username");
        let password_error = field_error("password");
        view! {
            <Title text="Sign in"/>
            <main class="login">
                <h1 class="brand">"Runway"</h1>
                <p class="tagline">"Release requests, approvals and deployments in one place."</p>
                {signed_out.then(|| view! { <p class="notice notice-ok" role="status">"You are signed out."</p> })}
                {form_error.map(|e| view! { <div class="notice notice-error" role="alert">{e}</div> })}
                <Suspense fallback=|| ()>
                    {move || {
                        let next = sso_next.clone();
                        Suspend::new(async move {
                            info.await.ok().map(|i| provider_sign_in(&i, &next))
                        })
                    }}
                </Suspense>
                <form method="post" action="/login" class="card form">
                    <input type="hidden" name="next" value=next/>
                    <label for="username">"User name"</label>
                    <input id="username" name="username" autocomplete="username" value=username
                        maxlength="64" required autofocus/>
                    {username_error}
                    <label for="password">"Password"</label>
                    <input id="password" name="password" type="password" autocomplete="current-password"
                        maxlength="1024" required/>
                    {password_error}
                    <button type="submit" class="primary">"Sign in"</button>
                </form>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        info.await.ok().filter(|i| !i.demo_users.is_empty()).map(|i| view! {
                            <section class="card demo" aria-label="Demo accounts">
                                <h2>"Demo mode"</h2>
                                <p>"Every demo account's password is "<code>{i.demo_password.clone()}</code>"."</p>
                                <ul>
                                    {i.demo_users.into_iter().map(|(name, role)| view! {
                                        <li><code>{name}</code>" — "{role}</li>
                                    }).collect_view()}
                                </ul>
                            </section>
                        })
                    })}
                </Suspense>
            </main>
        }
        .into_any()
    }
}
