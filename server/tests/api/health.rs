use crate::helpers::{spawn_app, Kind, TestDb};

async fn health_and_readiness_answer_once_migrated(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let alive = app.get("/healthz").await;
    assert_eq!(alive.status(), 200);
    assert!(
        alive.headers().contains_key("x-request-id"),
        "every answer carries a request id"
    );
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.text().await.expect("body"), "ready");
}

crate::on_both_databases!(health_and_readiness_answer_once_migrated);

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
