//! Notifications under load, on SQLite and on PostgreSQL:
//! - submitting a Banking production request whose first stage has 2 eligible approvers, then
//!   200, with the fan-out worker running beside it as it does in the portal (the submit writes
//!   one notice; the worker writes the inbox entries and the mail for each): the submit's p50 and
//!   p99 side by side, and how long the worker still needed after the last submit;
//! - the mail outbox delivered by one worker to a local SMTP server (aiosmtpd from the test venv,
//!   `make buildbot`): messages per second.
//!
//! `cargo run --release -p server --example notify_load [-- --submits N --messages M]`

mod common;

use server::notify::transport::Transport;
use server::notify::worker::{deliver_due, Mailer};
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (mut submits, mut messages) = (200, 2000);
    for (name, value) in common::numbers() {
        match name.as_str() {
            "--submits" => submits = value,
            "--messages" => messages = value,
            other => anyhow::bail!("unknown option {other}"),
        }
    }
    let dir = tempfile::tempdir()?;
    for db in common::databases().await? {
        let outcome = run(db.label, &db.url, dir.path(), submits, messages).await;
        db.cleanup().await?;
        outcome?;
    }
    Ok(())
}

async fn run(
    label: &str,
    url: &str,
    dir: &std::path::Path,
    submits: usize,
    messages: usize,
) -> anyhow::Result<()> {
    let app = common::portal(url, dir).await?;
    let state = app.state().clone();
    let db = &state.db;
    let (ada_id, _) = server::db::users::password_hash(db, "ada")
        .await?
        .ok_or_else(|| anyhow::anyhow!("no demo user ada"))?;
    let ada = server::db::users::by_id(db, ada_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no demo user ada"))?;
    // Ben and one more owner: a first stage of two.
    let fanout = tokio::spawn(server::notify::fanout::run(state.clone()));
    add_owners(db, 1, 1).await?;
    let two = submit_times(&state, &ada, submits).await?;
    add_owners(db, 2, 198).await?;
    let many = submit_times(&state, &ada, submits).await?;
    let last_submit = Instant::now();
    while server::db::pending_notices::count(&db.pool).await? > 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    fanout.abort();
    let told: i64 = sqlx::query_scalar("select count(*) from notifications")
        .fetch_one(&db.pool)
        .await?;
    println!(
        "BENCH fanout_done_after_last_submit_{label} {:.0} ms ({told} notifications in all)",
        last_submit.elapsed().as_secs_f64() * 1000.0
    );
    for (name, times) in [("2", two), ("200", many)] {
        println!(
            "BENCH submit_p50_{label}_{name}_approvers {:.1} ms",
            pct(&times, 0.5)
        );
        println!(
            "BENCH submit_p99_{label}_{name}_approvers {:.1} ms",
            pct(&times, 0.99)
        );
    }

    // The outbox now holds a message per approver and request: one worker sends `messages`.
    let Some(smtp) = Smtp::start() else {
        println!("# {label}: no aiosmtpd in .tools/buildbot (make buildbot): outbox throughput not measured");
        return Ok(());
    };
    let mut settings = state.settings.as_ref().clone();
    settings.smtp_url = Some(format!("smtp://127.0.0.1:{}", smtp.port));
    let mailer = Mailer {
        transport: Transport::from_settings(&settings)?,
        from: settings.mail_from.clone(),
        public_url: settings.public_url.clone(),
    };
    let catalog = state.catalog.current();
    let started = Instant::now();
    let mut sent = 0;
    while sent < messages {
        let n = deliver_due(db, &catalog.catalog, &mailer).await?;
        anyhow::ensure!(n > 0, "the outbox ran dry after {sent} messages");
        sent += n;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "BENCH outbox_messages_per_s_{label} {:.0}",
        sent as f64 / secs
    );
    Ok(())
}

/// `count` more members of the Banking owners, numbered from `from`.
async fn add_owners(db: &server::db::Db, from: usize, count: usize) -> anyhow::Result<()> {
    for i in from..from + count {
        let name = format!("owner{i}");
        server::db::users::create(
            db,
            &name,
            &format!("Owner {i}"),
            "x",
            false,
            &["banking-owners".to_owned()],
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        server::db::users::set_email(db, &name, &format!("{name}@bank.example")).await?;
    }
    Ok(())
}

async fn submit_times(
    state: &server::state::AppState,
    ada: &server::db::users::User,
    n: usize,
) -> anyhow::Result<Vec<Duration>> {
    let raw = common::banking_draft("2.4.0", "Notification load");
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t0 = Instant::now();
        server::service::requests::submit(
            &state.db,
            &state.catalog.current(),
            ada,
            "banking",
            "production",
            &raw,
        )
        .await?;
        times.push(t0.elapsed());
    }
    Ok(times)
}

fn pct(times: &[Duration], p: f64) -> f64 {
    let mut sorted = times.to_vec();
    sorted.sort_unstable();
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1000.0
}

/// aiosmtpd on a free port, keeping nothing (its sink handler), killed when dropped.
struct Smtp {
    child: std::process::Child,
    port: u16,
}

impl Smtp {
    fn start() -> Option<Smtp> {
        let python = concat!(env!("CARGO_MANIFEST_DIR"), "/../.tools/buildbot/bin/python");
        if !std::path::Path::new(python).exists() {
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let child = std::process::Command::new(python)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Sink"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok()?;
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if started.elapsed() > Duration::from_secs(20) {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(Smtp { child, port })
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
