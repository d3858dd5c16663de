//! When deployments may run: recurring blackouts and windows on days of the month, on both
//! databases.

use crate::dispatch::{held, submit, WORKER};
use crate::helpers::*;

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

crate::on_both_databases!(
    a_recurring_blackout_holds_the_deployment_until_its_days_end,
    a_window_on_days_of_the_month_holds_until_its_next_day,
);
