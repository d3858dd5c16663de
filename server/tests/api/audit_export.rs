//! Exporting the audit trail: pipelines page through it with a token of scope `audit:read` (its
//! applications only), administrators and operations download it as JSON Lines or CSV; filters
//! by date, application and person, each mistake named by its field.

use crate::helpers::*;
use crate::pipeline_api::{call, problem_fields, token_as};
use crate::requests::{ada_submits_banking, approve, submit};
use crate::visibility::storefront;
use reqwest::Method;
use serde_json::Value;

async fn pipelines_page_through_their_applications_trail(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let id = ada_submits_banking(&app).await;
    approve(&app, "ben", id).await.expect("ben approves");
    let wes = app.user("wes").await;
    submit(&app, &wes, "storefront", "staging", &storefront("6.0.0"))
        .await
        .expect("storefront");
    let banking = token_as(&app, "auditor", "root", &["audit:read"], &["banking"]).await;

    // A page at a time, oldest first, each event with its hashes; Storefront's are not there.
    let mut after = 0;
    let mut seen: Vec<Value> = Vec::new();
    loop {
        let path = format!("/api/v1/audit?limit=1&after={after}");
        let (status, page, _) = call(&app, Method::GET, &path, Some(&banking), None).await;
        assert_eq!(status, 200, "{page}");
        seen.extend(page["events"].as_array().expect("events").iter().cloned());
        match page["next_after"].as_i64() {
            Some(next) => after = next,
            None => break,
        }
    }
    assert_eq!(seen.len(), 2, "submitted and approved: {seen:#?}");
    assert!(
        seen.iter().all(|e| e["application"] == "banking"),
        "{seen:#?}"
    );
    assert!(seen
        .iter()
        .all(|e| e["hash"].as_str().is_some_and(|h| h.len() == 64)));
    assert_eq!(seen[0]["prev_hash"], "", "the request's first event");
    assert_eq!(seen[1]["prev_hash"], seen[0]["hash"], "{seen:#?}");
    let ids: Vec<i64> = seen
        .iter()
        .map(|e| e["event_id"].as_i64().expect("id"))
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "oldest first: {ids:?}");

    // Filters: a person, and days with nothing.
    let (_, by_ben, _) = call(
        &app,
        Method::GET,
        "/api/v1/audit?person=ben",
        Some(&banking),
        None,
    )
    .await;
    let by_ben = by_ben["events"].as_array().expect("events").clone();
    assert!(
        !by_ben.is_empty() && by_ben.iter().all(|e| e["actor"] == "ben"),
        "{by_ben:#?}"
    );
    let old = "/api/v1/audit?from=2001-01-01&to=2001-01-31";
    let (_, none, _) = call(&app, Method::GET, old, Some(&banking), None).await;
    assert_eq!(none["events"], serde_json::json!([]));
    let (_, theirs, _) = call(
        &app,
        Method::GET,
        "/api/v1/audit?application=storefront",
        Some(&banking),
        None,
    )
    .await;
    assert_eq!(
        theirs["events"],
        serde_json::json!([]),
        "not the token's application"
    );

    // Mistakes are named; a token without the scope is refused.
    let bad = "/api/v1/audit?from=soon&limit=0&after=x&application=nope";
    let (status, problem, _) = call(&app, Method::GET, bad, Some(&banking), None).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        problem_fields(&problem),
        ["after", "application", "from", "limit"]
    );
    // A query string that cannot be read at all is a problem answer too, not plain text.
    let twice = "/api/v1/audit?limit=1&limit=2";
    let (status, problem, _) = call(&app, Method::GET, twice, Some(&banking), None).await;
    assert_eq!(status, 400, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("duplicate field")),
        "{problem}"
    );
    let gate = token_as(&app, "gate only", "root", &["gate:read"], &["*"]).await;
    let (status, problem, _) = call(&app, Method::GET, "/api/v1/audit", Some(&gate), None).await;
    assert_eq!(status, 403, "{problem}");
    let (_, doc, _) = call(&app, Method::GET, "/api/v1/openapi.json", None, None).await;
    assert!(
        doc["paths"]["/api/v1/audit"]["get"].is_object(),
        "documented"
    );
}

async fn administrators_and_operations_download_it(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let id = ada_submits_banking(&app).await;
    crate::requests::decide(
        &app,
        "ben",
        id,
        server::service::requests::Verdict::Reject,
        "=cmd|' /C calc'!A0, \"quoted\"",
    )
    .await
    .expect("rejected");
    for who in ["root", "olga"] {
        app.login_as(who).await;
        let page = app.get_html("/audit").await;
        assert!(
            page.contains("href=\"/audit\""),
            "{who} has the link: {page}"
        );
        assert!(page.contains("action=\"/audit/export\""), "{page}");
        let resp = app
            .get("/audit/export?format=csv&application=banking")
            .await;
        assert_eq!(resp.status(), 200, "{who}");
        assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
        assert!(resp.headers()["content-disposition"]
            .to_str()
            .expect("ascii")
            .contains("runway-audit.csv"));
        let csv = resp.text().await.expect("csv");
        let lines: Vec<&str> = csv.lines().collect();
        assert!(
            lines[0].starts_with("event_id,request_id,application"),
            "{csv}"
        );
        assert!(lines.len() >= 3, "{csv}");
        assert!(
            csv.contains("{\"\"comment\"\":\"\"=cmd"),
            "quotes doubled: {csv}"
        );
        let jsonl = app
            .get("/audit/export?person=ben")
            .await
            .text()
            .await
            .expect("jsonl");
        let events: Vec<Value> = jsonl
            .lines()
            .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
            .collect();
        assert!(
            !events.is_empty() && events.iter().all(|e| e["actor"] == "ben"),
            "{jsonl}"
        );
        app.logout().await;
    }
    app.login_as("ada").await;
    let resp = app.get("/audit/export").await;
    assert_eq!(resp.status(), 403);
    app.logout().await;
    app.login_as("root").await;
    let resp = app.get("/audit/export?format=xml").await;
    assert_eq!(resp.status(), 422);
    assert!(resp.text().await.expect("text").contains("format"));
    let resp = app.get("/audit/export?to=yesterday").await;
    assert_eq!(resp.status(), 422);
    assert!(resp
        .text()
        .await
        .expect("text")
        .contains("to: \"yesterday\" is not a date"));
}

crate::on_both_databases!(
    pipelines_page_through_their_applications_trail,
    administrators_and_operations_download_it,
);
