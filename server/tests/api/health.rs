use crate::helpers::{spawn_app, Kind};

async fn health_and_readiness_answer_once_migrated(kind: Kind) {
    let Some(app) = spawn_app(kind).await else { return };
    let alive = app.get("/healthz").await;
    assert_eq!(alive.status(), 200);
    assert!(alive.headers().contains_key("x-request-id"), "every answer carries a request id");
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.text().await.expect("body"), "ready");
}

crate::on_both_databases!(health_and_readiness_answer_once_migrated);
