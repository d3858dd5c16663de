//! SQLite's write-ahead log under a steady mixed write load: requests opened, approved and
//! deployed (the dispatch worker running the demo scripts), and pipelines asking the gate, all
//! at once for five minutes. Prints the largest log file seen, how often it was cut back, and
//! what was done, as `BENCH` lines.
//!
//! `cargo run --release -p server --example soak [-- --seconds 300 --gate-clients 8]`

mod common;

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut seconds = 300;
    let mut gate_clients = 8;
    for (name, value) in common::numbers() {
        match name.as_str() {
            "--seconds" => seconds = value,
            "--gate-clients" => gate_clients = value,
            other => anyhow::bail!("unknown option {other}"),
        }
    }
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("runway.db");
    let app = common::portal(&format!("sqlite://{}?mode=rwc", file.display()), dir.path()).await?;
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    let server = tokio::spawn(async move {
        let _ = app.run_until_stopped().await;
    });
    let user = |name: &'static str| {
        let db = state.db.clone();
        async move {
            let (id, _) = server::db::users::password_hash(&db, name)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no demo user {name}"))?;
            server::db::users::by_id(&db, id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no demo user {name}"))
        }
    };
    let ada = user("ada").await?;
    let token = common::token(&state, "soak", &["gate:read"], "ada").await?;
    let client = || {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
    };
    let ben = client()?;
    let login = ben
        .post(format!("{address}/login"))
        .form(&[("username", "ben"), ("password", "runway-demo")])
        .send()
        .await?;
    anyhow::ensure!(login.status() == 303, "login: {}", login.status());

    let until = Instant::now() + Duration::from_secs(seconds as u64);
    let (opened, decided, asked) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let mut work = tokio::task::JoinSet::new();
    // Ada opens requests to Staging, ten a second; Ben approves each as it comes.
    {
        let (state, opened, decided, address) = (
            state.clone(),
            opened.clone(),
            decided.clone(),
            address.clone(),
        );
        work.spawn(async move {
            let mut n = 0u64;
            while Instant::now() < until {
                n += 1;
                let raw = common::banking_draft(&format!("5.{}.{}", n / 1000, n % 1000), "Soak");
                let catalog = state.catalog.current();
                let id = server::service::requests::submit(
                    &state.db, &catalog, &ada, "banking", "staging", &raw,
                )
                .await?;
                opened.fetch_add(1, Relaxed);
                common::approve(&ben, &address, &state.db, id).await?;
                decided.fetch_add(1, Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Ok(())
        });
    }
    // Pipelines asking the gate as fast as it answers.
    for _ in 0..gate_clients {
        let (asked, address, token, http) =
            (asked.clone(), address.clone(), token.clone(), client()?);
        work.spawn(async move {
            let mut n = 0u64;
            while Instant::now() < until {
                n += 1;
                let body = serde_json::json!({
                    "application": "banking", "environment": "staging",
                    "version": format!("5.{}.{}", (n / 1000) % 10, n % 1000),
                });
                let answer = http
                    .post(format!("{address}/api/v1/gate"))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await?;
                anyhow::ensure!(answer.status() == 200, "gate: {}", answer.status());
                asked.fetch_add(1, Relaxed);
            }
            Ok(())
        });
    }
    // The log file, looked at ten times a second.
    let wal = dir.path().join("runway.db-wal");
    let (mut largest, mut cut_back, mut last) = (0u64, 0u64, 0u64);
    while Instant::now() < until {
        let size = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        largest = largest.max(size);
        if size < last {
            cut_back += 1;
        }
        last = size;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    while let Some(done) = work.join_next().await {
        done??;
    }
    let succeeded: i64 =
        sqlx::query_scalar("select count(*) from requests where state = 'succeeded'")
            .fetch_one(&state.db.pool)
            .await?;
    println!(
        "BENCH soak_wal_largest {:.1} MiB",
        largest as f64 / (1024.0 * 1024.0)
    );
    println!("BENCH soak_wal_cut_back {cut_back} times");
    println!(
        "BENCH soak_work {seconds} s: {} opened, {} approved, {succeeded} deployed, {} gate calls",
        opened.load(Relaxed),
        decided.load(Relaxed),
        asked.load(Relaxed)
    );
    server.abort();
    Ok(())
}
