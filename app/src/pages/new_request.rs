use crate::api::requests::{get_edit_form, get_request_form};
use crate::api::wire::load;
use crate::components::feedback::{loaded_or, ErrorNotice, NoticeBox};
use crate::components::field::Field;
use crate::components::text_block::TextBlock;
use crate::model::{FieldView, RequestFormView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use leptos_router::{lazy_route, LazyRoute};

/// A new request (or a rollback, `?rollback=<id>`) for `?app=` and `?env=`. Lazy: its code is
/// fetched when a form is first opened (see `App`).
pub struct NewRequestPage;

#[lazy_route]
impl LazyRoute for NewRequestPage {
    fn data() -> Self {
        Self
    }

    fn view(_route: Self) -> AnyView {
        // Loaded here rather than in `data`, so that the code reading it is in the page's chunk.
        let query = use_query_map();
        let target = move || {
            query.with(|q| {
                (
                    q.get("app").unwrap_or_default(),
                    q.get("env").unwrap_or_default(),
                    q.get("rollback").and_then(|id| id.parse::<i64>().ok()),
                )
            })
        };
        let form = load(target, |(app, env, rollback)| {
            get_request_form(app, env, rollback)
        });
        view! {
            <Title text="New release request"/>
            {loaded_or(
                form,
                |f| view! { <RequestForm form=f/> },
                |e| view! {
                    <h1>"New release request"</h1>
                    <ErrorNotice error=e/>
                    <p><a href="/">"Choose an application and environment"</a></p>
                },
            )}
        }
        .into_any()
    }
}

/// Edits one of the viewer's own requests, while it has not started deploying. Lazy, as the
/// new request form.
pub struct EditRequestPage;

#[lazy_route]
impl LazyRoute for EditRequestPage {
    fn data() -> Self {
        Self
    }

    fn view(_route: Self) -> AnyView {
        let params = use_params_map();
        let id =
            move || params.with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0));
        let form = load(id, get_edit_form);
        view! {
            <Title text="Edit release request"/>
            {loaded_or(
                form,
                |f| view! { <RequestForm form=f/> },
                move |e| view! {
                    <h1>"Edit release request"</h1>
                    <ErrorNotice error=e/>
                    <p><a href=format!("/requests/{}", id())>"Back to the request"</a></p>
                },
            )}
        }
        .into_any()
    }
}

#[component]
fn RequestForm(form: RequestFormView) -> impl IntoView {
    let RequestFormView {
        app_id,
        app_name,
        env_id,
        env_name,
        policy,
        fields,
        values,
        errors,
        notice,
        editing,
        emergency,
        rollback,
        standard,
    } = form;
    let value = |k: &str| values.get(k).cloned().unwrap_or_default();
    let (version, artifact, title) = (value("version"), value("artifact"), value("title"));
    let (summary, rollback_plan, scheduled_local) = (
        value("summary"),
        value("rollback_plan"),
        value("scheduled_local"),
    );
    let risk = value("risk");
    let scheduled = value("when") == "scheduled";
    let timezone = values
        .get("timezone")
        .cloned()
        .filter(|z| !z.is_empty())
        .unwrap_or_else(|| "UTC".into());
    let extra = fields
        .into_iter()
        .map(|f| {
            let name = format!("fields.{}", f.id);
            let current = value(&name);
            view! {
                <Field name=name.clone() label=f.label.clone() errors=errors.clone() help=f.help.clone() required=f.required>
                    <ExtraInput field=f name=name current/>
                </Field>
            }
        })
        .collect_view();
    let heading = match (&editing, &rollback) {
        (Some(e), _) => format!("Edit request #{}: {app_name} to {env_name}", e.id),
        (None, Some(r)) => format!("Roll back {app_name} {env_name} to {}", r.version),
        (None, None) => format!("Release {app_name} to {env_name}"),
    };
    let action = editing.as_ref().map_or_else(
        || "/requests".to_owned(),
        |e| format!("/requests/{}/edit", e.id),
    );
    let warning = editing.as_ref().filter(|e| e.approvals > 0).map(|e| {
        let n = e.approvals;
        let approvals = if n == 1 { "the approval".to_owned() } else { format!("the {n} approvals") };
        view! {
            <p class="notice notice-warn" role="note">
                {format!("{} voids {approvals} given so far: the request will need approval again. Other changes keep them.", e.material)}
            </p>
        }
    });
    let revision = editing
        .as_ref()
        .map(|e| view! { <input type="hidden" name="revision" value=e.revision/> });
    let (button, back) = match &editing {
        Some(e) => (
            "Save changes",
            Some(
                view! { <a class="button" href=format!("/requests/{}", e.id)>"Back to the request"</a> },
            ),
        ),
        None => ("Submit the request", None),
    };
    view! {
        <h1>{heading}</h1>
        <p class="muted">{policy}</p>
        {(!standard.is_empty() && editing.is_none()).then(|| view! {
            <details class="standard-rules" data-testid="standard-rules">
                <summary>"Standard changes: approved as soon as they are submitted, when they meet one of these"</summary>
                <ul>{standard.into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}</ul>
            </details>
        })}
        <NoticeBox notice/>
        {warning}
        <form method="post" action=action class="card form request-form">
            {revision}
            <input type="hidden" name="app" value=app_id/>
            <input type="hidden" name="env" value=env_id/>
            <Field name="version".into() label="Version".into() errors=errors.clone() required=true>
                <input id="version" name="version" value=version placeholder="2.4.0" maxlength="200"/>
            </Field>
            <Field name="artifact".into() label="Artifact digest".into() errors=errors.clone()
                help="Optional: pins the exact build, e.g. sha256:…".into()>
                <input id="artifact" name="artifact" value=artifact maxlength="200"/>
            </Field>
            <Field name="title".into() label="Title".into() errors=errors.clone()
                help=format!("Optional: defaults to “{app_name} <version>”.")>
                <input id="title" name="title" value=title maxlength="200"/>
            </Field>
            <Field name="summary".into() label="Change summary".into() errors=errors.clone() required=true>
                <TextBlock id="summary" rows=4 value=summary/>
            </Field>
            <Field name="risk".into() label="Risk".into() errors=errors.clone() required=true>
                <select id="risk" name="risk">
                    <option value="" selected=risk.is_empty()>"Choose…"</option>
                    {["low", "medium", "high"].into_iter().map(|r| view! {
                        <option value=r selected=risk == r>{r}</option>
                    }).collect_view()}
                </select>
            </Field>
            <Field name="rollback_plan".into() label="Rollback plan".into() errors=errors.clone() required=true>
                <TextBlock id="rollback_plan" rows=3 value=rollback_plan/>
            </Field>
            {rollback.map(|r| view! {
                <input type="hidden" name="change" value="rollback"/>
                <input type="hidden" name="rollback_of" value=r.of/>
                <p class="notice" role="note">
                    {format!("Rolls back request #{} to {}, the last other version that succeeded here. {}.", r.of, r.version, r.path)}
                </p>
            })}
            {emergency.filter(|_| value("change") != "rollback").map(|offer| view! {
                <ChangeKind offer chosen=value("change") justification=value("justification") errors=errors.clone()/>
            })}
            <fieldset class="field">
                <legend>"When"</legend>
                <label class="choice"><input type="radio" name="when" value="asap" checked=!scheduled/>" As soon as approved"</label>
                <label class="choice"><input type="radio" name="when" value="scheduled" checked=scheduled/>" At a set time:"</label>
                <div class="schedule">
                    <input id="scheduled_local" name="scheduled_local" type="datetime-local" value=scheduled_local
                        aria-label="Scheduled time"/>
                    <input id="timezone" name="timezone" value=timezone aria-label="Time zone" class="tz"/>
                </div>
                {errors.get("scheduled_local").cloned().map(|e| view! { <p class="field-error" id="scheduled_local-error">{e}</p> })}
                {errors.get("timezone").cloned().map(|e| view! { <p class="field-error" id="timezone-error">{e}</p> })}
            </fieldset>
            {extra}
            <div class="actions">
                <button type="submit" class="primary">{button}</button>
                {back}
            </div>
        </form>
        <LocalTimeZone/>
    }
}

/// Normal or emergency (break-glass), with the justification an emergency needs.
#[component]
fn ChangeKind(
    offer: crate::model::EmergencyOffer,
    chosen: String,
    justification: String,
    errors: std::collections::BTreeMap<String, String>,
) -> impl IntoView {
    let emergency = offer.only || chosen == "emergency";
    view! {
        <fieldset class="field">
            <legend>"Kind of change"</legend>
            <label class="choice"><input type="radio" name="change" value="normal" checked=!emergency disabled=offer.only/>" Normal: the environment's approvals, windows and freezes"</label>
            <label class="choice"><input type="radio" name="change" value="emergency" checked=emergency/>" Emergency (break-glass)"</label>
            <p class="help">{offer.path}</p>
            <Field name="justification".into() label="Justification".into() errors
                help="Required for an emergency: why it cannot wait for the normal path.".into()>
                <TextBlock id="justification" rows=3 value=justification/>
            </Field>
        </fieldset>
    }
}

#[component]
fn ExtraInput(field: FieldView, name: String, current: String) -> impl IntoView {
    match field.kind.as_str() {
        "select" => view! {
            <select id=name.clone() name=name>
                <option value="" selected=current.is_empty()>"Choose…"</option>
                {field.options.into_iter().map(|o| {
                    let selected = o == current;
                    view! { <option value=o.clone() selected=selected>{o.clone()}</option> }
                }).collect_view()}
            </select>
        }.into_any(),
        "checkbox" => view! {
            <input type="checkbox" id=name.clone() name=name checked=matches!(current.as_str(), "on" | "true")/>
        }.into_any(),
        "number" => view! { <input type="number" step="any" id=name.clone() name=name value=current/> }.into_any(),
        _ => view! { <input id=name.clone() name=name value=current maxlength="10000"/> }.into_any(),
    }
}

/// Once hydrated, fills the time zone with the browser's own when it is still the default.
#[component]
fn LocalTimeZone() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    Effect::new(|| {
        let zone = crate::browser_time_zone();
        let input = document().get_element_by_id("timezone");
        if let (Some(zone), Some(input)) = (zone, input) {
            let value = js_sys::Reflect::get(&input, &"value".into())
                .ok()
                .and_then(|v| v.as_string());
            if value.as_deref() == Some("UTC") {
                let _ = js_sys::Reflect::set(&input, &"value".into(), &zone.into());
            }
        }
    });
}
