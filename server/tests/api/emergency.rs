//! Emergency (break-glass) changes: who may raise one, what it needs, how it deploys through a
//! freeze, what the gate says of it, and its post-implementation review; on both databases.

use crate::dispatch::{century_freeze, submit_raw, until_state, WORKER};
use crate::helpers::*;
use crate::pipeline_api::{gate, token};
use crate::request_pages::{post_form, valid_form};
use crate::requests::{approve, draft, state};
use serde_json::json;
use server::domain::request::RawDraft;
use server::service::error::Error;

const WHY: &str = "Card payments fail for 3% of customers since 2.3.9";

/// The demo catalog with Banking production frozen for the whole century, so that only an
/// emergency change that bypasses freezes can deploy it.
async fn frozen(kind: Kind, extra: &[(&str, &str)]) -> Option<TestApp> {
    let db = TestDb::new(kind).await?;
    let catalog = catalog_with(&db, &century_freeze("banking", "production"));
    Some(start(db, catalog, extra).await)
}

fn emergency(version: &str, justification: &str) -> RawDraft {
    RawDraft {
        change: "emergency".into(),
        justification: justification.into(),
        ..draft(version)
    }
}

async fn raise(app: &TestApp, who: &str, env: &str, raw: &RawDraft) -> Result<i64, Error> {
    submit_raw(app, who, "banking", env, raw).await
}

fn field_errors(result: Result<i64, Error>) -> Vec<String> {
    match result {
        Err(Error::Invalid(errors)) => errors.into_keys().collect(),
        other => panic!("expected field errors, got {other:?}"),
    }
}

async fn only_the_emergency_path_may_raise_one_and_it_needs_a_justification(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    // No justification, and a set time: both named.
    let mut scheduled = emergency("2.4.1", "  ");
    scheduled.scheduled_local = "2030-06-03T14:30".into();
    scheduled.timezone = "Europe/Paris".into();
    assert_eq!(
        field_errors(raise(&app, "ada", "production", &scheduled).await),
        ["justification", "scheduled_local"]
    );
    // Staging has no emergency path.
    assert_eq!(
        field_errors(raise(&app, "ada", "staging", &emergency("2.4.1", WHY)).await),
        ["change"]
    );
    // Web may neither request Banking nor raise an emergency there; operations may raise an
    // emergency but not a normal request.
    let refused = raise(&app, "wes", "production", &emergency("2.4.1", WHY)).await;
    assert!(matches!(refused, Err(Error::Forbidden(_))), "{refused:?}");
    let refused = raise(&app, "olga", "production", &draft("2.4.1")).await;
    assert!(matches!(refused, Err(Error::Forbidden(_))), "{refused:?}");
    assert_eq!(
        count_rows(&app, "select count(*) from requests").await,
        0,
        "nothing refused was written"
    );

    // The form offers the path to operations, as the only kind they may raise.
    app.login_as("olga").await;
    let page = app
        .get_html("/requests/new?app=banking&env=production")
        .await;
    assert!(
        page.contains("Emergency (break-glass)"),
        "the form offers it"
    );
    assert!(
        page.contains("Operations or Fintech may raise one; 1 of Banking owners"),
        "the form says what the path needs"
    );
    // Posted through the form, without a justification: the field is named, nothing is kept.
    let mut form = valid_form("2.4.1");
    form.push(("change", "emergency".into()));
    let resp = post_form(&app, "/requests", &form).await;
    let back = location(&resp);
    assert!(
        back.starts_with("/requests/new?"),
        "back to the form: {back}"
    );
    let html = app.get_html(&back).await;
    assert!(
        html.contains("Required for an emergency change"),
        "the justification is asked for"
    );
    assert!(html.contains("value=\"2.4.1\""), "what was typed is kept");
    form.push(("justification", WHY.into()));
    let resp = post_form(&app, "/requests", &form).await;
    assert_eq!(resp.status(), 303, "raised through the form");
    let page = location(&resp);
    let html = app.get_html(&page).await;
    assert!(html.contains("Emergency change"), "the page marks it");
    assert!(html.contains(WHY), "the page shows why");
    assert!(
        html.contains("raised it as an emergency change, which may deploy outside the windows"),
        "the timeline says so"
    );
    // The board marks it too.
    let board = app.get_html("/board").await;
    assert!(board.contains("badge-emergency"), "the board marks it");
}

async fn count_rows(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&app.state.db.pool)
        .await
        .expect("count")
}

async fn the_gate_allows_an_approved_emergency_through_a_freeze_and_says_why(kind: Kind) {
    let Some(app) = frozen(kind, &[]).await else {
        return;
    };
    let secret = token(&app, &["gate:read"], &["*"]).await;
    let ask = |version: &str| {
        json!({ "application": "banking", "environment": "production", "version": version,
                "actor": "olga" })
    };
    let id = raise(&app, "olga", "production", &emergency("2.4.1", WHY))
        .await
        .expect("raised");
    assert_eq!(state(&app, id).await, "pending_approval");
    let answer = gate(&app, &secret, ask("2.4.1")).await;
    assert_eq!(answer["decision"], "pending", "{answer}");
    assert_eq!(
        answer["waiting_for"][0]["team"], "banking-owners",
        "the reduced approval: {answer}"
    );
    approve(&app, "ben", id).await.expect("ben");
    assert_eq!(state(&app, id).await, "approved", "one owner is enough");
    let answer = gate(&app, &secret, ask("2.4.1")).await;
    assert_eq!(
        (answer["decision"].as_str(), answer["rule"].as_str()),
        (Some("allow"), Some("allow")),
        "{answer}"
    );
    let reasons = answer["reasons"].to_string();
    assert!(
        reasons.contains(&format!(
            "request #{id} is an emergency change; change windows and freezes do not hold it: {WHY}"
        )),
        "{answer}"
    );

    // A normal request for another version is held by the freeze.
    let normal = raise(&app, "ada", "production", &draft("2.4.2"))
        .await
        .expect("normal");
    for who in ["ben", "cleo", "dev"] {
        approve(&app, who, normal).await.expect("approved");
    }
    let answer = gate(
        &app,
        &secret,
        json!({ "application": "banking", "environment": "production", "version": "2.4.2" }),
    )
    .await;
    assert_eq!(
        (answer["decision"].as_str(), answer["rule"].as_str()),
        (Some("deny"), Some("window")),
        "{answer}"
    );

    // The approvers' page of each warns of what stands in its way, and of the other.
    app.login_as("ben").await;
    let page = app.get_html(&format!("/requests/{normal}")).await;
    assert!(
        page.contains(
            "Now is in the freeze Data centre move: the next allowed time is 2100-01-04 08:00 UTC."
        ),
        "the freeze and the next allowed time"
    );
    assert!(
        page.contains(&format!("Request #{id} (2.4.1, approved) also targets")),
        "the overlap"
    );
    let page = app.get_html(&format!("/requests/{id}")).await;
    assert!(!page.contains("in the freeze"), "the emergency is not held");
    assert!(
        page.contains(&format!("Request #{normal} (2.4.2, approved) also targets")),
        "the overlap, seen from the other side"
    );
}

async fn an_emergency_deploys_through_the_freeze_and_opens_its_review(kind: Kind) {
    let Some(app) = frozen(kind, WORKER).await else {
        return;
    };
    let id = raise(&app, "olga", "production", &emergency("2.4.1", WHY))
        .await
        .expect("raised");
    approve(&app, "ben", id).await.expect("ben");
    until_state(&app, id, "succeeded").await;

    let tickets = server::db::tickets::list(&app.state.db, None, Some(id), 10)
        .await
        .expect("tickets");
    let review = tickets
        .iter()
        .find(|t| t.rule_id == "emergency-review")
        .expect("a review ticket");
    assert_eq!(
        (
            review.kind.as_str(),
            review.owner_team.as_str(),
            review.state.as_str()
        ),
        ("task", "banking-owners", "open")
    );
    let due = review.due_at.expect("due") - review.opened_at;
    assert_eq!(due, 2 * 86_400_000, "due within the path's two days");
    assert!(review
        .title
        .starts_with("Post-implementation review of an emergency change: Banking 2.4.1"));

    // The owner team is told, and the subject says it is an emergency.
    let mut told: Vec<String> = Vec::new();
    for _ in 0..100 {
        told = sqlx::query_scalar(
            "select subject from notifications where request_id = $1 and kind = 'ticket_opened'",
        )
        .bind(id)
        .fetch_all(&app.state.db.pool)
        .await
        .expect("notifications");
        if !told.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        told.iter()
            .any(|s| s.starts_with("[Emergency] Ticket opened: Banking 2.4.1")),
        "{told:?}"
    );

    // Not yet overdue; once its time has passed, operations find it listed.
    app.login_as("olga").await;
    let listed = app.get_html("/tickets?state=overdue").await;
    assert!(
        !listed.contains("Post-implementation review"),
        "not yet overdue"
    );
    sqlx::query("update tickets set due_at = 1 where ticket_id = $1")
        .bind(review.id)
        .execute(&app.state.db.pool)
        .await
        .expect("due");
    let listed = app.get_html("/tickets?state=overdue").await;
    assert!(
        listed.contains("Post-implementation review"),
        "overdue is listed"
    );
    assert!(listed.contains("(overdue)"), "and marked");
}

crate::on_both_databases!(
    only_the_emergency_path_may_raise_one_and_it_needs_a_justification,
    the_gate_allows_an_approved_emergency_through_a_freeze_and_says_why,
    an_emergency_deploys_through_the_freeze_and_opens_its_review,
);
