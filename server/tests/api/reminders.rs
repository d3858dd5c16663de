//! Reminders and escalation of a request left waiting, as the background sweep sends them: the
//! sweep runs here at the times the request's own due times say, on both databases.

use crate::helpers::*;
use crate::requests::{ada_submits_banking, approve};
use server::db::notifications as n;
use server::service::approvals::chase_overdue;
use sqlx::Row;

/// The request's stored due times: when its approvers are reminded, when operations are told.
async fn due(app: &TestApp, id: i64) -> Option<(Option<i64>, Option<i64>)> {
    sqlx::query("select remind_at, escalate_at from chases where request_id = $1")
        .bind(id)
        .fetch_optional(&app.state.db.pool)
        .await
        .expect("chases")
        .map(|r| (r.get(0), r.get(1)))
}

/// The kinds of `who`'s notifications, oldest first.
async fn kinds(app: &TestApp, who: &str) -> Vec<String> {
    app.notices_told().await;
    let user = app.user(who).await;
    let mut rows = n::inbox(&app.state.db, user.id, 0, 50)
        .await
        .expect("inbox");
    rows.reverse();
    rows.into_iter().map(|r| r.kind).collect()
}

async fn sweep(app: &TestApp, at: i64) -> usize {
    let catalog = app.state.catalog.current();
    chase_overdue(&app.state.db, &catalog.catalog, at)
        .await
        .expect("sweep")
}

async fn a_waiting_request_reminds_its_approvers_then_escalates(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let submitted = server::db::now_ms();
    let id = ada_submits_banking(&app).await;
    let revision = crate::requests::revision(&app, id).await;
    let (remind_at, escalate_at) = due(&app, id).await.expect("the clocks started");
    let (remind_at, escalate_at) = (remind_at.expect("remind"), escalate_at.expect("escalate"));
    // The demo policy counts business hours only: at least 4 and 16 hours away.
    assert!(remind_at >= submitted + 4 * 3_600_000, "{remind_at}");
    assert!(escalate_at >= submitted + 16 * 3_600_000, "{escalate_at}");
    assert!(escalate_at > remind_at);

    // Before it is due, nothing happens.
    assert_eq!(sweep(&app, remind_at - 1).await, 0);
    assert_eq!(kinds(&app, "ben").await, ["approval_needed"]);

    // Due: the owner is reminded, once however often the sweep runs.
    assert_eq!(sweep(&app, remind_at).await, 1);
    assert_eq!(sweep(&app, remind_at).await, 0, "reminded once");
    assert_eq!(kinds(&app, "ben").await, ["approval_needed", "reminder"]);
    assert!(kinds(&app, "olga").await.is_empty(), "no escalation yet");
    for nobody in ["ada", "cleo", "dev"] {
        assert!(
            kinds(&app, nobody).await.is_empty(),
            "{nobody} is not asked"
        );
    }
    let (next, kept) = due(&app, id).await.expect("still chased");
    assert!(
        next.expect("next reminder") > remind_at,
        "the next interval"
    );
    assert_eq!(kept, Some(escalate_at), "the escalation stays where it was");

    // Past the escalation: operations are told once, and Ben is reminded again.
    assert_eq!(sweep(&app, escalate_at).await, 1);
    assert_eq!(kinds(&app, "olga").await, ["escalation"]);
    assert_eq!(sweep(&app, escalate_at).await, 0);
    assert_eq!(kinds(&app, "olga").await, ["escalation"], "escalated once");
    assert_eq!(
        kinds(&app, "ben").await.last().map(String::as_str),
        Some("reminder")
    );
    let (_, escalation) = due(&app, id).await.expect("reminders go on");
    assert_eq!(escalation, None);

    // The timeline says so, and the request did not move: a form open on it stays current.
    app.login_as("olga").await;
    let page = app.get_html(&format!("/requests/{id}")).await;
    assert!(
        page.contains(
            "Still waiting at stage Owner review: its approvers reminded, escalated to Operations"
        ),
        "{page}"
    );
    assert_eq!(
        crate::requests::revision(&app, id).await,
        revision,
        "no new revision"
    );
    assert_eq!(crate::requests::state(&app, id).await, "pending_approval");

    // The next stage starts the clocks again, for the CAB; approving it ends them.
    approve(&app, "ben", id).await.expect("ben approves");
    let (remind_cab, escalate_cab) = due(&app, id).await.expect("started again");
    assert!(escalate_cab.is_some(), "a new stage may escalate again");
    assert_eq!(sweep(&app, remind_cab.expect("remind")).await, 1);
    assert_eq!(kinds(&app, "cleo").await, ["approval_needed", "reminder"]);
    approve(&app, "cleo", id).await.expect("cleo approves");
    approve(&app, "dev", id).await.expect("dev approves");
    assert_eq!(due(&app, id).await, None, "nothing is due once approved");
}

/// A request that stops waiting before its reminder is due is never chased.
async fn a_cancelled_request_is_not_chased(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let id = ada_submits_banking(&app).await;
    let (remind_at, _) = due(&app, id).await.expect("the clocks started");
    let rev = crate::requests::revision(&app, id).await;
    server::service::requests::cancel(
        &app.state.db,
        &app.state.catalog.current().catalog,
        &app.user("ada").await,
        false,
        id,
        rev,
        "not needed",
    )
    .await
    .expect("cancelled");
    assert_eq!(due(&app, id).await, None);
    assert_eq!(sweep(&app, remind_at.expect("remind") + 1).await, 0);
    assert_eq!(kinds(&app, "ben").await, ["approval_needed"]);
}

/// A request that waited before its policy had reminders gets them at the next start.
async fn requests_waiting_from_before_are_chased_after_a_restart(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let id = ada_submits_banking(&app).await;
    sqlx::query("delete from chases where request_id = $1")
        .bind(id)
        .execute(&app.state.db.pool)
        .await
        .expect("as an earlier version stored it");
    let app = restart_with_catalog(app, "same.toml", |text| text).await;
    let (remind_at, escalate_at) = due(&app, id).await.expect("started at start-up");
    assert!(remind_at.is_some() && escalate_at.is_some());
    assert!(escalate_at > remind_at);
}

crate::on_both_databases!(
    requests_waiting_from_before_are_chased_after_a_restart,
    a_waiting_request_reminds_its_approvers_then_escalates,
    a_cancelled_request_is_not_chased,
);
