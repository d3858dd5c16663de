use crate::helpers::*;
use server::startup::Application;

async fn count_versions(db: &TestDb) -> i64 {
    let conn = server::db::Db::connect(&db.url, 1).await.expect("connect");
    sqlx::query_scalar("select count(*) from catalog_versions")
        .fetch_one(&conn.pool)
        .await
        .expect("count")
}

async fn nothing_written(db: &TestDb, kind: Kind) -> bool {
    match kind {
        Kind::Sqlite => !db.dir.path().join("runway.db").exists(),
        Kind::Postgres => {
            let conn = server::db::Db::connect(&db.url, 1).await.expect("connect");
            let tables: i64 = sqlx::query_scalar(
                "select count(*) from information_schema.tables where table_schema = 'public'",
            )
            .fetch_one(&conn.pool)
            .await
            .expect("count");
            tables == 0
        }
    }
}

async fn each_applied_version_is_stored_once_with_its_checksum(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let (db, catalog) = app.stop().await;
    assert_eq!(count_versions(&db).await, 1);
    let again = start(db, catalog, &[]).await;
    let (db, catalog) = again.stop().await;
    assert_eq!(
        count_versions(&db).await,
        1,
        "the same file is not stored twice"
    );
    let text = std::fs::read_to_string(&catalog).expect("read");
    std::fs::write(&catalog, text.replace("Change advisory board.", "The CAB.")).expect("write");
    let changed = start(db, catalog, &[]).await;
    let (db, _) = changed.stop().await;
    assert_eq!(count_versions(&db).await, 2);
}

async fn a_bad_catalog_stops_start_up_with_file_and_line(kind: Kind) {
    let Some(db) = TestDb::new(kind).await else {
        return;
    };
    let catalog = db.dir.path().join("bad.toml");
    let text = std::fs::read_to_string(demo_catalog()).expect("read");
    std::fs::write(
        &catalog,
        text.replace("owner = \"web\"", "owner = \"webb\""),
    )
    .expect("write");
    let err = Application::build(settings(&db, &catalog, &[]))
        .await
        .err()
        .expect("must fail");
    let message = format!("{err:#}");
    assert!(message.contains("bad.toml:"), "{message}");
    assert!(
        message.contains("applications[1].owner: unknown team \"webb\""),
        "{message}"
    );
    assert!(
        nothing_written(&db, kind).await,
        "a bad catalog writes nothing"
    );
}

crate::on_both_databases!(
    each_applied_version_is_stored_once_with_its_checksum,
    a_bad_catalog_stops_start_up_with_file_and_line,
);

#[tokio::test]
async fn an_unreachable_database_is_named_without_its_password() {
    let db = TestDb::new(Kind::Sqlite).await.expect("sqlite");
    let settings = settings(
        &db,
        &demo_catalog(),
        &[(
            "RUNWAY_DATABASE_URL",
            "postgres://runway:hunter2@127.0.0.1:1/runway",
        )],
    );
    let err = Application::build(settings).await.err().expect("must fail");
    let message = format!("{err:#}");
    assert!(
        message
            .contains("cannot connect to the database at postgres://runway:***@127.0.0.1:1/runway"),
        "{message}"
    );
    assert!(!message.contains("hunter2"));
}
