//! Tickets: raised by failures as the catalog's rules say, worked by their owners, linked with
//! their request, and posted to a webhook — on both databases.

use crate::dispatch::{until_state, WORKER};
use crate::helpers::*;
use crate::pipeline_api::{call, token};
use crate::requests::{approve, count, draft};
use serde_json::{json, Value};
use server::service::requests;
use server::service::tickets::{self, Move};
use std::sync::{Arc, Mutex};
use std::time::Duration;

async fn ticket_ids(app: &TestApp, request: i64) -> Vec<i64> {
    sqlx::query_scalar("select ticket_id from tickets where request_id = $1 order by ticket_id")
        .bind(request)
        .fetch_all(&app.state.db.pool)
        .await
        .expect("tickets")
}

async fn a_failed_deployment_opens_a_ticket_its_owners_work(kind: Kind) {
    let Some(app) = spawn_app_with(kind, WORKER).await else {
        return;
    };
    let ada = app.user("ada").await;
    let id = requests::submit(
        &app.state.db,
        &app.state.catalog.current(),
        &ada,
        "banking",
        "staging",
        &draft("2.4.0-fail"),
    )
    .await
    .expect("submitted");
    approve(&app, "ben", id).await.expect("approved");
    until_state(&app, id, "failed").await;
    // The demo rule: any Banking stage that fails is a task for Fintech (production has its own).
    let ids = ticket_ids(&app, id).await;
    assert_eq!(ids.len(), 1, "one rule matches");
    let catalog = app.state.catalog.current().catalog.clone();
    let ticket = server::ui::tickets::view(&app.state.db, &catalog, &ada, ids[0])
        .await
        .expect("ticket");
    assert_eq!(
        (
            ticket.ticket.kind.as_str(),
            ticket.ticket.state.as_str(),
            ticket.ticket.owner_team.as_str()
        ),
        ("task", "open", "Fintech")
    );
    assert!(
        ticket
            .ticket
            .title
            .starts_with("Deployment failed: Banking 2.4.0-fail to Staging"),
        "{}",
        ticket.ticket.title
    );
    assert!(
        ticket.detail.contains("smoke test failed") || ticket.detail.contains("status 1"),
        "{}",
        ticket.detail
    );
    assert!(ticket.can_work);

    // Only the owner team, operations and administrators work it.
    let wes = app.user("wes").await;
    let refused = tickets::work(&app.state.db, &catalog, &wes, ids[0], Move::Acknowledge, "")
        .await
        .expect_err("not the owner");
    assert!(refused.to_string().contains("Only Fintech"), "{refused}");
    tickets::work(
        &app.state.db,
        &catalog,
        &ada,
        ids[0],
        Move::Acknowledge,
        "looking",
    )
    .await
    .expect("acknowledged");
    let no_comment = tickets::work(&app.state.db, &catalog, &ada, ids[0], Move::Resolve, " ")
        .await
        .expect_err("a resolution says how");
    assert!(
        matches!(&no_comment, server::service::error::Error::Invalid(f) if f.contains_key("comment")),
        "{no_comment:?}"
    );
    let olga = app.user("olga").await;
    tickets::work(
        &app.state.db,
        &catalog,
        &olga,
        ids[0],
        Move::Resolve,
        "rolled back to 2.3.9",
    )
    .await
    .expect("resolved");
    let again = tickets::work(&app.state.db, &catalog, &ada, ids[0], Move::Acknowledge, "")
        .await
        .expect_err("resolved tickets are not acknowledged");
    assert!(again.to_string().contains("is resolved"), "{again}");
    let resolved = server::ui::tickets::view(&app.state.db, &catalog, &ada, ids[0])
        .await
        .expect("ticket");
    assert_eq!(resolved.ticket.state, "resolved");
    assert!(resolved.acknowledged_at.is_some() && resolved.resolved_at.is_some());
    assert_eq!(resolved.comments.len(), 2);
    assert!(resolved.comments[1].1.contains("rolled back to 2.3.9"));

    // Linked both ways: the request page lists it, the ticket page links the request.
    app.login_as("ada").await;
    let page = app.get_html(&format!("/requests/{id}")).await;
    assert!(
        page.contains(&format!("/tickets/{}", ids[0])),
        "the request links its ticket"
    );
    assert!(
        page.contains(&format!("Ticket #{} opened", ids[0])),
        "the timeline says so"
    );
    let page = app.get_html(&format!("/tickets/{}", ids[0])).await;
    assert!(
        page.contains(&format!("/requests/{id}")),
        "the ticket links its request"
    );
    let list = app.get_html("/tickets?state=resolved").await;
    assert!(list.contains(&format!("/tickets/{}", ids[0])));
    let list = app.get_html("/tickets?state=open").await;
    assert!(!list.contains(&format!("/tickets/{}", ids[0])));
    // A success raises nothing.
    let ok = requests::submit(
        &app.state.db,
        &app.state.catalog.current(),
        &ada,
        "banking",
        "staging",
        &draft("2.4.1"),
    )
    .await
    .expect("submitted");
    approve(&app, "ben", ok).await.expect("approved");
    until_state(&app, ok, "succeeded").await;
    assert!(ticket_ids(&app, ok).await.is_empty());
}

/// A local service desk: records what it is sent; answers `status`.
async fn service_desk(status: u16) -> (String, Arc<Mutex<Vec<Value>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let kept = seen.clone();
    let router = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
            let kept = kept.clone();
            async move {
                kept.lock().expect("seen").push(body);
                axum::http::StatusCode::from_u16(status).expect("status")
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("address"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (url, seen)
}

async fn a_failed_stage_posts_its_ticket_to_the_webhook(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let (good, received) = service_desk(202).await;
    let (bad, refused) = service_desk(503).await;
    // Two rules for failed Storefront stages: one desk takes them, the other is down.
    let text = std::fs::read_to_string(&app.catalog).expect("catalog");
    let rules = format!(
        "[[tickets]]\nid = \"shop-desk\"\non = \"stage_failed\"\nkind = \"incident\"\nteam = \"web\"\n\
         applications = [\"storefront\"]\nwebhook = \"{good}\"\n\n\
         [[tickets]]\nid = \"shop-down-desk\"\non = \"stage_failed\"\nkind = \"task\"\nteam = \"ops\"\n\
         applications = [\"storefront\"]\nwebhook = \"{bad}\"\n\n"
    );
    let catalog = app.db.dir.path().join("desk.toml");
    std::fs::write(&catalog, format!("{rules}{text}")).expect("catalog");
    let (db, _) = app.stop().await;
    let app = start(db, catalog, &[]).await;

    let secret = token(
        &app,
        &["requests:write", "events:write", "requests:on-behalf"],
        &["storefront"],
    )
    .await;
    let mut body = json!({
        "application": "storefront", "environment": "staging", "version": "6.0.0",
        "requested_by": "wes", "rollback_plan": "Previous image", "fields": {}
    });
    body["summary"] = json!("From the pipeline");
    let (status, created, _) = call(
        &app,
        reqwest::Method::POST,
        "/api/v1/requests",
        Some(&secret),
        Some(body),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().expect("id");
    let (status, _, _) = call(
        &app,
        reqwest::Method::POST,
        &format!("/api/v1/requests/{id}/events"),
        Some(&secret),
        Some(json!({ "stage": "integration tests", "status": "failed", "metrics": { "tests_failed": 3 } })),
    )
    .await;
    assert_eq!(status, 201);
    let ids = ticket_ids(&app, id).await;
    assert_eq!(ids.len(), 2, "both rules match");
    for _ in 0..100 {
        if !received.lock().expect("seen").is_empty() && !refused.lock().expect("seen").is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let got = received.lock().expect("seen").clone();
    assert_eq!(got.len(), 1, "delivered once: {got:?}");
    assert_eq!(got[0]["ticket"], ids[0]);
    assert_eq!(got[0]["kind"], "incident");
    assert_eq!(got[0]["request"], id);
    assert!(
        got[0]["title"]
            .as_str()
            .unwrap_or_default()
            .starts_with("integration tests failed"),
        "{got:?}"
    );
    let delivered: (String, i64) =
        sqlx::query_as("select webhook_state, webhook_attempts from tickets where ticket_id = $1")
            .bind(ids[0])
            .fetch_one(&app.state.db.pool)
            .await
            .expect("state");
    assert_eq!(delivered, ("delivered".to_owned(), 1));
    // The desk that is down gets tried again later; the ticket says so.
    let pending: (String, i64, String) = sqlx::query_as(
        "select webhook_state, webhook_attempts, webhook_note from tickets where ticket_id = $1",
    )
    .bind(ids[1])
    .fetch_one(&app.state.db.pool)
    .await
    .expect("state");
    assert_eq!(
        (pending.0.as_str(), pending.1),
        ("pending", 1),
        "{pending:?}"
    );
    assert!(pending.2.contains("503"), "{pending:?}");
    assert_eq!(
        count(
            &app,
            "select count(*) from stage_results where request_id = $1",
            id
        )
        .await,
        1
    );
}

crate::on_both_databases!(
    a_failed_deployment_opens_a_ticket_its_owners_work,
    a_failed_stage_posts_its_ticket_to_the_webhook,
);
