//! The request use cases, on both databases.

use crate::helpers::*;
use server::db::users::User;
use server::domain::request::{RawDraft, State};
use server::service::error::Error as RequestError;
use server::service::requests::{self, Verdict};

pub(crate) fn draft(version: &str) -> RawDraft {
    RawDraft {
        version: version.into(),
        summary: "Fixes interest rounding".into(),
        risk: "medium".into(),
        rollback_plan: "Redeploy the previous version".into(),
        fields: [
            ("change_ticket".to_owned(), "CHG-1042".to_owned()),
            ("customer_impact".to_owned(), "none".to_owned()),
        ]
        .into(),
        ..RawDraft::default()
    }
}

pub(crate) async fn submit(
    app: &TestApp,
    user: &User,
    app_id: &str,
    env: &str,
    raw: &RawDraft,
) -> Result<i64, RequestError> {
    requests::submit(
        &app.state.db,
        &app.state.catalog.current(),
        user,
        app_id,
        env,
        raw,
    )
    .await
}

pub(crate) async fn revision(app: &TestApp, id: i64) -> i64 {
    server::db::requests::get(&app.state.db.pool, id)
        .await
        .expect("get")
        .expect("row")
        .revision
}

pub(crate) async fn state(app: &TestApp, id: i64) -> String {
    server::db::requests::get(&app.state.db.pool, id)
        .await
        .expect("get")
        .expect("row")
        .state
        .as_str()
        .to_owned()
}

/// Ada asks for Banking 2.4.0 in production (two approval stages), through the use case.
pub(crate) async fn ada_submits_banking(app: &TestApp) -> i64 {
    let ada = app.user("ada").await;
    submit(app, &ada, "banking", "production", &draft("2.4.0"))
        .await
        .expect("submitted")
}

pub(crate) async fn approve(app: &TestApp, who: &str, id: i64) -> Result<State, RequestError> {
    decide(app, who, id, Verdict::Approve, "looks good").await
}

/// `who` decides on `id` as it stands now.
pub(crate) async fn decide(
    app: &TestApp,
    who: &str,
    id: i64,
    verdict: Verdict,
    comment: &str,
) -> Result<State, RequestError> {
    let user = app.user(who).await;
    let rev = revision(app, id).await;
    requests::decide(
        &app.state.db,
        &app.state.catalog.current().catalog,
        &user,
        id,
        rev,
        verdict,
        comment,
    )
    .await
    .map(|d| d.state)
}

pub(crate) async fn count(app: &TestApp, sql: &str, id: i64) -> i64 {
    sqlx::query_scalar(sql)
        .bind(id)
        .fetch_one(&app.state.db.pool)
        .await
        .expect("count")
}

async fn requests_by(app: &TestApp, user: &User) -> i64 {
    count(
        app,
        "select count(*) from requests where requester_id = $1",
        user.id,
    )
    .await
}

/// Submits the seed example: Banking 2.4.0 to production.
async fn banking_request(app: &TestApp, user: &User) -> i64 {
    submit(app, user, "banking", "production", &draft("2.4.0"))
        .await
        .expect("submitted")
}

async fn decisions(app: &TestApp, id: i64) -> i64 {
    count(
        app,
        "select count(*) from decisions where request_id = $1",
        id,
    )
    .await
}

pub(crate) async fn dispatch_jobs(app: &TestApp, id: i64) -> i64 {
    count(
        app,
        "select count(*) from dispatch_jobs where request_id = $1",
        id,
    )
    .await
}

async fn banking_production_needs_an_owner_then_two_cab_members(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let ada = app.user("ada").await;
    let id = banking_request(&app, &ada).await;
    assert_eq!(state(&app, id).await, "pending_approval");
    assert_eq!(
        approve(&app, "cleo", id)
            .await
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default(),
        "None of your teams is needed at this stage of the request, or you have already decided."
    );
    assert_eq!(
        approve(&app, "ben", id).await.expect("ben"),
        State::PendingApproval
    );
    assert_eq!(
        approve(&app, "cleo", id).await.expect("cleo"),
        State::PendingApproval
    );
    assert!(
        matches!(
            approve(&app, "cleo", id).await,
            Err(RequestError::Forbidden(_))
        ),
        "cleo counts once"
    );
    assert_eq!(dispatch_jobs(&app, id).await, 0);
    assert_eq!(
        approve(&app, "dev", id).await.expect("dev"),
        State::Approved
    );
    assert_eq!(state(&app, id).await, "approved");
    assert_eq!(
        dispatch_jobs(&app, id).await,
        1,
        "the final approval writes the dispatch job"
    );
    let kinds: Vec<String> = server::db::audit::events(&app.state.db.pool, id)
        .await
        .expect("events")
        .into_iter()
        .map(|e| e.event.kind())
        .collect();
    assert_eq!(
        kinds,
        ["submitted", "approval", "approval", "approval", "approved"]
    );
}

async fn a_team_outside_the_policy_cannot_submit(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let wes = app.user("wes").await;
    let err = submit(&app, &wes, "banking", "production", &draft("2.4.0"))
        .await
        .expect_err("forbidden");
    assert_eq!(
        err.to_string(),
        "team Web may not request releases of Banking to production; Fintech may."
    );
    assert_eq!(requests_by(&app, &wes).await, 0);
}

async fn a_bad_form_names_each_field_and_writes_nothing(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let ada = app.user("ada").await;
    let mut bad = draft("");
    bad.fields.remove("change_ticket");
    let Err(RequestError::Invalid(errors)) =
        submit(&app, &ada, "banking", "production", &bad).await
    else {
        panic!("expected field errors");
    };
    assert!(
        errors.contains_key("version") && errors.contains_key("fields.change_ticket"),
        "{errors:?}"
    );
    assert_eq!(requests_by(&app, &ada).await, 0);
}

async fn the_requester_never_approves_their_own_request(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let hash = server::auth::password::hash("two-hats-pass").expect("hash");
    server::db::users::create(
        &app.state.db,
        "hat",
        "Two Hats",
        &hash,
        false,
        &["fintech".into(), "banking-owners".into()],
    )
    .await
    .expect("user");
    let hat = app.user("hat").await;
    let id = submit(&app, &hat, "banking", "production", &draft("2.4.0"))
        .await
        .expect("submitted");
    let err = approve(&app, "hat", id).await.expect_err("own request");
    assert_eq!(err.to_string(), "You cannot decide on your own request.");
    assert_eq!(decisions(&app, id).await, 0);
}

async fn a_decision_on_a_stale_revision_is_a_conflict_and_not_counted(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let ada = app.user("ada").await;
    let id = banking_request(&app, &ada).await;
    let seen = revision(&app, id).await;
    approve(&app, "ben", id).await.expect("ben");
    let cleo = app.user("cleo").await;
    let err = requests::decide(
        &app.state.db,
        &app.state.catalog.current().catalog,
        &cleo,
        id,
        seen,
        Verdict::Approve,
        "",
    )
    .await
    .expect_err("stale");
    assert!(matches!(err, RequestError::Conflict(_)), "{err}");
    assert_eq!(decisions(&app, id).await, 1);
}

async fn two_final_approvals_at_once_approve_exactly_once(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let ada = app.user("ada").await;
    let id = banking_request(&app, &ada).await;
    approve(&app, "ben", id).await.expect("ben");
    approve(&app, "cleo", id).await.expect("cleo");
    // A third CAB member, so two people can give the final approval at the same moment.
    let hash = server::auth::password::hash("cab-member-pass").expect("hash");
    server::db::users::create(
        &app.state.db,
        "eve",
        "Eve Board",
        &hash,
        false,
        &["cab".into()],
    )
    .await
    .expect("eve");
    let (dev, eve) = (app.user("dev").await, app.user("eve").await);
    let rev = revision(&app, id).await;
    let db = &app.state.db;
    let active = app.state.catalog.current();
    let (a, b) = tokio::join!(
        requests::decide(db, &active.catalog, &dev, id, rev, Verdict::Approve, "ok"),
        requests::decide(db, &active.catalog, &eve, id, rev, Verdict::Approve, "ok"),
    );
    let winners = [&a, &b].iter().filter(|r| r.is_ok()).count();
    assert_eq!(winners, 1, "exactly one final approval: {a:?} {b:?}");
    let loser = if a.is_ok() { b } else { a };
    assert!(matches!(loser, Err(RequestError::Conflict(_))), "{loser:?}");
    assert_eq!(state(&app, id).await, "approved");
    assert_eq!(dispatch_jobs(&app, id).await, 1);
    assert_eq!(
        count(
            &app,
            "select count(*) from request_events where request_id = $1 and kind = 'approved'",
            id
        )
        .await,
        1
    );
}

async fn a_rejection_needs_a_comment_and_ends_the_request(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let ada = app.user("ada").await;
    let ben = app.user("ben").await;
    let id = banking_request(&app, &ada).await;
    let rev = revision(&app, id).await;
    let err = requests::decide(
        &app.state.db,
        &app.state.catalog.current().catalog,
        &ben,
        id,
        rev,
        Verdict::Reject,
        "  ",
    )
    .await
    .expect_err("no comment");
    assert!(matches!(err, RequestError::Invalid(ref f) if f.contains_key("comment")));
    let done = requests::decide(
        &app.state.db,
        &app.state.catalog.current().catalog,
        &ben,
        id,
        rev,
        Verdict::Reject,
        "No rollback tested",
    )
    .await
    .expect("rejected");
    assert_eq!(done.state, State::Rejected);
    assert!(matches!(
        approve(&app, "cleo", id).await,
        Err(RequestError::Conflict(_))
    ));
}

async fn the_requester_or_ops_may_cancel_others_may_not(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let ada = app.user("ada").await;
    let ben = app.user("ben").await;
    let olga = app.user("olga").await;
    let first = banking_request(&app, &ada).await;
    let rev = revision(&app, first).await;
    let err = requests::cancel(
        &app.state.db,
        &app.state.catalog.current().catalog,
        &ben,
        false,
        first,
        rev,
        "",
    )
    .await
    .expect_err("not ben");
    assert!(matches!(err, RequestError::Forbidden(_)));
    requests::cancel(
        &app.state.db,
        &app.state.catalog.current().catalog,
        &ada,
        false,
        first,
        rev,
        "wrong version",
    )
    .await
    .expect("requester cancels");
    assert_eq!(state(&app, first).await, "cancelled");
    let second = submit(&app, &ada, "banking", "staging", &draft("2.4.1"))
        .await
        .expect("submitted");
    let rev = revision(&app, second).await;
    requests::cancel(
        &app.state.db,
        &app.state.catalog.current().catalog,
        &olga,
        true,
        second,
        rev,
        "maintenance",
    )
    .await
    .expect("ops cancels");
    let rev = revision(&app, second).await;
    let again = requests::cancel(
        &app.state.db,
        &app.state.catalog.current().catalog,
        &olga,
        true,
        second,
        rev,
        "",
    )
    .await
    .expect_err("closed");
    assert!(matches!(again, RequestError::Conflict(_)));
}

async fn an_environment_without_stages_is_approved_at_once(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let wes = app.user("wes").await;
    let raw = RawDraft {
        fields: Default::default(),
        ..draft("5.0.0")
    };
    let id = submit(&app, &wes, "storefront", "staging", &raw)
        .await
        .expect("submitted");
    assert_eq!(state(&app, id).await, "approved");
    assert_eq!(dispatch_jobs(&app, id).await, 1);
}

async fn the_policy_is_frozen_into_the_request(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let ada = app.user("ada").await;
    let id = banking_request(&app, &ada).await;
    let text = std::fs::read_to_string(&app.catalog).expect("read");
    std::fs::write(
        &app.catalog,
        text.replace("count = 2, team = \"cab\"", "count = 3, team = \"cab\""),
    )
    .expect("write");
    app.state
        .catalog
        .apply_file(&app.state.db)
        .await
        .expect("applied");
    approve(&app, "ben", id).await.expect("ben");
    approve(&app, "cleo", id).await.expect("cleo");
    assert_eq!(
        approve(&app, "dev", id).await.expect("dev"),
        State::Approved,
        "two CAB members, as when submitted"
    );
}

crate::on_both_databases!(
    banking_production_needs_an_owner_then_two_cab_members,
    a_team_outside_the_policy_cannot_submit,
    a_bad_form_names_each_field_and_writes_nothing,
    the_requester_never_approves_their_own_request,
    a_decision_on_a_stale_revision_is_a_conflict_and_not_counted,
    two_final_approvals_at_once_approve_exactly_once,
    a_rejection_needs_a_comment_and_ends_the_request,
    the_requester_or_ops_may_cancel_others_may_not,
    an_environment_without_stages_is_approved_at_once,
    the_policy_is_frozen_into_the_request,
);
