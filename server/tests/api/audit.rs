//! The audit trail's hash chain: `runway audit verify` finds an event changed, removed or
//! inserted behind the portal's back and names it; trails written before the chain existed are
//! chained at start.

use crate::cli::{runway, text};
use crate::helpers::*;
use crate::requests::{ada_submits_banking, approve};

/// `runway audit verify` on the app's database: whether it passed, and what it said.
fn verify(app: &TestApp) -> (bool, String) {
    let out = runway(
        &["audit", "verify"],
        &[("RUNWAY_DATABASE_URL", app.db.url.as_str())],
        "",
    );
    (out.status.success(), text(&out))
}

/// The events of request `id`, in the order written.
async fn event_ids(app: &TestApp, id: i64) -> Vec<i64> {
    sqlx::query_scalar(
        "select event_id from request_events where request_id = $1 order by event_id",
    )
    .bind(id)
    .fetch_all(&app.state.db.pool)
    .await
    .expect("events")
}

async fn run(app: &TestApp, sql: &str, bind: i64) {
    sqlx::query(sql)
        .bind(bind)
        .execute(&app.state.db.pool)
        .await
        .expect(sql);
}

async fn verify_names_what_was_changed_removed_or_inserted(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    // Three requests, each with a trail of several events.
    let mut ids = Vec::new();
    for _ in 0..3 {
        let id = ada_submits_banking(&app).await;
        approve(&app, "ben", id).await.expect("ben approves");
        approve(&app, "cleo", id).await.expect("cleo approves");
        ids.push(id);
    }
    let (ok, said) = verify(&app);
    assert!(ok, "{said}");
    assert!(said.contains("The audit trail is intact"), "{said}");

    // Behind the portal's back: a payload rewritten, an event deleted, an event inserted.
    let (changed, removed, grown) = (ids[0], ids[1], ids[2]);
    let changed_events = event_ids(&app, changed).await;
    run(
        &app,
        "update request_events set payload = '{\"comment\":\"all fine\"}' where event_id = $1",
        changed_events[1],
    )
    .await;
    let removed_events = event_ids(&app, removed).await;
    run(
        &app,
        "delete from request_events where event_id = $1",
        removed_events[1],
    )
    .await;
    run(
        &app,
        "insert into request_events (request_id, actor_id, kind, payload, at) \
         values ($1, 1, 'approved', '{}', 0)",
        grown,
    )
    .await;
    let inserted = *event_ids(&app, grown).await.last().expect("an event");

    let (ok, said) = verify(&app);
    assert!(!ok, "{said}");
    for line in [
        format!("request #{changed}, event {}: changed", changed_events[1]),
        format!(
            "request #{removed}: an event between events {} and {} was removed",
            removed_events[0], removed_events[2]
        ),
        format!("request #{grown}, event {inserted}: inserted"),
    ] {
        assert!(said.contains(&line), "{line} in:\n{said}");
    }
    assert!(said.contains("3 of 3 requests"), "{said}");
}

async fn trails_written_before_the_chain_are_chained_at_start(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let id = ada_submits_banking(&app).await;
    approve(&app, "ben", id).await.expect("ben approves");
    // As an older version left them: no hashes, no head, written before the chain's start.
    let unchain = "update request_events set prev_hash = null, hash = null where request_id = $1";
    let headless = "update requests set audit_head = null where request_id = $1";
    run(&app, unchain, id).await;
    run(&app, headless, id).await;
    let start_at = "update audit_chain_start set chained_upto = \
         (select max(event_id) from request_events where request_id = $1)";
    run(&app, start_at, id).await;
    // A later request whose chain someone removed is not chained again: it is reported.
    let later = ada_submits_banking(&app).await;
    run(&app, unchain, later).await;
    run(&app, headless, later).await;
    let (db, catalog) = app.stop().await;
    let again = start(db, catalog, &[]).await;
    let unchained: i64 =
        sqlx::query_scalar("select count(*) from request_events where hash is null")
            .fetch_one(&again.state.db.pool)
            .await
            .expect("count");
    assert_eq!(
        unchained, 1,
        "only the later request's event is left unchained"
    );
    let (ok, said) = verify(&again);
    assert!(!ok, "{said}");
    assert!(said.contains(&format!("request #{later}, event")), "{said}");
    assert!(!said.contains(&format!("request #{id}")), "{said}");
    assert!(said.contains("1 of 2 requests"), "{said}");
    // And the older request's chain goes on from there.
    approve(&again, "cleo", id).await.expect("cleo approves");
    let (_, said) = verify(&again);
    assert!(!said.contains(&format!("request #{id}")), "{said}");
}

crate::on_both_databases!(
    verify_names_what_was_changed_removed_or_inserted,
    trails_written_before_the_chain_are_chained_at_start,
);
