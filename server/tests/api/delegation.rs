//! Out of office: an away approver's delegate is asked in their place, finds the request in
//! their queue, and decides as them; the timeline names both; a policy may forbid it.

use crate::helpers::*;
use crate::requests::{approve, draft, submit};
use server::db::notifications as n;

/// Today and tomorrow (UTC), as a date field takes them.
fn days() -> (String, String) {
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date();
    let tomorrow = today.tomorrow().expect("tomorrow");
    (today.to_string(), tomorrow.to_string())
}

async fn kinds(app: &TestApp, who: &str) -> Vec<String> {
    app.notices_told().await;
    let user = app.user(who).await;
    n::inbox(&app.state.db, user.id, 0, 50)
        .await
        .expect("inbox")
        .into_iter()
        .map(|r| r.kind)
        .collect()
}

async fn cleo_away_with(app: &TestApp, delegate: &str) {
    let (today, tomorrow) = days();
    app.login_as("cleo").await;
    let resp = app
        .post_form(
            "/profile",
            &format!("email=cleo%40runway.example&away_from={today}&away_until={tomorrow}&delegate={delegate}&mail_approval_needed=on"),
        )
        .await;
    assert_eq!(location(&resp), "/profile");
    let page = app.get_html("/profile").await;
    assert!(page.contains("Profile saved."), "{page}");
    assert!(page.contains(&format!("value=\"{delegate}\"")), "{page}");
    app.logout().await;
}

async fn an_away_approvers_delegate_is_asked_and_decides_in_their_place(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    // Mistakes are named under their fields, and nothing is saved.
    let (today, tomorrow) = days();
    app.login_as("cleo").await;
    let page = app
        .post_form_then_page(
            "/profile",
            &format!("away_from={tomorrow}&away_until={today}&delegate=nobody"),
        )
        .await;
    assert!(page.contains("id=\"delegate-error\""), "{page}");
    assert!(page.contains("There is no user"), "{page}");
    let page = app
        .post_form_then_page("/profile", "away_from=soon&delegate=cleo")
        .await;
    assert!(page.contains("is not a date"), "{page}");
    assert!(page.contains("Give the last day you are away."), "{page}");
    assert!(page.contains("Name someone else"), "{page}");
    app.logout().await;
    cleo_away_with(&app, "wes").await;

    let ada = app.user("ada").await;
    let id = submit(&app, &ada, "banking", "production", &draft("2.4.0"))
        .await
        .expect("submitted");
    // Wes reads no Banking request of his own, but hears of this one once he may decide on it.
    let wes = app.client_of("wes").await;
    let mut stream = wes.get(app.url("/events")).send().await.expect("events");
    approve(&app, "ben", id).await.expect("ben approves");
    heard_until(&mut stream, &format!("event: request\ndata: {id}\n")).await;
    // The CAB is asked: Dev, and Wes in Cleo's place; Cleo's inbox keeps it, with no mail.
    assert_eq!(kinds(&app, "wes").await, ["approval_needed"]);
    assert_eq!(kinds(&app, "dev").await, ["approval_needed"]);
    assert_eq!(kinds(&app, "cleo").await, ["approval_needed"]);
    let mail = server::db::mail::outbox(&app.state.db, 100)
        .await
        .expect("outbox");
    assert!(
        !mail.iter().any(|m| m.address == "cleo@runway.example"),
        "{mail:#?}"
    );

    app.login_as("wes").await;
    let queue = app.get_html("/approvals").await;
    assert!(
        queue.contains(&format!("href=\"/requests/{id}\"")),
        "{queue}"
    );
    assert!(queue.contains("for Cleo Board"), "{queue}");
    let page = app.get_html(&format!("/requests/{id}")).await;
    assert!(page.contains("data-testid=\"deciding-for\""), "{page}");
    assert!(page.contains("in the place of Cleo Board"), "{page}");
    approve(&app, "wes", id)
        .await
        .expect("wes decides for cleo");
    let (seat, acted_by): (i64, Option<i64>) = sqlx::query_as(
        "select user_id, acted_by from decisions where request_id = $1 and acted_by is not null",
    )
    .bind(id)
    .fetch_one(&app.state.db.pool)
    .await
    .expect("decision");
    let (cleo, wes) = (app.user("cleo").await, app.user("wes").await);
    assert_eq!((seat, acted_by), (cleo.id, Some(wes.id)));
    let page = app.get_html(&format!("/requests/{id}")).await;
    assert!(
        page.contains("approved at stage Change advisory board for Cleo Board"),
        "{page}"
    );
    assert!(
        approve(&app, "wes", id).await.is_err(),
        "Wes counts once, and Cleo's seat is taken"
    );
    approve(&app, "dev", id).await.expect("dev approves");
    assert_eq!(crate::requests::state(&app, id).await, "approved");
}

async fn a_policy_may_forbid_delegates(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let app = restart_with_catalog(app, "no-delegates.toml", |text| {
        text.replace(
            "remind_in_windows = true\n",
            "remind_in_windows = true\ndelegation = false\n",
        )
    })
    .await;
    cleo_away_with(&app, "wes").await;
    let ada = app.user("ada").await;
    let id = submit(&app, &ada, "banking", "production", &draft("2.4.0"))
        .await
        .expect("submitted");
    approve(&app, "ben", id).await.expect("ben approves");
    assert!(kinds(&app, "wes").await.is_empty(), "no delegate is asked");
    assert_eq!(kinds(&app, "cleo").await, ["approval_needed"]);
    let refused = approve(&app, "wes", id).await.expect_err("refused");
    assert!(
        refused
            .to_string()
            .contains("This policy does not let a delegate decide"),
        "the refusal names the policy: {refused}"
    );
    app.login_as("wes").await;
    let queue = app.get_html("/approvals").await;
    assert!(
        !queue.contains(&format!("href=\"/requests/{id}\"")),
        "{queue}"
    );
    let catalog = app.get_html("/catalog").await;
    assert!(
        catalog.contains("No delegate decides in an away approver"),
        "{catalog}"
    );
}

/// Someone who approves nothing in their own name gets the approvals page while they stand in.
async fn a_delegate_gets_the_approvals_page(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    app.login_as("olga").await;
    let home = app.get_html("/").await;
    assert!(!home.contains("href=\"/approvals\""), "{home}");
    app.logout().await;
    cleo_away_with(&app, "olga").await;
    app.login_as("olga").await;
    let home = app.get_html("/").await;
    assert!(home.contains("href=\"/approvals\""), "{home}");
}

crate::on_both_databases!(
    a_delegate_gets_the_approvals_page,
    an_away_approvers_delegate_is_asked_and_decides_in_their_place,
    a_policy_may_forbid_delegates,
);
