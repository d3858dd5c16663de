//! Who is told what: the inbox, and mail through a real SMTP server (aiosmtpd from the test venv,
//! `make buildbot`) started by each test on loopback; messages read back from its Maildir.

use crate::buildbot::{free_port, venv};
use crate::helpers::*;
use crate::requests::{ada_submits_banking, approve, draft, revision};
use server::db::notifications as n;
use server::service::requests::{self, Verdict};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// An SMTP server keeping every message in a Maildir; killed when dropped.
struct Smtp {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
}

impl Smtp {
    /// Starts on `port`, waiting until it accepts connections.
    fn start(port: u16) -> Option<Smtp> {
        let bin = venv()?;
        let dir = tempfile::tempdir().expect("maildir");
        let child = Command::new(bin.join("python"))
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(dir.path().join("box"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "aiosmtpd did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(Smtp { child, dir, port })
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, headers unfolded and quoted-printable undone.
    fn messages(&self) -> Vec<String> {
        let new: PathBuf = self.dir.path().join("box").join("new");
        let Ok(entries) = std::fs::read_dir(new) else {
            return Vec::new();
        };
        entries
            .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
            .map(|m| {
                m.replace("\r\n", "\n")
                    .replace("\n ", " ")
                    .replace("=\n", "")
                    .replace("=3D", "=")
            })
            .collect()
    }

    /// Waits until `count` messages are in, and returns them.
    async fn wait_for(&self, count: usize) -> Vec<String> {
        let started = Instant::now();
        loop {
            let got = self.messages();
            if got.len() >= count {
                return got;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "waited 30 s for {count} messages, got {}: {got:#?}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `check` until it holds, failing the test after `limit`.
async fn eventually<F, Fut>(what: &str, limit: Duration, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(
            started.elapsed() < limit,
            "{what}: not within {} s",
            limit.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn to(message: &str) -> &str {
    header(message, "To")
}

fn header<'a>(message: &'a str, name: &str) -> &'a str {
    message
        .lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or_default()
}

async fn unread(app: &TestApp, who: &str) -> i64 {
    app.notices_told().await;
    let user = app.user(who).await;
    n::unread(&app.state.db, user.id).await.expect("unread")
}

async fn approvers_are_told_in_their_inbox_and_by_mail(kind: Kind) {
    let Some(smtp) = Smtp::start(free_port()) else {
        return;
    };
    let Some(app) = spawn_app_with(kind, &[("RUNWAY_SMTP_URL", &smtp.url())]).await else {
        return;
    };
    let id = ada_submits_banking(&app).await;
    let mail = smtp.wait_for(1).await;
    assert_eq!(to(&mail[0]), "ben@runway.example");
    assert_eq!(
        header(&mail[0], "Subject"),
        "Approval needed: Banking 2.4.0 to Production, from Ada Lovelace"
    );
    assert!(mail[0].contains("Content-Type: text/plain"), "{}", mail[0]);
    assert!(mail[0].contains("Content-Type: text/html"), "{}", mail[0]);
    assert!(
        mail[0].contains(&format!("{}/requests/{id}", app.state.settings.public_url)),
        "the link to the request: {}",
        mail[0]
    );
    assert!(header(&mail[0], "Message-ID").starts_with("<runway.mail."));
    assert_eq!(unread(&app, "ben").await, 1);
    for nobody in ["ada", "cleo", "dev", "olga"] {
        assert_eq!(unread(&app, nobody).await, 0, "{nobody} is not asked yet");
    }

    // Stage 1 done: the CAB is asked, the owner who approved is not told again.
    approve(&app, "ben", id).await.expect("ben approves");
    let mail = smtp.wait_for(3).await;
    let mut told: Vec<&str> = mail.iter().map(|m| to(m)).collect();
    told.sort_unstable();
    assert_eq!(
        told,
        [
            "ben@runway.example",
            "cleo@runway.example",
            "dev@runway.example"
        ]
    );
    assert_eq!(
        (unread(&app, "cleo").await, unread(&app, "ben").await),
        (1, 1)
    );

    // A rejection reaches the requester with its comment.
    let cleo = app.user("cleo").await;
    let rev = revision(&app, id).await;
    let catalog = app.state.catalog.current();
    requests::decide(
        &app.state.db,
        &catalog.catalog,
        &cleo,
        id,
        rev,
        Verdict::Reject,
        "Not during the <quarter> close",
    )
    .await
    .expect("rejected");
    let mail = smtp.wait_for(4).await;
    let to_ada = mail
        .iter()
        .find(|m| to(m) == "ada@runway.example")
        .expect("Ada is told");
    assert_eq!(
        header(to_ada, "Subject"),
        "Rejected: Banking 2.4.0 to Production"
    );
    assert!(
        to_ada.contains("Not during the <quarter> close"),
        "text part, as typed"
    );
    assert!(
        to_ada.contains("Not during the &#60;quarter&#62; close")
            || to_ada.contains("&lt;quarter&gt;"),
        "html part, escaped: {to_ada}"
    );
    assert_eq!(unread(&app, "ada").await, 1);
}

/// A stage of a hundred approvers is told a few dozen people per transaction, each person once,
/// each with their mail.
async fn a_large_stage_is_told_everyone_once(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    for i in 0..100 {
        let name = format!("owner{i}");
        server::db::users::create(
            &app.state.db,
            &name,
            &format!("Owner {i}"),
            "x",
            false,
            &["banking-owners".to_owned()],
        )
        .await
        .expect("owner");
        server::db::users::set_email(&app.state.db, &name, &format!("{name}@bank.example"))
            .await
            .expect("address");
    }
    let id = ada_submits_banking(&app).await;
    app.notices_told().await;
    let (told, people, mailed): (i64, i64, i64) = sqlx::query_as(
        "select count(*), count(distinct n.user_id), \
         (select count(*) from mail_outbox m where m.request_id = $1) \
         from notifications n where n.request_id = $1 and n.kind = 'approval_needed'",
    )
    .bind(id)
    .fetch_one(&app.state.db.pool)
    .await
    .expect("count");
    // Ben and the hundred.
    assert_eq!((told, people, mailed), (101, 101, 101));
}

/// While the SMTP server is down, mail waits and is tried again; what came meanwhile for one
/// address and one request goes as one message once it is up.
async fn mail_waits_for_a_server_that_is_down_then_goes_once(kind: Kind) {
    let port = free_port();
    let url = format!("smtp://127.0.0.1:{port}");
    let Some(app) = spawn_app_with(kind, &[("RUNWAY_SMTP_URL", &url)]).await else {
        return;
    };
    let id = ada_submits_banking(&app).await;
    app.notices_told().await;
    // Ben approves, then Ada changes the version: his approval is voided and stage 1 asks him
    // again, so two notices for him wait.
    approve(&app, "ben", id).await.expect("ben approves");
    let ada = app.user("ada").await;
    let rev = revision(&app, id).await;
    let changed = draft("2.4.1");
    requests::edit(
        &app.state.db,
        &app.state.catalog.current(),
        &ada,
        id,
        rev,
        &changed,
    )
    .await
    .expect("edited: approvals voided, stage 1 asked again");
    eventually(
        "a failed attempt recorded",
        Duration::from_secs(20),
        || async {
            let rows = server::db::mail::outbox(&app.state.db, 50)
                .await
                .expect("outbox");
            rows.iter().any(|r| {
                r.address == "ben@runway.example" && r.attempts >= 1 && !r.last_error.is_empty()
            })
        },
    )
    .await;
    app.notices_told().await;
    let queued_for_ben = server::db::mail::outbox(&app.state.db, 50)
        .await
        .expect("outbox")
        .into_iter()
        .filter(|r| r.address == "ben@runway.example" && r.state == "queued")
        .count();
    assert!(queued_for_ben >= 2, "both notices wait: {queued_for_ben}");

    let smtp = Smtp::start(port).expect("aiosmtpd");
    eventually(
        "the waiting mail delivered",
        Duration::from_secs(40),
        || async {
            smtp.messages()
                .iter()
                .any(|m| to(m) == "ben@runway.example")
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let to_ben: Vec<String> = smtp
        .messages()
        .into_iter()
        .filter(|m| to(m) == "ben@runway.example")
        .collect();
    assert_eq!(to_ben.len(), 1, "folded into one message: {to_ben:#?}");
    assert!(
        header(&to_ben[0], "Subject").contains("(and "),
        "{}",
        to_ben[0]
    );
    let failed = server::db::mail::outbox(&app.state.db, 50)
        .await
        .expect("outbox")
        .into_iter()
        .filter(|r| r.address == "ben@runway.example" && r.state != "sent")
        .count();
    assert_eq!(failed, 0, "everything for Ben went");
}

/// Without an SMTP server, each message is a file in the data folder's `mail/`.
async fn without_smtp_mail_is_written_as_files(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    ada_submits_banking(&app).await;
    let folder = app.db.dir.path().join("mail");
    eventually("an .eml file", Duration::from_secs(20), || async {
        std::fs::read_dir(&folder)
            .map(|d| {
                d.filter_map(Result::ok)
                    .any(|e| e.path().extension().is_some_and(|x| x == "eml"))
            })
            .unwrap_or(false)
    })
    .await;
    // Administrators see the outbox; nobody else does.
    app.login_as("root").await;
    let page = app.get_html("/admin/mail").await;
    assert!(page.contains("ben@runway.example"), "{page}");
    assert!(page.contains("written as an .eml file"), "{page}");
    assert!(page.contains(">sent<"), "{page}");
    app.logout().await;
    app.login_as("ada").await;
    let resp = app.get("/admin/mail").await;
    assert_eq!(resp.status(), 403);
    let page = resp.text().await.expect("body");
    assert!(
        page.contains("Only administrators see the mail outbox."),
        "{page}"
    );
    assert!(!page.contains("ben@runway.example"), "{page}");
}

/// The inbox page lists what Ben was told, the bell counts it, and marking read clears it; his
/// open pages hear of a new notification at once (an event with data: browsers drop one without).
async fn the_inbox_lists_and_marks_read(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let ben = app.client_of("ben").await;
    let mut stream = ben.get(app.url("/events")).send().await.expect("events");
    let id = ada_submits_banking(&app).await;
    heard_until(&mut stream, "event: inbox\ndata: ").await;
    // The requester finds her request again from her home page.
    app.login_as("ada").await;
    let home = app.get_html("/").await;
    assert!(home.contains("data-testid=\"my-requests\""), "{home}");
    assert!(home.contains(&format!("href=\"/requests/{id}\"")), "{home}");
    app.logout().await;
    app.login_as("ben").await;
    let home = app.get_html("/").await;
    assert!(
        !home.contains("data-testid=\"my-requests\""),
        "Ben asked for nothing: {home}"
    );
    let page = app.get_html("/inbox").await;
    assert!(
        page.contains("Approval needed: Banking 2.4.0 to Production, from Ada Lovelace"),
        "{page}"
    );
    assert!(page.contains(&format!("href=\"/requests/{id}\"")), "{page}");
    assert!(
        page.contains("data-testid=\"unread-count\""),
        "the bell counts: {page}"
    );
    let resp = app.post_form("/inbox/read", "").await;
    assert_eq!(location(&resp), "/inbox");
    assert_eq!(unread(&app, "ben").await, 0);
    let page = app.get_html("/inbox").await;
    assert!(page.contains("1 notification marked read."), "{page}");
    assert!(!page.contains("data-testid=\"unread-count\""), "{page}");
    // Someone else's notification cannot be marked through Ben.
    let resp = app.post_form("/inbox/read", "id=999999").await;
    assert_eq!(resp.status(), 404);
}

/// A malformed address is refused under its field and nothing is saved; a good one is kept,
/// with the kinds chosen.
async fn the_profile_checks_the_address_and_keeps_the_choices(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    app.login_as("ada").await;
    let resp = app
        .post_form(
            "/profile",
            "email=ada%40&time_zone=Mars%2FOlympus&mail_deployed=on",
        )
        .await;
    assert_eq!(location(&resp), "/profile");
    let page = app.get_html("/profile").await;
    assert!(page.contains("id=\"email-error\""), "{page}");
    assert!(page.contains("is not an email address"), "{page}");
    assert!(page.contains("id=\"time_zone-error\""), "{page}");
    assert!(
        page.contains("value=\"ada@\""),
        "what was typed stays: {page}"
    );
    let ada = app.user("ada").await;
    let saved = server::db::users::profile(&app.state.db, ada.id)
        .await
        .expect("profile");
    assert_eq!(saved.email, "ada@runway.example", "unchanged");

    let resp = app
        .post_form(
            "/profile",
            "email=ada.l%40bank.example&time_zone=Europe%2FParis&mail_deployed=on&mail_approval_needed=on",
        )
        .await;
    assert_eq!(location(&resp), "/profile");
    let saved = server::db::users::profile(&app.state.db, ada.id)
        .await
        .expect("profile");
    assert_eq!(
        (saved.email.as_str(), saved.time_zone.as_str()),
        ("ada.l@bank.example", "Europe/Paris")
    );
    use server::domain::notice::{mailed, Kind as K};
    assert!(mailed(K::Deployed, &saved.mail_prefs));
    assert!(!mailed(K::Rejected, &saved.mail_prefs), "unticked");
    let page = app.get_html("/profile").await;
    assert!(page.contains("Profile saved."), "{page}");
}

/// A portal killed (SIGKILL) after the SMTP server took a message and before it recorded it as
/// sent sends it again once restarted, with the same `Message-ID` (mail clients fold the copy),
/// and nothing else twice.
async fn a_crash_between_sending_and_recording_resends_one_message_with_its_id(kind: Kind) {
    let port = free_port();
    let Some(smtp) = Smtp::start(port) else {
        return;
    };
    // Mail is queued while no server answers, then the portal runs as a process of its own.
    let dead = format!("smtp://127.0.0.1:{}", free_port());
    let Some(app) = spawn_app_with(kind, &[("RUNWAY_SMTP_URL", &dead)]).await else {
        return;
    };
    ada_submits_banking(&app).await;
    app.notices_told().await;
    let (db, catalog) = app.stop().await;
    let pool = server::db::Db::connect(&db.url, 2).await.expect("db");
    let release = || async {
        sqlx::query("update mail_outbox set due_at = 0, lease_until = null where state = 'queued'")
            .execute(&pool.pool)
            .await
            .expect("due now");
    };
    release().await;
    let url = smtp.url();
    let settings = [("RUNWAY_SMTP_URL", url.as_str())];
    let mut child = portal_process_with(&db, &catalog, Some("mail_sent"), &settings);
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the portal did not reach mail_sent"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let first = smtp.wait_for(1).await;
    let queued = server::db::mail::outbox(&pool, 10).await.expect("outbox");
    assert!(
        queued.iter().all(|r| r.state == "queued"),
        "killed before recording: {queued:#?}"
    );
    // The crashed worker's lease would run out within two minutes; end it now.
    release().await;
    let mut child = portal_process_with(&db, &catalog, None, &settings);
    eventually(
        "the message recorded as sent",
        Duration::from_secs(30),
        || async {
            server::db::mail::outbox(&pool, 10)
                .await
                .expect("outbox")
                .iter()
                .all(|r| r.state == "sent")
        },
    )
    .await;
    let _ = child.kill();
    let _ = child.wait();
    let all = smtp.messages();
    assert_eq!(all.len(), 2, "sent again once: {all:#?}");
    assert_eq!(
        header(&all[0], "Message-ID"),
        header(&all[1], "Message-ID"),
        "the same id, for mail clients to fold"
    );
    assert_eq!(header(&first[0], "To"), "ben@runway.example");
    pool.pool.close().await;
}

crate::on_both_databases!(
    a_crash_between_sending_and_recording_resends_one_message_with_its_id,
    approvers_are_told_in_their_inbox_and_by_mail,
    a_large_stage_is_told_everyone_once,
    mail_waits_for_a_server_that_is_down_then_goes_once,
    without_smtp_mail_is_written_as_files,
    the_inbox_lists_and_marks_read,
    the_profile_checks_the_address_and_keeps_the_choices,
);
