//! The change calendar: weeks and months by address, deployments set for a time, change windows
//! and freezes, filters; on both databases.

use crate::dispatch::submit_raw;
use crate::helpers::*;
use crate::requests::{draft, state};
use server::domain::request::RawDraft;

async fn the_calendar_shows_scheduled_deployments_windows_and_freezes(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    // Monday 3 June 2030, 14:30 in Paris (12:30 UTC): Storefront staging needs no approval.
    let scheduled = RawDraft {
        fields: Default::default(),
        scheduled_local: "2030-06-03T14:30".into(),
        timezone: "Europe/Paris".into(),
        ..draft("5.2.0")
    };
    let id = submit_raw(&app, "wes", "storefront", "staging", &scheduled)
        .await
        .expect("opened");
    assert_eq!(state(&app, id).await, "scheduled");

    app.login_as("wes").await;
    let week = app.get_html("/calendar?week=2030-W23").await;
    assert!(
        week.contains("Change calendar: Week 23, 2030 (3 Jun – 9 Jun)"),
        "the title"
    );
    assert!(
        week.contains(&format!("12:30 #{id} Storefront 5.2.0 → Staging")),
        "the scheduled deployment, in the viewer's zone (UTC)"
    );
    assert!(
        week.contains("week=2030-W22") && week.contains("week=2030-W24"),
        "previous and next"
    );
    assert!(week.contains("month=2030-06"), "the month of the week");
    // Banking production's business hours: Monday to Thursday, 09:00–17:00 in Paris.
    assert!(
        week.contains("Business hours 07:00–15:00"),
        "the window, shaded"
    );
    assert_eq!(week.matches("class=\"window\"").count(), 4, "on four days");

    // The year-end freeze, filtered to Banking; Storefront's request is not shown there.
    let frozen = app
        .get_html("/calendar?week=2026-W52&application=banking")
        .await;
    assert!(
        frozen.contains("Frozen: Year-end closing: no production changes to banking systems. (production) all day"),
        "the freeze"
    );
    let filtered = app
        .get_html("/calendar?week=2030-W23&application=banking")
        .await;
    assert!(
        !filtered.contains(&format!("#{id} ")),
        "other applications are left out"
    );

    // A month, and bad addresses named by field.
    let month = app.get_html("/calendar?month=2030-06").await;
    assert!(month.contains("Change calendar: June 2030"));
    assert_eq!(month.matches("data-date=\"2030-06-").count(), 30);
    let bad = app.get("/calendar?month=2030-13").await;
    assert_eq!(bad.status(), 422);
    let bad = bad.text().await.expect("page");
    assert!(
        bad.contains("is not a month (write e.g. 2026-12)"),
        "the field is named"
    );
}

crate::on_both_databases!(the_calendar_shows_scheduled_deployments_windows_and_freezes,);
