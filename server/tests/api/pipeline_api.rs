//! `/api/v1` as a CI server uses it: tokens, the gate and its reasons, pipeline-opened
//! requests, stage results, and the problem answers for bad input — on both databases.

use crate::helpers::*;
use crate::requests::{approve, count, draft, revision};
use serde_json::{json, Value};
use server::service::requests;
use server::service::tokens::{self, TokenForm};

/// An API token made by the administrator; its secret.
pub(crate) async fn token(app: &TestApp, scopes: &[&str], applications: &[&str]) -> String {
    let name = format!("pipeline {}", scopes.join("+"));
    token_as(app, &name, "ada", scopes, applications).await
}

/// A token named `name` made by root, acting as `user`.
pub(crate) async fn token_as(
    app: &TestApp,
    name: &str,
    user: &str,
    scopes: &[&str],
    applications: &[&str],
) -> String {
    let root = app.user("root").await;
    tokens::create_token(
        &app.state.db,
        &app.state.catalog.current().catalog,
        &root,
        &TokenForm {
            name: name.to_owned(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            applications: applications.iter().map(|s| (*s).to_owned()).collect(),
            acts_as: user.into(),
        },
    )
    .await
    .expect("token")
    .secret
}

/// Calls the API; the status, the JSON answer and the content type.
pub(crate) async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value, String) {
    let mut request = app.client.request(method, app.url(path));
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    if let Some(b) = body {
        request = request.json(&b);
    }
    let response = request.send().await.expect("call");
    let status = response.status().as_u16();
    let kind = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response.text().await.expect("body");
    let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, json, kind)
}

pub(crate) async fn gate(app: &TestApp, token: &str, body: Value) -> Value {
    let (status, answer, _) = call(
        app,
        reqwest::Method::POST,
        "/api/v1/gate",
        Some(token),
        Some(body),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    answer
}

pub(crate) fn problem_fields(answer: &Value) -> Vec<String> {
    answer["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn tokens_are_hashed_scoped_and_revocable(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let catalog = app.state.catalog.current().catalog.clone();
    // Only administrators make tokens, and a bad form names each field.
    let ada = app.user("ada").await;
    let refused = tokens::create_token(&app.state.db, &catalog, &ada, &TokenForm::default())
        .await
        .err()
        .expect("not an admin");
    assert_eq!(
        refused.to_string(),
        "Only administrators manage API tokens."
    );
    let root = app.user("root").await;
    let invalid = tokens::create_token(
        &app.state.db,
        &catalog,
        &root,
        &TokenForm {
            name: " ".into(),
            scopes: vec!["deploy:all".into()],
            applications: vec!["payroll".into()],
            acts_as: "nobody".into(),
        },
    )
    .await
    .err()
    .expect("invalid");
    match invalid {
        server::service::error::Error::Invalid(fields) => assert_eq!(
            fields.keys().collect::<Vec<_>>(),
            ["acts_as", "applications", "name", "scopes"]
        ),
        other => panic!("{other}"),
    }
    assert_eq!(
        count(&app, "select count(*) from api_tokens where 1 = $1", 1).await,
        0
    );

    let secret = token(&app, &["gate:read"], &["banking"]).await;
    assert!(secret.starts_with("rwy_") && secret.len() == 52, "{secret}");
    let stored: Vec<String> = sqlx::query_scalar("select secret_hash from api_tokens")
        .fetch_all(&app.state.db.pool)
        .await
        .expect("hashes");
    assert_eq!(
        stored,
        [tokens::sha256_hex(secret.as_bytes())],
        "only the hash is kept"
    );

    let ask = json!({ "application": "banking", "environment": "staging", "version": "2.4.0" });
    let (status, answer, kind) = call(
        &app,
        reqwest::Method::POST,
        "/api/v1/gate",
        None,
        Some(ask.clone()),
    )
    .await;
    assert_eq!(
        (status, kind.as_str()),
        (401, "application/problem+json"),
        "{answer}"
    );
    let (status, _, _) = call(
        &app,
        reqwest::Method::POST,
        "/api/v1/gate",
        Some("rwy_0000000000000000000000000000000000000000000000"),
        Some(ask.clone()),
    )
    .await;
    assert_eq!(status, 401);
    // The wrong application, the wrong scope: 403 naming what is missing.
    let (status, answer, _) = call(
        &app,
        reqwest::Method::POST,
        "/api/v1/gate",
        Some(&secret),
        Some(json!({ "application": "storefront", "environment": "staging", "version": "1.0" })),
    )
    .await;
    assert_eq!(status, 403);
    assert!(
        answer["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("may not touch the application storefront"),
        "{answer}"
    );
    let (status, answer, _) = call(
        &app,
        reqwest::Method::POST,
        "/api/v1/requests",
        Some(&secret),
        Some(json!({ "application": "banking", "environment": "staging", "version": "2.4.0" })),
    )
    .await;
    assert_eq!(status, 403);
    assert!(
        answer["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("lacks the scope requests:write"),
        "{answer}"
    );
    let (status, _, _) = call(
        &app,
        reqwest::Method::POST,
        "/api/v1/gate",
        Some(&secret),
        Some(ask.clone()),
    )
    .await;
    assert_eq!(status, 200);
    let listed = tokens::tokens(&app.state.db, &root).await.expect("tokens");
    assert!(listed[0].last_used_at.is_some(), "last use recorded");

    tokens::revoke_token(&app.state.db, &app.state.gate, &root, listed[0].id)
        .await
        .expect("revoked");
    let (status, answer, _) = call(
        &app,
        reqwest::Method::POST,
        "/api/v1/gate",
        Some(&secret),
        Some(ask),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(
        answer["detail"],
        "This API token is unknown or was revoked."
    );
}

async fn the_gate_explains_each_reason(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let secret = token(&app, &["gate:read"], &["*"]).await;
    let ask = |extra: Value| {
        let mut body =
            json!({ "application": "banking", "environment": "staging", "version": "2.4.0" });
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        body
    };
    // No request at all.
    let answer = gate(&app, &secret, ask(json!({}))).await;
    assert_eq!(
        (answer["decision"].as_str(), answer["rule"].as_str()),
        (Some("deny"), Some("request")),
        "{answer}"
    );
    assert_eq!(
        answer["reasons"][0],
        "no request asks for Banking 2.4.0 to Staging"
    );

    // A request waiting for its owner.
    let ada = app.user("ada").await;
    let id = requests::submit(
        &app.state.db,
        &app.state.catalog.current(),
        &ada,
        "banking",
        "staging",
        &draft("2.4.0"),
    )
    .await
    .expect("submitted");
    let answer = gate(&app, &secret, ask(json!({}))).await;
    assert_eq!(answer["decision"], "pending", "{answer}");
    assert_eq!(answer["request_id"], id);
    assert_eq!(answer["waiting_for"][0]["team"], "banking-owners");
    assert_eq!(answer["waiting_for"][0]["needed"], 1);
    assert_eq!(answer["request_url"], format!("/requests/{id}"));

    // Approved: allowed, for the right actor and artifact only.
    approve(&app, "ben", id).await.expect("approved");
    let answer = gate(
        &app,
        &secret,
        ask(json!({ "actor": "ada", "pipeline_url": "https://ci.example.com/job/7" })),
    )
    .await;
    assert_eq!(
        (answer["decision"].as_str(), answer["rule"].as_str()),
        (Some("allow"), Some("allow")),
        "{answer}"
    );
    let answer = gate(&app, &secret, ask(json!({ "actor": "fintech" }))).await;
    assert_eq!(answer["decision"], "allow", "{answer}");
    let answer = gate(&app, &secret, ask(json!({ "actor": "wes" }))).await;
    assert_eq!(
        (answer["decision"].as_str(), answer["rule"].as_str()),
        (Some("deny"), Some("actor")),
        "{answer}"
    );
    assert_eq!(
        answer["reasons"][0],
        "wes (team Web) may not deploy Banking to Staging (only Fintech may)"
    );
    let answer = gate(&app, &secret, ask(json!({ "actor": "web" }))).await;
    assert_eq!(answer["rule"], "actor", "{answer}");
    let answer = gate(&app, &secret, ask(json!({ "actor": "mallory" }))).await;
    assert_eq!(answer["rule"], "actor", "{answer}");
    let digest = format!("sha256:{}", "ab".repeat(32));
    let answer = gate(&app, &secret, ask(json!({ "artifact": digest }))).await;
    assert_eq!(
        (answer["decision"].as_str(), answer["rule"].as_str()),
        (Some("deny"), Some("artifact")),
        "{answer}"
    );
    // Another version is not covered.
    let answer = gate(&app, &secret, ask(json!({ "version": "2.4.1" }))).await;
    assert_eq!(answer["rule"], "request", "{answer}");

    // Production: a freeze, then a lapse of the approvals.
    let prod = requests::submit(
        &app.state.db,
        &app.state.catalog.current(),
        &ada,
        "banking",
        "production",
        &draft("2.4.0"),
    )
    .await
    .expect("submitted");
    for who in ["ben", "cleo", "dev"] {
        approve(&app, who, prod).await.expect("approved");
    }
    let answer = gate(
        &app,
        &secret,
        ask(json!({ "environment": "production", "at": "2026-12-24T10:00:00Z" })),
    )
    .await;
    assert_eq!(
        (answer["decision"].as_str(), answer["rule"].as_str()),
        (Some("deny"), Some("window")),
        "{answer}"
    );
    assert!(
        answer["reasons"][0]
            .as_str()
            .unwrap_or_default()
            .starts_with("freeze: Year-end closing"),
        "{answer}"
    );
    assert_eq!(answer["next_window"], "2027-01-04T08:00:00Z");
    assert_eq!(answer["dry_run"], true);

    // Banking staging approvals last three days: four days on, they have lapsed.
    let later = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(96);
    let answer = gate(&app, &secret, ask(json!({ "at": later.to_string() }))).await;
    assert_eq!(
        (answer["decision"].as_str(), answer["rule"].as_str()),
        (Some("pending"), Some("approvals")),
        "{answer}"
    );
    assert!(
        answer["reasons"][0]
            .as_str()
            .unwrap_or_default()
            .contains("lapsed"),
        "{answer}"
    );

    // A rejected request is a denial.
    let rejected = requests::submit(
        &app.state.db,
        &app.state.catalog.current(),
        &ada,
        "banking",
        "staging",
        &draft("2.5.0"),
    )
    .await
    .expect("submitted");
    let ben = app.user("ben").await;
    requests::decide(
        &app.state.db,
        &app.state.catalog.current().catalog,
        &ben,
        rejected,
        revision(&app, rejected).await,
        requests::Verdict::Reject,
        "not now",
    )
    .await
    .expect("rejected");
    let answer = gate(&app, &secret, ask(json!({ "version": "2.5.0" }))).await;
    assert_eq!(answer["rule"], "request", "{answer}");
    assert!(
        answer["reasons"][0]
            .as_str()
            .unwrap_or_default()
            .contains("is rejected"),
        "{answer}"
    );

    // Every answer is recorded, with who asked and what was decided.
    assert_eq!(
        count(&app, "select count(*) from gate_checks where 1 = $1", 1).await,
        12
    );
    let (decision, actor): (String, String) =
        sqlx::query_as("select decision, actor from gate_checks where actor = 'wes'")
            .fetch_one(&app.state.db.pool)
            .await
            .expect("recorded");
    assert_eq!((decision.as_str(), actor.as_str()), ("deny", "wes"));

    // The record keeps what was sent and answered as it was, backslashes and all (PostgreSQL
    // takes the records as `COPY` text, where a backslash starts an escape).
    let odd = r"ci\nightly\t\\";
    let answer = gate(&app, &secret, ask(json!({ "actor": odd }))).await;
    let (actor, reasons): (String, String) = sqlx::query_as(
        "select actor, reasons from gate_checks order by gate_check_id desc limit 1",
    )
    .fetch_one(&app.state.db.pool)
    .await
    .expect("recorded");
    assert_eq!(actor, odd);
    let reasons: Value = serde_json::from_str(&reasons).expect("reasons are JSON");
    assert_eq!(reasons, answer["reasons"]);
    assert!(reasons.to_string().contains("nightly"), "{reasons}");
}

async fn bad_input_gets_a_problem_naming_the_field(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let secret = token(
        &app,
        &["gate:read", "requests:write", "events:write"],
        &["*"],
    )
    .await;
    let post = |path: &'static str, body: Value| {
        let app = &app;
        let secret = secret.clone();
        async move { call(app, reqwest::Method::POST, path, Some(&secret), Some(body)).await }
    };
    let cases = [
        (
            "/api/v1/gate",
            json!({ "application": "payroll", "environment": "x", "version": "1" }),
            422,
            "application",
        ),
        (
            "/api/v1/gate",
            json!({ "application": "banking", "environment": "qa", "version": "1" }),
            422,
            "environment",
        ),
        (
            "/api/v1/gate",
            json!({ "application": "banking", "environment": "staging", "version": 5 }),
            422,
            "version",
        ),
        (
            "/api/v1/gate",
            json!({ "application": "banking", "environment": "staging" }),
            422,
            "version",
        ),
        (
            "/api/v1/gate",
            json!({ "application": "banking", "environment": "staging", "version": "1", "colour": "red" }),
            422,
            "colour",
        ),
        (
            "/api/v1/gate",
            json!({ "application": "banking", "environment": "staging", "version": "1", "artifact": "latest" }),
            422,
            "artifact",
        ),
        (
            "/api/v1/gate",
            json!({ "application": "banking", "environment": "staging", "version": "1", "at": "tomorrow" }),
            422,
            "at",
        ),
        (
            "/api/v1/gate",
            json!({ "application": "banking", "environment": "staging", "version": "1", "pipeline_url": "ftp://x" }),
            422,
            "pipeline_url",
        ),
        (
            "/api/v1/requests",
            json!({ "application": "banking", "environment": "staging", "version": "2.4.0", "requested_by": "no body" }),
            422,
            "requested_by",
        ),
        (
            "/api/v1/requests",
            json!({ "application": "banking", "environment": "staging", "version": "2.4.0" }),
            422,
            "change_ticket",
        ),
        (
            "/api/v1/requests",
            json!({ "application": "banking", "environment": "staging", "version": "2.4.0", "deploys_itself": "yes" }),
            422,
            "deploys_itself",
        ),
    ];
    for (path, body, status, field) in cases {
        let (got, answer, kind) = post(path, body.clone()).await;
        assert_eq!(
            (got, kind.as_str()),
            (status, "application/problem+json"),
            "{body} → {answer}"
        );
        assert!(
            problem_fields(&answer).iter().any(|f| f.contains(field)),
            "{body} → {answer}"
        );
    }
    // Not JSON, too large, an unknown endpoint, a bad id: problems too, never a 500.
    let raw = app
        .client
        .post(app.url("/api/v1/gate"))
        .bearer_auth(&secret)
        .header("content-type", "application/json")
        .body("{\"application\": ")
        .send()
        .await
        .expect("call");
    assert_eq!(raw.status(), 400);
    let big = app
        .client
        .post(app.url("/api/v1/requests"))
        .bearer_auth(&secret)
        .body(vec![b' '; 70 * 1024])
        .send()
        .await
        .expect("call");
    assert_eq!(big.status(), 413);
    let (status, _, kind) = call(
        &app,
        reqwest::Method::GET,
        "/api/v1/nothing",
        Some(&secret),
        None,
    )
    .await;
    assert_eq!((status, kind.as_str()), (404, "application/problem+json"));
    let (status, _, _) = call(
        &app,
        reqwest::Method::GET,
        "/api/v1/requests/abc",
        Some(&secret),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _, kind) = call(
        &app,
        reqwest::Method::DELETE,
        "/api/v1/gate",
        Some(&secret),
        None,
    )
    .await;
    assert_eq!((status, kind.as_str()), (405, "application/problem+json"));
    // Nothing was written by any of it.
    assert_eq!(
        count(&app, "select count(*) from requests where 1 = $1", 1).await,
        0
    );
    assert_eq!(
        count(
            &app,
            "select count(*) from idempotency_keys where 1 = $1",
            1
        )
        .await,
        0
    );
}

pub(crate) fn pipeline_request(version: &str) -> Value {
    json!({
        "application": "banking",
        "environment": "staging",
        "version": version,
        "summary": "Built by the pipeline",
        "rollback_plan": "Redeploy the previous tag",
        "pipeline_url": "https://ci.example.com/job/banking/42",
        "fields": { "change_ticket": "CHG-7", "customer_impact": "none" },
    })
}

async fn a_pipeline_opens_a_request_once_per_idempotency_key(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let secret = token(&app, &["requests:write"], &["banking"]).await;
    let open = |body: Value, key: &'static str| {
        let app = &app;
        let secret = secret.clone();
        async move {
            app.client
                .post(app.url("/api/v1/requests"))
                .bearer_auth(&secret)
                .header("idempotency-key", key)
                .json(&body)
                .send()
                .await
                .expect("call")
        }
    };
    let first = open(pipeline_request("2.4.0"), "build-42").await;
    assert_eq!(first.status(), 201);
    let location = first.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let created: Value = first.json().await.expect("json");
    let id = created["id"].as_i64().expect("id");
    assert_eq!(location, format!("/api/v1/requests/{id}"));
    assert_eq!(created["state"], "pending_approval");
    assert_eq!(created["origin"], "pipeline");
    assert_eq!(
        created["pipeline_url"],
        "https://ci.example.com/job/banking/42"
    );
    assert_eq!(created["url"], format!("/requests/{id}"));

    let again = open(pipeline_request("2.4.0"), "build-42").await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let replayed: Value = again.json().await.expect("json");
    assert_eq!(replayed["id"], id);
    let other = open(pipeline_request("2.4.1"), "build-42").await;
    assert_eq!(other.status(), 422);
    let refused: Value = other.json().await.expect("json");
    assert_eq!(problem_fields(&refused), ["Idempotency-Key"]);
    assert_eq!(
        count(&app, "select count(*) from requests where 1 = $1", 1).await,
        1
    );

    // The requester is the token's user unless the pipeline names one; the pipeline polls.
    let row = server::db::requests::get(&app.state.db.pool, id)
        .await
        .expect("get")
        .expect("row");
    assert_eq!(row.requester_id, app.user("ada").await.id);
    let (status, status_body, _) =
        call(&app, reqwest::Method::GET, &location, Some(&secret), None).await;
    assert_eq!(status, 200);
    assert_eq!(status_body["approved"], false);
    assert_eq!(status_body["waiting_for"][0]["team"], "banking-owners");
    approve(&app, "ben", id).await.expect("approved");
    let (_, status_body, _) =
        call(&app, reqwest::Method::GET, &location, Some(&secret), None).await;
    assert_eq!(
        (
            status_body["state"].as_str(),
            status_body["approved"].as_bool()
        ),
        (Some("approved"), Some(true))
    );
    // Without a key, each call is a new request.
    let (status, _, _) = call(
        &app,
        reqwest::Method::POST,
        "/api/v1/requests",
        Some(&secret),
        Some(pipeline_request("2.4.2")),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _, _) = call(
        &app,
        reqwest::Method::GET,
        "/api/v1/requests/99999",
        Some(&secret),
        None,
    )
    .await;
    assert_eq!(status, 404);
    // The request page says where it came from.
    app.login_as("ada").await;
    let page = app.get_html(&format!("/requests/{id}")).await;
    assert!(
        page.contains("https://ci.example.com/job/banking/42"),
        "the page links the pipeline"
    );
}

async fn a_self_deploying_request_passes_the_gate_and_follows_its_deploy_stage(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let secret = token(
        &app,
        &["gate:read", "requests:write", "events:write"],
        &["banking"],
    )
    .await;
    let mut body = pipeline_request("3.0.0");
    body["deploys_itself"] = json!(true);
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
    assert_eq!(created["deploys_itself"], true);
    let stage = |body: Value| {
        let app = &app;
        let secret = secret.clone();
        async move {
            call(
                app,
                reqwest::Method::POST,
                &format!("/api/v1/requests/{id}/events"),
                Some(&secret),
                Some(body),
            )
            .await
        }
    };
    let (status, _, _) = stage(json!({
        "stage": "build", "status": "succeeded",
        "started_at": "2026-11-27T10:00:00Z", "finished_at": "2026-11-27T10:04:30Z",
        "metrics": { "tests_passed": 412, "tests_failed": 0, "coverage": 81.5 }
    }))
    .await;
    assert_eq!(status, 201);
    approve(&app, "ben", id).await.expect("approved");
    assert_eq!(
        count(
            &app,
            "select count(*) from dispatch_jobs where request_id = $1",
            id
        )
        .await,
        0,
        "approval does not dispatch"
    );
    let answer = gate(
        &app,
        &secret,
        json!({ "application": "banking", "environment": "staging", "version": "3.0.0" }),
    )
    .await;
    assert_eq!(answer["decision"], "allow", "{answer}");
    let (status, _, _) = stage(json!({ "stage": "deploy", "status": "started" })).await;
    assert_eq!(status, 201);
    assert_eq!(crate::requests::state(&app, id).await, "deploying");
    let (status, _, _) = stage(
        json!({ "stage": "deploy", "status": "succeeded", "metrics": { "duration_ms": 5400 } }),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(crate::requests::state(&app, id).await, "succeeded");
    assert_eq!(
        count(
            &app,
            "select count(*) from stage_results where request_id = $1",
            id
        )
        .await,
        3
    );
    // Bad stage results name the field and write nothing.
    for (body, field) in [
        (json!({ "stage": "test", "status": "done" }), "status"),
        (json!({ "stage": "", "status": "failed" }), "stage"),
        (
            json!({ "stage": "test", "status": "failed", "metrics": { "coverage": "high" } }),
            "metrics.coverage",
        ),
        (
            json!({ "stage": "test", "status": "failed", "started_at": "2026-11-27T10:00:00Z", "finished_at": "2026-11-27T09:00:00Z" }),
            "finished_at",
        ),
    ] {
        let (status, answer, _) = stage(body.clone()).await;
        assert_eq!(status, 422, "{body} → {answer}");
        assert_eq!(problem_fields(&answer), [field], "{body} → {answer}");
    }
    assert_eq!(
        count(
            &app,
            "select count(*) from stage_results where request_id = $1",
            id
        )
        .await,
        3
    );
    // The timeline shows the stages and their metrics.
    app.login_as("ada").await;
    let page = app.get_html(&format!("/requests/{id}")).await;
    assert!(
        page.contains("build succeeded in 4 min 30 s"),
        "timeline: {page}"
    );
    assert!(page.contains("tests_passed 412"), "metrics on the timeline");
    // The application's history charts each stage.
    let history = app.get_html("/applications/banking/history").await;
    assert_eq!(
        history.matches("data-testid=\"stage-chart\"").count(),
        2,
        "build and deploy: {history}"
    );
    assert!(
        history.contains("1 result(s), 0 failed; median 4 min 30 s"),
        "{history}"
    );
    assert!(history.contains("tests_passed 412"), "{history}");
    let (status, _, _) = call(
        &app,
        reqwest::Method::GET,
        "/applications/payroll/history",
        None,
        None,
    )
    .await;
    assert_eq!(status, 404);
}

/// The properties and required fields of a schema of the document (following `$ref` and `allOf`).
fn shape(doc: &Value, schema: &Value) -> (Vec<String>, Vec<String>) {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap_or_default();
        return shape(doc, &doc["components"]["schemas"][name]);
    }
    let mut properties: Vec<String> = schema["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    let mut required: Vec<String> = schema["required"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    for part in schema["allOf"].as_array().into_iter().flatten() {
        let (p, r) = shape(doc, part);
        properties.extend(p);
        required.extend(r);
    }
    (properties, required)
}

/// Checks an answer against the schema the document gives for `path`, `method` and `status`.
fn conforms(doc: &Value, path: &str, method: &str, status: u16, answer: &Value, kind: &str) {
    let response = &doc["paths"][path][method]["responses"][status.to_string()];
    assert!(
        response.is_object(),
        "{method} {path} {status} is documented"
    );
    let content = response["content"].as_object().expect("content");
    let (media, described) = content.iter().next().expect("a media type");
    assert_eq!(
        media,
        kind.split(';').next().unwrap_or_default(),
        "{method} {path} {status}"
    );
    let (properties, required) = shape(doc, &described["schema"]);
    let object = answer.as_object().expect("an object");
    for key in object.keys() {
        assert!(
            properties.contains(key),
            "{method} {path} {status}: {key} is not documented"
        );
    }
    for key in &required {
        assert!(
            object.contains_key(key),
            "{method} {path} {status}: {key} is required"
        );
    }
}

async fn every_answer_follows_the_openapi_document(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let (status, doc, _) = call(
        &app,
        reqwest::Method::GET,
        "/api/v1/openapi.json",
        None,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        doc["openapi"]
            .as_str()
            .unwrap_or_default()
            .starts_with("3."),
        "{doc}"
    );
    let secret = token(
        &app,
        &["gate:read", "requests:write", "events:write"],
        &["banking"],
    )
    .await;
    let post = reqwest::Method::POST;
    let (s, a, k) = call(&app, post.clone(), "/api/v1/gate", None, Some(json!({}))).await;
    conforms(&doc, "/api/v1/gate", "post", s, &a, &k);
    let ask = json!({ "application": "banking", "environment": "staging", "version": "2.4.0" });
    let (s, a, k) = call(
        &app,
        post.clone(),
        "/api/v1/gate",
        Some(&secret),
        Some(ask.clone()),
    )
    .await;
    conforms(&doc, "/api/v1/gate", "post", s, &a, &k);
    let (s, a, k) = call(
        &app,
        post.clone(),
        "/api/v1/gate",
        Some(&secret),
        Some(json!({ "application": "banking" })),
    )
    .await;
    conforms(&doc, "/api/v1/gate", "post", s, &a, &k);
    let (s, a, k) = call(
        &app,
        post.clone(),
        "/api/v1/gate",
        Some(&secret),
        Some(json!({ "application": "storefront", "environment": "staging", "version": "1" })),
    )
    .await;
    assert_eq!(s, 403);
    conforms(&doc, "/api/v1/gate", "post", s, &a, &k);
    let (s, created, k) = call(
        &app,
        post.clone(),
        "/api/v1/requests",
        Some(&secret),
        Some(pipeline_request("2.4.0")),
    )
    .await;
    conforms(&doc, "/api/v1/requests", "post", s, &created, &k);
    let id = created["id"].as_i64().expect("id");
    let (s, a, k) = call(
        &app,
        post.clone(),
        "/api/v1/requests",
        Some(&secret),
        Some(json!({ "application": "banking", "environment": "staging", "version": "" })),
    )
    .await;
    conforms(&doc, "/api/v1/requests", "post", s, &a, &k);
    let path = format!("/api/v1/requests/{id}");
    let (s, a, k) = call(&app, reqwest::Method::GET, &path, Some(&secret), None).await;
    conforms(&doc, "/api/v1/requests/{id}", "get", s, &a, &k);
    let (s, a, k) = call(
        &app,
        reqwest::Method::GET,
        "/api/v1/requests/4242",
        Some(&secret),
        None,
    )
    .await;
    conforms(&doc, "/api/v1/requests/{id}", "get", s, &a, &k);
    let (s, a, k) = call(
        &app,
        post.clone(),
        &format!("{path}/events"),
        Some(&secret),
        Some(json!({ "stage": "test", "status": "bad" })),
    )
    .await;
    conforms(&doc, "/api/v1/requests/{id}/events", "post", s, &a, &k);
    let (s, _, _) = call(
        &app,
        post,
        &format!("{path}/events"),
        Some(&secret),
        Some(json!({ "stage": "test", "status": "succeeded" })),
    )
    .await;
    assert!(
        doc["paths"]["/api/v1/requests/{id}/events"]["post"]["responses"][s.to_string()]
            .is_object()
    );
}

/// Random mutations of valid bodies: fields dropped, retyped, stretched, filled with odd text.
fn mutate(base: &Value, next: &mut impl FnMut() -> u64) -> Value {
    let odd = [
        json!(null),
        json!(true),
        json!(-1),
        json!(1e308),
        json!(""),
        json!(" "),
        json!("\u{0}\u{202e}🚀"),
        json!("x".repeat(5000)),
        json!("../../etc/passwd"),
        json!("'; drop table requests; --"),
        json!([1, 2, 3]),
        json!({ "a": { "b": [] } }),
        json!("2026-02-30T25:61:00Z"),
        json!("sha256:"),
        json!(i64::MAX),
    ];
    let mut body = base.clone();
    let Some(object) = body.as_object_mut() else {
        return body;
    };
    let keys: Vec<String> = object.keys().cloned().collect();
    for _ in 0..1 + next() % 3 {
        let key = &keys[(next() % keys.len() as u64) as usize];
        match next() % 4 {
            0 => {
                object.remove(key);
            }
            1 => {
                object.insert(
                    key.clone(),
                    odd[(next() % odd.len() as u64) as usize].clone(),
                );
            }
            2 => {
                object.insert(format!("extra{}", next() % 3), json!(1));
            }
            _ => {
                if let Some(Value::Object(inner)) = object.get_mut(key) {
                    inner.insert(
                        format!("m{}", next() % 5),
                        odd[(next() % odd.len() as u64) as usize].clone(),
                    );
                }
            }
        }
    }
    body
}

async fn random_api_input_never_gets_a_server_error(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let secret = token(
        &app,
        &["gate:read", "requests:write", "events:write"],
        &["*"],
    )
    .await;
    let (_, created, _) = call(
        &app,
        reqwest::Method::POST,
        "/api/v1/requests",
        Some(&secret),
        Some(pipeline_request("1.0.0")),
    )
    .await;
    let id = created["id"].as_i64().expect("id");
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64 | 1)
        .unwrap_or(11);
    let mut rng = seed;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let events = format!("/api/v1/requests/{id}/events");
    let bases = [
        (
            "/api/v1/gate",
            json!({ "application": "banking", "environment": "production", "version": "2.4.0", "artifact": format!("sha256:{}", "0".repeat(64)), "actor": "ada", "pipeline_url": "https://ci/x", "at": "2026-12-01T10:00:00Z" }),
        ),
        ("/api/v1/requests", pipeline_request("9.9.9")),
        (
            events.as_str(),
            json!({ "stage": "test", "status": "failed", "started_at": "2026-11-27T10:00:00Z", "finished_at": "2026-11-27T10:01:00Z", "metrics": { "coverage": 80 } }),
        ),
    ];
    let mut statuses = std::collections::BTreeMap::new();
    for round in 0..400 {
        let (path, base) = &bases[round % bases.len()];
        let body = mutate(base, &mut next);
        let (status, answer, _) = call(
            &app,
            reqwest::Method::POST,
            path,
            Some(&secret),
            Some(body.clone()),
        )
        .await;
        assert!(
            status < 500,
            "seed {seed}: {path} {body} → {status} {answer}"
        );
        *statuses.entry(status).or_insert(0) += 1;
    }
    // Raw bytes that are not JSON at all.
    for _ in 0..50 {
        let bytes: Vec<u8> = (0..next() % 200).map(|_| (next() % 256) as u8).collect();
        let status = app
            .client
            .post(app.url("/api/v1/gate"))
            .bearer_auth(&secret)
            .body(bytes)
            .send()
            .await
            .expect("call")
            .status();
        assert!(status.as_u16() < 500, "seed {seed}: raw bytes → {status}");
    }
    assert!(
        statuses.keys().any(|s| *s >= 400),
        "seed {seed}: some input was refused: {statuses:?}"
    );
}

crate::on_both_databases!(
    tokens_are_hashed_scoped_and_revocable,
    the_gate_explains_each_reason,
    bad_input_gets_a_problem_naming_the_field,
    a_pipeline_opens_a_request_once_per_idempotency_key,
    a_self_deploying_request_passes_the_gate_and_follows_its_deploy_stage,
    every_answer_follows_the_openapi_document,
    random_api_input_never_gets_a_server_error,
);

/// PostgreSQL drops the connection the gate's records are written on (a restart, a failover, an
/// administrator): the next gate call is still answered and recorded, on a new connection.
#[tokio::test]
async fn the_gate_records_on_a_new_connection_when_postgres_drops_its_own() {
    let Some(app) = spawn_app(Kind::Postgres).await else {
        return;
    };
    let secret = token(&app, &["gate:read"], &["*"]).await;
    let ask = json!({ "application": "banking", "environment": "staging", "version": "2.4.0" });
    gate(&app, &secret, ask.clone()).await;
    const RECORDS_BACKEND: &str = "from pg_stat_activity \
        where application_name = 'runway gate records' and datname = current_database()";
    let dropped: Vec<bool> = sqlx::query_scalar(&format!(
        "select pg_terminate_backend(pid) {RECORDS_BACKEND}"
    ))
    .fetch_all(&app.state.db.pool)
    .await
    .expect("terminated");
    assert_eq!(dropped, [true], "one records connection, dropped");
    let records_connections = || async {
        sqlx::query_scalar::<_, i64>(&format!("select count(*) {RECORDS_BACKEND}"))
            .fetch_one(&app.state.db.pool)
            .await
            .expect("counted")
    };
    // Gone from the server before the next call, so that the call meets a dead connection.
    let mut left = records_connections().await;
    for _ in 0..100 {
        if left == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        left = records_connections().await;
    }
    assert_eq!(left, 0, "the records' backend is gone");
    let answer = gate(&app, &secret, ask).await;
    assert_eq!(answer["decision"], "deny", "{answer}");
    assert_eq!(records_connections().await, 1, "a new records connection");
    let recorded: i64 = sqlx::query_scalar("select count(*) from gate_checks")
        .fetch_one(&app.state.db.pool)
        .await
        .expect("counted");
    assert_eq!(recorded, 2);
}
