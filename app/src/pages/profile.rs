use crate::api::inbox::get_profile;
use crate::api::wire::load;
use crate::components::feedback::{loaded, NoticeBox};
use crate::components::field::Field;
use crate::model::ProfileView;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{lazy_route, LazyRoute};
use std::collections::BTreeMap;

/// The viewer's own settings: where mail goes, which kinds, and the time zone times are shown in.
pub struct ProfilePage;

#[lazy_route]
impl LazyRoute for ProfilePage {
    fn data() -> Self {
        Self
    }

    fn view(_route: Self) -> AnyView {
        // Loaded here rather than in `data`: the code reading the data then is in the
        // page's chunk, not in the bundle every page downloads.
        let profile = load(|| (), |()| get_profile());
        view! {
            <Title text="Your profile"/>
            <h1>"Your profile"</h1>
            {loaded(profile, |p| view! { <ProfileForm view=p/> })}
        }
        .into_any()
    }
}

#[component]
fn ProfileForm(view: ProfileView) -> impl IntoView {
    let ProfileView {
        username,
        display_name,
        email,
        time_zone,
        choices,
        digest,
        away_from,
        away_until,
        delegate,
        posted,
    } = view;
    let away_from = posted.value_or("away_from", &away_from);
    let away_until = posted.value_or("away_until", &away_until);
    let delegate = posted.value_or("delegate", &delegate);
    let digest = posted.ticked_or("digest", digest);
    let errors: BTreeMap<String, String> = posted.errors.iter().cloned().collect();
    let email = posted.value_or("email", &email);
    let time_zone = posted.value_or("time_zone", &time_zone);
    let choices = choices
        .into_iter()
        .map(|c| {
            let on = posted.ticked_or(&format!("mail_{}", c.kind), c.on);
            view! {
                <label class="check">
                    <input type="checkbox" name=format!("mail_{}", c.kind) value="on" checked=on/>
                    " " {c.label}
                </label>
            }
        })
        .collect_view();
    view! {
        <p class="muted">{format!("Signed in as {display_name} ({username}).")}</p>
        <NoticeBox notice=posted.notice.clone()/>
        <form method="post" action="/profile" class="card stacked" novalidate>
            <input type="hidden" name="sent" value="1"/>
            <Field name="email".into() label="Email address".into() errors=errors.clone()
                help="Where notifications are mailed. Leave it empty to be told only here.".into()>
                <input id="email" name="email" type="email" value=email autocomplete="email"
                    aria-describedby="email-error"/>
            </Field>
            <Field name="time_zone".into() label="Time zone".into() errors=errors.clone()
                help="An IANA name such as Europe/Paris. Leave it empty to use your browser's.".into()>
                <input id="time_zone" name="time_zone" value=time_zone placeholder="Europe/Paris"
                    aria-describedby="time_zone-error"/>
            </Field>
            <fieldset>
                <legend>"Mail me when"</legend>
                {choices}
            </fieldset>
            <label class="check">
                <input type="checkbox" name="digest" value="on" checked=digest/>
                " Gather these in one daily digest at 08:00 (your time zone) instead of a mail each time"
            </label>
            <fieldset>
                <legend>"Out of office"</legend>
                <p class="help">"While you are away, the person you name decides in your place and is asked instead of you; your mail pauses. Leave all three empty when you are here."</p>
                <Field name="away_from".into() label="First day away".into() errors=errors.clone()>
                    <input id="away_from" name="away_from" type="date" value=away_from aria-describedby="away_from-error"/>
                </Field>
                <Field name="away_until".into() label="Last day away".into() errors=errors.clone()>
                    <input id="away_until" name="away_until" type="date" value=away_until aria-describedby="away_until-error"/>
                </Field>
                <Field name="delegate".into() label="Who decides in your place (user name)".into() errors=errors.clone()>
                    <input id="delegate" name="delegate" value=delegate placeholder="dev" aria-describedby="delegate-error"/>
                </Field>
            </fieldset>
            <button type="submit">"Save"</button>
        </form>
    }
}
