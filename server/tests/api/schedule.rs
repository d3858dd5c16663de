//! When deployments may run: recurring blackouts and windows on days of the month, on both
//! databases.

use crate::dispatch::{held, submit, submit_raw, until_state, WORKER};
use crate::helpers::*;
use server::db::dispatch::runs;

async fn a_recurring_blackout_holds_the_deployment_until_its_days_end(kind: Kind) {
    let Some(db) = TestDb::new(kind).await else {
        return;
    };
    // Today and tomorrow by their day of the month: whenever the test runs (even across
    // midnight), the blackout lasts until the end of tomorrow, UTC.
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date();
    let tomorrow = today.tomorrow().expect("tomorrow");
    let end = tomorrow.tomorrow().expect("day after");
    let catalog = catalog_with(
        &db,
        &format!(
            "[[freezes]]\nid = \"closing\"\nreason = \"Month-end closing\"\ntimezone = \"UTC\"\n\
             days = [\"day {}\", \"day {}\"]\nfrom = \"00:00\"\nto = \"24:00\"\n\
             applications = [\"storefront\"]\nenvironments = [\"staging\"]\n",
            today.day(),
            tomorrow.day()
        ),
    );
    let app = start(db, catalog, WORKER).await;
    let html = held(&app).await;
    let until = format!("waiting for window until {end} 00:00 UTC (freeze: Month-end closing)");
    assert!(html.contains(&until), "the page says what it waits for");

    // The catalog says when the blackout recurs, and the environment's page warns of it.
    let page = app.get_html("/catalog").await;
    let every = format!(
        "Every day {}, day {} all day UTC: Month-end closing",
        today.day(),
        tomorrow.day()
    );
    assert!(page.contains(&every), "the catalog shows the blackout");

    // Banking is not blacked out: its staging request deploys.
    let other = submit(&app, "ada", "banking", "staging", "2.4.0").await;
    crate::requests::approve(&app, "ben", other)
        .await
        .expect("ben");
    crate::dispatch::until_state(&app, other, "succeeded").await;
}

async fn a_window_on_days_of_the_month_holds_until_its_next_day(kind: Kind) {
    let Some(db) = TestDb::new(kind).await else {
        return;
    };
    // Storefront staging may deploy only in the first minute of a month's first Monday: the
    // next one after today (today's is over, but in its first minute).
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date();
    let next = (1..400)
        .filter_map(|d| today.checked_add(jiff::Span::new().days(d)).ok())
        .find(|d| d.nth_weekday_of_month(1, jiff::civil::Weekday::Monday).ok() == Some(*d))
        .expect("a first Monday");
    let catalog = catalog_with(
        &db,
        "[[windows]]\nid = \"first-monday\"\nname = \"First Monday\"\ntimezone = \"UTC\"\n\
         days = [\"first mon\"]\nfrom = \"00:00\"\nto = \"00:01\"\n",
    );
    // The demo's storefront staging policy names no window; give it this one.
    let text = std::fs::read_to_string(&catalog)
        .expect("catalog")
        .replacen(
            "policy = { requesters = [\"web\"] }",
            "policy = { requesters = [\"web\"], windows = [\"first-monday\"] }",
            1,
        );
    std::fs::write(&catalog, &text).expect("write");
    let app = start(db, catalog, WORKER).await;
    let html = held(&app).await;
    let until = format!("waiting for window until {next} 00:00 UTC (outside First Monday)");
    assert!(
        html.contains(&until),
        "the page says what it waits for: {until}"
    );
}

async fn one_target_deploys_one_request_at_a_time_and_the_next_says_what_it_waits_for(kind: Kind) {
    let Some(db) = TestDb::new(kind).await else {
        return;
    };
    // Each Storefront staging deployment takes two seconds or so.
    let catalog = test_catalog(&db);
    let text = std::fs::read_to_string(&catalog).expect("catalog");
    std::fs::write(
        &catalog,
        text.replace("DEMO_PAUSE = \"0\"", "DEMO_PAUSE = \"1\""),
    )
    .expect("write");
    let app = start(db, catalog, WORKER).await;
    // Both approved when opened (no approval stage), both due at once.
    let ids = [
        submit(&app, "wes", "storefront", "staging", "5.0.1").await,
        submit(&app, "wes", "storefront", "staging", "5.0.2").await,
    ];
    for id in ids {
        until_state(&app, id, "succeeded").await;
    }
    let mut deploys = Vec::new();
    for id in ids {
        let run = runs(&app.state.db.pool, id)
            .await
            .expect("runs")
            .into_iter()
            .find(|r| r.step == "deploy")
            .expect("a deploy run");
        deploys.push((run.started_at, run.finished_at.expect("finished"), id, run));
    }
    deploys.sort_by_key(|d| d.0);
    let (first, second) = (&deploys[0], &deploys[1]);
    assert!(
        second.0 >= first.1,
        "the second deployment started only once the first had finished: {:?} then {:?}",
        first.3,
        second.3
    );
    let version = if first.2 == ids[0] { "5.0.1" } else { "5.0.2" };
    app.login_as("wes").await;
    let page = app.get_html(&format!("/requests/{}", second.2)).await;
    let waited = format!(
        "Deployment waiting for request #{} ({version}) to finish deploying",
        first.2
    );
    assert!(
        page.contains(&waited),
        "its timeline says what it waited for: {waited}"
    );
}

async fn a_scheduled_deployment_waits_for_its_time_then_deploys(kind: Kind) {
    let Some(app) = spawn_app_with(kind, WORKER).await else {
        return;
    };
    // Approved when opened (Storefront staging needs no approval), set for a whole second four
    // or five seconds on.
    let at = jiff::Timestamp::from_second(jiff::Timestamp::now().as_second() + 5).expect("time");
    let raw = server::domain::request::RawDraft {
        fields: Default::default(),
        scheduled_local: at.strftime("%Y-%m-%dT%H:%M:%S").to_string(),
        timezone: "UTC".into(),
        ..crate::requests::draft("5.1.0")
    };
    let id = submit_raw(&app, "wes", "storefront", "staging", &raw)
        .await
        .expect("submitted");
    assert_eq!(crate::requests::state(&app, id).await, "scheduled");
    // A second before its time, nothing has started.
    let early = at - jiff::SignedDuration::from_secs(1);
    let wait = early.duration_since(jiff::Timestamp::now());
    tokio::time::sleep(wait.unsigned_abs()).await;
    assert_eq!(crate::requests::state(&app, id).await, "scheduled");
    assert!(runs(&app.state.db.pool, id).await.expect("runs").is_empty());
    // Then it deploys by itself, not before its time.
    until_state(&app, id, "succeeded").await;
    let runs = runs(&app.state.db.pool, id).await.expect("runs");
    assert!(
        runs.iter().all(|r| r.started_at >= at.as_millisecond()),
        "{runs:?}"
    );
}

crate::on_both_databases!(
    a_scheduled_deployment_waits_for_its_time_then_deploys,
    one_target_deploys_one_request_at_a_time_and_the_next_says_what_it_waits_for,
    a_recurring_blackout_holds_the_deployment_until_its_days_end,
    a_window_on_days_of_the_month_holds_until_its_next_day,
);
