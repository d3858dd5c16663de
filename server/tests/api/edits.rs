//! Editing a request and lapsing approvals, on both databases.

use crate::helpers::*;
use crate::requests::{approve, count, dispatch_jobs, draft};
use server::db::now_ms;
use server::db::users::User;
use server::domain::request::{RawDraft, State};
use server::service::error::Error as RequestError;
use server::service::requests::{self, Edited};

async fn row(app: &TestApp, id: i64) -> server::db::requests::RequestRow {
    server::db::requests::get(&app.state.db.pool, id)
        .await
        .expect("get")
        .expect("row")
}

async fn submit(app: &TestApp, user: &User, env: &str, raw: &RawDraft) -> i64 {
    requests::submit(
        &app.state.db,
        &app.state.catalog.current(),
        user,
        "banking",
        env,
        raw,
    )
    .await
    .expect("submitted")
}

async fn edit(app: &TestApp, user: &User, id: i64, raw: &RawDraft) -> Result<Edited, RequestError> {
    let rev = row(app, id).await.revision;
    requests::edit(
        &app.state.db,
        &app.state.catalog.current(),
        user,
        id,
        rev,
        raw,
    )
    .await
}

async fn live_approvals(app: &TestApp, id: i64) -> i64 {
    count(
        app,
        "select count(*) from decisions where request_id = $1 and voided = 0",
        id,
    )
    .await
}

async fn kinds(app: &TestApp, id: i64) -> Vec<String> {
    server::db::audit::events(&app.state.db.pool, id)
        .await
        .expect("events")
        .into_iter()
        .map(|e| e.event.kind())
        .collect()
}

async fn a_new_version_voids_the_approvals_so_far(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let ada = app.user("ada").await;
    let id = submit(&app, &ada, "production", &draft("2.4.0")).await;
    approve(&app, "ben", id).await.expect("ben");
    approve(&app, "cleo", id).await.expect("cleo");
    let done = edit(&app, &ada, id, &draft("2.4.1")).await.expect("edited");
    assert_eq!(done.changed, ["version", "title"]);
    assert_eq!(done.voided, 2);
    assert_eq!(done.state, State::PendingApproval);
    assert_eq!(live_approvals(&app, id).await, 0);
    assert_eq!(row(&app, id).await.version, "2.4.1");
    assert_eq!(
        kinds(&app, id).await[3..],
        ["edited", "approvals_voided"],
        "the voiding is on the timeline"
    );
    // The same people approve the new version, stage by stage, to the end.
    assert_eq!(
        approve(&app, "cleo", id).await.err().map(|e| e.to_string()),
        Some(
            "None of your teams is needed at this stage of the request, or you have already decided."
                .into()
        ),
        "stage 1 again first"
    );
    approve(&app, "ben", id).await.expect("ben again");
    approve(&app, "cleo", id).await.expect("cleo again");
    assert_eq!(
        approve(&app, "dev", id).await.expect("dev"),
        State::Approved
    );
    assert_eq!(dispatch_jobs(&app, id).await, 1);
}

async fn a_new_title_keeps_the_approvals(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let ada = app.user("ada").await;
    let id = submit(&app, &ada, "production", &draft("2.4.0")).await;
    approve(&app, "ben", id).await.expect("ben");
    let mut reworded = draft("2.4.0");
    reworded.title = "Interest rounding fix".into();
    let done = edit(&app, &ada, id, &reworded).await.expect("edited");
    assert_eq!(done.changed, ["title"]);
    assert_eq!(done.voided, 0);
    assert_eq!(live_approvals(&app, id).await, 1);
    let unchanged = edit(&app, &ada, id, &reworded).await.expect("saved");
    assert!(unchanged.changed.is_empty());
    assert_eq!(
        kinds(&app, id).await.last().map(String::as_str),
        Some("edited")
    );
    assert_eq!(
        count(
            &app,
            "select count(*) from request_events where request_id = $1 and kind = 'edited'",
            id
        )
        .await,
        1,
        "saving an unchanged form records nothing"
    );
}

/// What an approver weighed (risk, impact, a migration, the plan) cannot change under their
/// approval: after full approval, raising the risk voids it and the gate stops allowing.
async fn a_material_change_voids_even_a_complete_approval(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let ada = app.user("ada").await;
    let id = submit(&app, &ada, "production", &draft("2.4.0")).await;
    for who in ["ben", "cleo", "dev"] {
        approve(&app, who, id).await.expect(who);
    }
    assert_eq!(row(&app, id).await.state.as_str(), "approved");
    let mut riskier = draft("2.4.0");
    riskier.risk = "high".into();
    riskier
        .fields
        .insert("customer_impact".into(), "outage".into());
    riskier.fields.insert("db_migration".into(), "on".into());
    let done = edit(&app, &ada, id, &riskier).await.expect("edited");
    assert_eq!(done.changed, ["risk", "extra fields"]);
    assert_eq!(
        done.material,
        ["risk", "fields.customer_impact", "fields.db_migration"]
    );
    assert_eq!((done.voided, done.state), (3, State::PendingApproval));
    assert_eq!(live_approvals(&app, id).await, 0);
    assert_eq!(dispatch_jobs(&app, id).await, 0, "nothing left to deploy");
    let events = server::db::audit::events(&app.state.db.pool, id)
        .await
        .expect("events");
    let voided = events.last().expect("an event");
    assert_eq!(voided.event.kind(), "approvals_voided");
    assert_eq!(
        voided.event.payload()["reason"],
        "the risk, the customer impact and the db migration changed"
    );
}

/// A policy may name fewer material fields: then only those void.
async fn a_policy_names_its_material_fields(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let app = restart_with_catalog(app, "material.toml", |text| {
        text.replace(
            "approval_lifetime = \"3 days\" }",
            "approval_lifetime = \"3 days\", material_fields = [\"version\", \"fields.customer_impact\"] }",
        )
    })
    .await;
    let ada = app.user("ada").await;
    let id = submit(&app, &ada, "staging", &draft("2.4.0")).await;
    approve(&app, "ben", id).await.expect("ben");
    let mut reworded = draft("2.4.0");
    reworded.risk = "high".into();
    reworded.summary = "Other words".into();
    let done = edit(&app, &ada, id, &reworded).await.expect("edited");
    assert_eq!((done.voided, done.state), (0, State::Approved));
    reworded
        .fields
        .insert("customer_impact".into(), "degraded".into());
    let done = edit(&app, &ada, id, &reworded).await.expect("edited");
    assert_eq!((done.voided, done.state), (1, State::PendingApproval));
}

async fn editing_an_approved_request_withdraws_its_dispatch(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let ada = app.user("ada").await;
    let id = submit(&app, &ada, "staging", &draft("2.4.0")).await;
    assert_eq!(
        approve(&app, "ben", id).await.expect("ben"),
        State::Approved
    );
    assert_eq!(dispatch_jobs(&app, id).await, 1);
    let done = edit(&app, &ada, id, &draft("2.4.1")).await.expect("edited");
    assert_eq!((done.voided, done.state), (1, State::PendingApproval));
    assert_eq!(row(&app, id).await.state.as_str(), "pending_approval");
    assert_eq!(dispatch_jobs(&app, id).await, 0, "nothing left to deploy");
    assert_eq!(
        approve(&app, "ben", id).await.expect("again"),
        State::Approved
    );
    assert_eq!(dispatch_jobs(&app, id).await, 1);
}

async fn only_the_requester_edits_an_open_request_with_valid_fields(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let ada = app.user("ada").await;
    let ben = app.user("ben").await;
    let id = submit(&app, &ada, "production", &draft("2.4.0")).await;
    let before = row(&app, id).await;
    let err = edit(&app, &ben, id, &draft("9.9.9"))
        .await
        .expect_err("ben");
    assert_eq!(err.to_string(), "Only the requester may edit a request.");
    let Err(RequestError::Invalid(errors)) = edit(&app, &ada, id, &draft("")).await else {
        panic!("expected field errors");
    };
    assert!(errors.contains_key("version"), "{errors:?}");
    let stale = requests::edit(
        &app.state.db,
        &app.state.catalog.current(),
        &ada,
        id,
        before.revision - 1,
        &draft("2.4.2"),
    )
    .await
    .expect_err("stale");
    assert!(matches!(stale, RequestError::Conflict(_)), "{stale}");
    let after = row(&app, id).await;
    assert_eq!(
        (after.version.as_str(), after.revision),
        ("2.4.0", before.revision),
        "refused edits change nothing"
    );
    requests::cancel(
        &app.state.db,
        &app.state.catalog.current().catalog,
        &ada,
        false,
        id,
        after.revision,
        "",
    )
    .await
    .expect("cancelled");
    let closed = edit(&app, &ada, id, &draft("2.4.3"))
        .await
        .expect_err("closed");
    assert_eq!(
        closed.to_string(),
        "This request is cancelled and can no longer be edited."
    );
}

async fn a_request_whose_approvals_lapse_before_dispatch_needs_them_again(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let ada = app.user("ada").await;
    // Banking staging: one owner, approvals valid for 3 days.
    let id = submit(&app, &ada, "staging", &draft("2.4.0")).await;
    assert_eq!(
        approve(&app, "ben", id).await.expect("ben"),
        State::Approved
    );
    let lapsed = server::service::approvals::lapse_approvals(
        &app.state.db,
        &app.state.catalog.current().catalog,
        now_ms(),
    )
    .await
    .expect("check");
    assert!(lapsed.is_empty(), "still valid");
    // Four days pass before the deployment starts.
    sqlx::query("update decisions set decided_at = decided_at - $2 where request_id = $1")
        .bind(id)
        .bind(4_i64 * 24 * 3600 * 1000)
        .execute(&app.state.db.pool)
        .await
        .expect("age");
    let lapsed = server::service::approvals::lapse_approvals(
        &app.state.db,
        &app.state.catalog.current().catalog,
        now_ms(),
    )
    .await
    .expect("check");
    // The portal's own sweep (every 30 s) may have got there first on a loaded machine.
    assert!(lapsed == [id] || lapsed.is_empty(), "{lapsed:?}");
    assert_eq!(row(&app, id).await.state.as_str(), "pending_approval");
    assert_eq!(
        kinds(&app, id)
            .await
            .iter()
            .filter(|k| *k == "approvals_lapsed")
            .count(),
        1,
        "lapsed once"
    );
    assert_eq!(dispatch_jobs(&app, id).await, 0);
    assert_eq!(
        kinds(&app, id).await.last().map(String::as_str),
        Some("approvals_lapsed")
    );
    assert!(
        server::service::approvals::lapse_approvals(
            &app.state.db,
            &app.state.catalog.current().catalog,
            now_ms()
        )
        .await
        .expect("again")
        .is_empty(),
        "once"
    );
    // The same owner approves again; the request is back on its way.
    assert_eq!(
        approve(&app, "ben", id).await.expect("again"),
        State::Approved
    );
    assert_eq!(dispatch_jobs(&app, id).await, 1);
}

async fn the_edit_page_is_the_form_filled_with_the_request(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let ada = app.user("ada").await;
    let mut scheduled = draft("2.4.0");
    scheduled.scheduled_local = "2030-06-03T14:30".into();
    scheduled.timezone = "Europe/Paris".into();
    let id = submit(&app, &ada, "production", &scheduled).await;
    approve(&app, "ben", id).await.expect("ben");
    app.login_as("ada").await;
    let page = app.get_html(&format!("/requests/{id}")).await;
    assert!(
        page.contains(&format!("href=\"/requests/{id}/edit\"")),
        "an Edit link"
    );
    assert!(
        page.contains("2030-06-03 14:30 Europe/Paris (12:30 UTC)"),
        "the schedule in the requester's zone"
    );
    let form = app.get_html(&format!("/requests/{id}/edit")).await;
    for expected in [
        &format!("action=\"/requests/{id}/edit\""),
        "value=\"2.4.0\"",
        "value=\"CHG-1042\"",
        "value=\"2030-06-03T14:30\"",
        "value=\"Europe/Paris\"",
        "A change to anything but the title voids the approval given so far",
    ] {
        assert!(form.contains(expected), "{expected} in the edit form");
    }
    let revision = row(&app, id).await.revision.to_string();
    let post = |version: &'static str| {
        let revision = revision.clone();
        let client = app.client.clone();
        let url = app.url(&format!("/requests/{id}/edit"));
        async move {
            client
                .post(url)
                .form(&[
                    ("revision", revision.as_str()),
                    ("version", version),
                    ("summary", "Fixes interest rounding"),
                    ("risk", "medium"),
                    ("rollback_plan", "Redeploy the previous version"),
                    ("when", "scheduled"),
                    ("scheduled_local", "2030-06-03T14:30"),
                    ("timezone", "Europe/Paris"),
                    ("fields.change_ticket", "CHG-1042"),
                    ("fields.customer_impact", "none"),
                ])
                .send()
                .await
                .expect("post")
        }
    };
    let refused = post("two words").await;
    assert_eq!(location(&refused), format!("/requests/{id}/edit"));
    let again = app.get_html(&format!("/requests/{id}/edit")).await;
    assert!(
        again.contains("A version is letters, digits and . _ + - only"),
        "the message under the field"
    );
    assert!(
        again.contains("value=\"two words\""),
        "what was typed is kept"
    );
    let saved = post("2.4.1").await;
    assert_eq!(location(&saved), format!("/requests/{id}"));
    let page = app.get_html(&format!("/requests/{id}")).await;
    assert!(page.contains("its 1 approval(s) were voided"), "{page}");
    assert!(page.contains("version 2.4.0 → 2.4.1"), "on the timeline");
    assert!(page.contains("pending approval"));
}

crate::on_both_databases!(
    a_new_version_voids_the_approvals_so_far,
    a_new_title_keeps_the_approvals,
    a_material_change_voids_even_a_complete_approval,
    a_policy_names_its_material_fields,
    editing_an_approved_request_withdraws_its_dispatch,
    only_the_requester_edits_an_open_request_with_valid_fields,
    a_request_whose_approvals_lapse_before_dispatch_needs_them_again,
    the_edit_page_is_the_form_filled_with_the_request,
);
