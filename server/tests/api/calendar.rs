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
    // Banking production's business hours: Monday to Thursday, 09:00–17:00 in Paris, named with
    // the environment they open.
    assert!(
        week.contains("Business hours (Banking Production) 07:00–15:00"),
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

async fn a_private_feed_address_serves_the_calendar_until_replaced_or_revoked(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    // Ten days on, at noon UTC.
    let at = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(240);
    let scheduled = RawDraft {
        fields: Default::default(),
        scheduled_local: at.strftime("%Y-%m-%dT12:00").to_string(),
        timezone: "UTC".into(),
        ..draft("5.3.0")
    };
    let id = submit_raw(&app, "wes", "storefront", "staging", &scheduled)
        .await
        .expect("opened");
    app.login_as("wes").await;
    let make = || crate::request_pages::post_form(&app, "/calendar/feed", &[]);
    assert_eq!(make().await.status(), 303);
    let page = app.get_html("/calendar").await;
    let key_of = |page: &str| {
        let start = page
            .find("/calendar.ics?key=")
            .expect("the address, shown once")
            + 18;
        page[start..start + 48].to_owned()
    };
    let key = key_of(&page);
    assert!(
        !app.get_html("/calendar").await.contains(&key),
        "shown once"
    );

    // A calendar application fetches it with no session.
    let app = &app;
    let fetch = |query: String| async move {
        let resp = client()
            .get(app.url(&format!("/calendar.ics?{query}")))
            .send()
            .await
            .expect("feed");
        let status = resp.status().as_u16();
        let kind = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (
            status,
            kind,
            resp.text().await.expect("body").replace("\r\n ", ""),
        )
    };
    let (status, kind, feed) = fetch(format!("key={key}")).await;
    assert_eq!(
        (status, kind.as_str()),
        (200, "text/calendar; charset=utf-8")
    );
    assert!(feed.starts_with("BEGIN:VCALENDAR\r\n"));
    assert!(
        feed.contains(&format!(
            "SUMMARY:#{id} Storefront 5.3.0 → Staging (scheduled)"
        )),
        "{feed}"
    );
    assert!(
        feed.contains(&format!("UID:request-{id}@runway")),
        "a stable identifier"
    );
    let (_, _, banking) = fetch(format!("key={key}&application=banking")).await;
    assert!(!banking.contains(&format!("#{id} ")), "filtered to Banking");

    // Replaced: the old address no longer works, the new one does; revoked: neither.
    assert_eq!(make().await.status(), 303);
    let newer = key_of(&app.get_html("/calendar").await);
    assert_eq!(fetch(format!("key={key}")).await.0, 404);
    assert_eq!(fetch(format!("key={newer}")).await.0, 200);
    let revoke = crate::request_pages::post_form(app, "/calendar/feed/revoke", &[]).await;
    assert_eq!(revoke.status(), 303);
    assert_eq!(fetch(format!("key={newer}")).await.0, 404);
    assert_eq!(fetch("key=".to_owned()).await.0, 404);
}

crate::on_both_databases!(
    the_calendar_shows_scheduled_deployments_windows_and_freezes,
    a_private_feed_address_serves_the_calendar_until_replaced_or_revoked,
);
