use crate::helpers::{spawn_app, Kind, TestDb};

async fn health_and_readiness_answer_once_migrated(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let alive = app.get("/healthz").await;
    assert_eq!(alive.status(), 200);
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.text().await.expect("body"), "ready");
}

#[tokio::test]
async fn sqlite_runs_in_wal_mode_with_a_busy_timeout() {
    let db = TestDb::new(Kind::Sqlite).await.expect("sqlite");
    let pool = server::db::Db::connect(&db.url, 1).await.expect("connect");
    let mode: String = sqlx::query_scalar("pragma journal_mode")
        .fetch_one(&pool.pool)
        .await
        .expect("mode");
    let timeout: i64 = sqlx::query_scalar("pragma busy_timeout")
        .fetch_one(&pool.pool)
        .await
        .expect("timeout");
    assert_eq!(mode, "wal");
    assert_eq!(timeout, 5000);
}

/// SQLite's gate records lose `autoincrement` (migration 0012, to spare a page per commit): the
/// table is built again with every record and its key, and the keys go on rising from the
/// largest, without SQLite's sequence table.
#[tokio::test]
async fn sqlite_keeps_the_gate_records_and_their_keys_when_their_table_is_built_again() {
    let db = TestDb::new(Kind::Sqlite).await.expect("sqlite");
    sqlx::any::install_default_drivers();
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations/sqlite");
    let mut before = sqlx::migrate::Migrator::new(folder)
        .await
        .expect("migrations");
    let earlier: Vec<_> = before.iter().filter(|m| m.version < 12).cloned().collect();
    assert_eq!(earlier.len(), 11, "the migrations before 0012");
    before.migrations = earlier.into();
    let old = sqlx::AnyPool::connect(&db.url).await.expect("connect");
    before.run(&old).await.expect("migrations up to 0011");
    // Every column of each record its own value, so that one copied into another shows.
    for (id, decision) in [(1_i64, "allow"), (2, "deny"), (7, "pending")] {
        sqlx::query(
            "insert into gate_checks (gate_check_id, api_token_id, user_id, application_id, \
             environment_id, version, artifact, actor, pipeline_url, at, dry_run, decision, \
             request_id, rule, reasons, created_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(id)
        .bind(id + 10)
        .bind(id + 20)
        .bind(format!("app{id}"))
        .bind(format!("env{id}"))
        .bind(format!("1.0.{id}"))
        .bind(format!("sha256:{id}"))
        .bind(format!("actor{id}"))
        .bind(format!("https://ci.example.com/{id}"))
        .bind(id + 100)
        .bind(id % 2)
        .bind(decision)
        .bind(id + 30)
        .bind(format!("rule{id}"))
        .bind(format!("[\"reason {id}\"]"))
        .bind(id + 200)
        .execute(&old)
        .await
        .expect("an old record");
    }
    let rows = "select json_array(gate_check_id, api_token_id, user_id, application_id, \
                environment_id, version, artifact, actor, pipeline_url, at, dry_run, decision, \
                request_id, rule, reasons, created_at) from gate_checks order by gate_check_id";
    let records: Vec<String> = sqlx::query_scalar(rows)
        .fetch_all(&old)
        .await
        .expect("old records");
    assert_eq!(records.len(), 3);
    old.close().await;

    let new = server::db::Db::connect(&db.url, 1).await.expect("connect");
    new.migrate().await.expect("every migration");
    let kept: Vec<String> = sqlx::query_scalar(rows)
        .fetch_all(&new.pool)
        .await
        .expect("records");
    assert_eq!(kept, records, "every record, column for column");
    let next: i64 = sqlx::query_scalar(
        "insert into gate_checks (api_token_id, application_id, environment_id, version, at, \
         decision, rule, reasons, created_at) \
         values (1, 'app8', 'env8', '1.0.8', 6, 'deny', 'request', '[]', 6) \
         returning gate_check_id",
    )
    .fetch_one(&new.pool)
    .await
    .expect("a new record");
    assert_eq!(next, 8);
    let sequences: i64 =
        sqlx::query_scalar("select count(*) from sqlite_sequence where name = 'gate_checks'")
            .fetch_one(&new.pool)
            .await
            .expect("sequence table");
    assert_eq!(sequences, 0, "the records keep no sequence");
}

/// Every answer, the API's and the pages', found or not: the security headers, and a request id
/// (the caller's own when it sent one). Paths under `/api/v1` are the API's, answered as JSON
/// problems; a path that only starts with the same letters is a page's.
async fn every_answer_carries_the_security_headers_and_a_request_id(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    for (path, status, problem) in [
        ("/healthz", 200, false),
        ("/login", 200, false),
        ("/api/v1/openapi.json", 200, false),
        ("/api/v1/gate", 405, true),
        ("/api/v1/nothing-here", 404, true),
        ("/api/v1", 404, true),
        ("/api/v1x", 404, false),
    ] {
        let answer = app.get(path).await;
        assert_eq!(answer.status(), status, "GET {path}");
        for (name, value) in [
            ("x-content-type-options", "nosniff"),
            ("x-frame-options", "DENY"),
            ("referrer-policy", "same-origin"),
        ] {
            assert_eq!(header(&answer, name), value, "{name} on {path}");
        }
        assert!(
            !header(&answer, "x-request-id").is_empty(),
            "a request id on {path}"
        );
        let content_type = header(&answer, "content-type");
        assert_eq!(
            content_type == "application/problem+json",
            problem,
            "{path} answered {content_type}"
        );
    }
    let first = app.get("/healthz").await;
    let second = app.get("/healthz").await;
    assert_ne!(
        header(&first, "x-request-id"),
        header(&second, "x-request-id"),
        "each call gets its own request id"
    );
    let traced = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "pipeline-42")
        .send()
        .await
        .expect("GET");
    assert_eq!(
        header(&traced, "x-request-id"),
        "pipeline-42",
        "the caller's request id comes back"
    );
}

/// A header's value as text ("" when absent).
fn header<'a>(answer: &'a reqwest::Response, name: &str) -> &'a str {
    answer
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

crate::on_both_databases!(
    health_and_readiness_answer_once_migrated,
    every_answer_carries_the_security_headers_and_a_request_id
);
