//! The daily digest: a person who asks for it gets no single mails, then one message at 08:00
//! in their zone listing what they were told.

use crate::helpers::*;
use crate::requests::{approve, decide, draft, submit};
use server::notify::digest::send_due;
use server::notify::transport::Transport;
use server::notify::worker::Mailer;
use server::service::requests::Verdict;

fn digests_in(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().contains("digest"))
                .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                .collect()
        })
        .unwrap_or_default()
}

async fn a_digest_replaces_single_mails_and_goes_once_a_day(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    app.login_as("ada").await;
    let resp = app
        .post_form(
            "/profile",
            "email=ada%40runway.example&time_zone=Europe%2FParis&mail_rejected=on&digest=on",
        )
        .await;
    assert_eq!(location(&resp), "/profile");
    let page = app.get_html("/profile").await;
    assert!(page.contains("Profile saved."), "{page}");
    assert!(
        page.contains("name=\"digest\" value=\"on\" checked"),
        "the choice is kept: {page}"
    );

    let folder = tempfile::tempdir().expect("folder");
    let mailer = Mailer {
        transport: Transport::Folder(folder.path().to_owned()),
        from: "Runway <runway@runway.example>".into(),
        public_url: app.state.settings.public_url.clone(),
    };
    let start = server::db::now_ms();
    // First seen asking: nothing is sent, what comes next is gathered.
    assert_eq!(
        send_due(&app.state.db, &mailer, start)
            .await
            .expect("sweep"),
        0
    );

    let ada = app.user("ada").await;
    let id = submit(&app, &ada, "banking", "production", &draft("2.4.0"))
        .await
        .expect("submitted");
    approve(&app, "ben", id).await.expect("ben approves");
    decide(
        &app,
        "cleo",
        id,
        Verdict::Reject,
        "Not during the <quarter> close",
    )
    .await
    .expect("rejected");
    app.notices_told().await;
    let queued_for_ada = server::db::mail::outbox(&app.state.db, 100)
        .await
        .expect("outbox")
        .into_iter()
        .filter(|r| r.address == "ada@runway.example")
        .count();
    assert_eq!(queued_for_ada, 0, "no single mail for Ada");

    // Not yet 08:00 again: nothing. A day later: one digest, and only one.
    assert_eq!(
        send_due(&app.state.db, &mailer, start + 1)
            .await
            .expect("sweep"),
        0
    );
    // A day later (and the minute a digest leaves for commits in flight), but Ada is away
    // then: her digest waits, and catches up the day she is back.
    let day = 24 * 3_600_000;
    let away_day = start + day + 120_000;
    sqlx::query("update users set away_from = $1, away_until = $2 where username = 'ada'")
        .bind(away_day - 3_600_000)
        .bind(away_day + 3_600_000)
        .execute(&app.state.db.pool)
        .await
        .expect("away");
    assert_eq!(
        send_due(&app.state.db, &mailer, away_day)
            .await
            .expect("sweep"),
        0
    );
    let next_day = away_day + day;
    assert_eq!(
        send_due(&app.state.db, &mailer, next_day)
            .await
            .expect("sweep"),
        1
    );
    assert_eq!(
        send_due(&app.state.db, &mailer, next_day)
            .await
            .expect("sweep"),
        0
    );
    let sent = digests_in(folder.path());
    assert_eq!(sent.len(), 1, "{sent:#?}");
    let digest = sent[0]
        .replace("=\r\n", "")
        .replace("\r\n", "\n")
        .replace("=3D", "=");
    assert!(digest.contains("To: ada@runway.example"), "{digest}");
    assert!(
        digest.contains("Subject: Your Runway digest: 1 notification"),
        "{digest}"
    );
    assert!(
        digest.contains("Rejected: Banking 2.4.0 to Production"),
        "{digest}"
    );
    assert!(
        digest.contains("Not during the <quarter> close"),
        "{digest}"
    );
    assert!(digest.contains(&format!("/requests/{id}")), "{digest}");
}

crate::on_both_databases!(a_digest_replaces_single_mails_and_goes_once_a_day);
