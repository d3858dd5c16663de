//! Final approval → CI call: how long after the last approval commits the dispatch worker calls
//! the CI (the `shell` connector running the demo scripts), over 200 requests, on SQLite.
//! Prints `BENCH` lines with the median and the p99.
//!
//! `cargo run --release -p server --example dispatch_latency [-- COUNT]`

mod common;

use server::config::Settings;
use server::startup::Application;
use std::time::Duration;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let count: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(200);
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let dir = tempfile::tempdir()?;
    let catalog = dir.path().join("catalog.toml");
    std::fs::write(
        &catalog,
        std::fs::read_to_string(format!("{root}/catalog/demo.toml"))?
            .replace("\"scripts/demo/", &format!("\"{root}/scripts/demo/"))
            .replace(
                "RUNWAY_SITE = \"{application}-{environment}\"",
                "RUNWAY_SITE = \"{application}-{environment}\", DEMO_PAUSE = \"0\"",
            ),
    )?;
    let settings = Settings::from_vars([
        ("RUNWAY_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        (
            "RUNWAY_DATA_DIR".to_owned(),
            dir.path().display().to_string(),
        ),
        ("RUNWAY_CATALOG".to_owned(), catalog.display().to_string()),
        ("RUNWAY_DEMO".to_owned(), "true".to_owned()),
        ("RUNWAY_LOG".to_owned(), "error".to_owned()),
    ])?;
    let app = Application::build(settings).await?;
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    let server = tokio::spawn(async move {
        let _ = app.run_until_stopped().await;
    });
    let ben = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let login = ben
        .post(format!("{address}/login"))
        .form(&[("username", "ben"), ("password", "runway-demo")])
        .send()
        .await?;
    anyhow::ensure!(login.status() == 303, "login: {}", login.status());
    let (ada_id, _) = server::db::users::password_hash(&state.db, "ada")
        .await?
        .ok_or_else(|| anyhow::anyhow!("no demo user ada"))?;
    let ada = server::db::users::by_id(&state.db, ada_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no demo user ada"))?;
    let raw = common::banking_draft("2.4.0", "Latency probe");
    let mut latencies = Vec::with_capacity(count);
    let mut slowest = Vec::with_capacity(count);
    for _ in 0..count {
        let id = server::service::requests::submit(
            &state.db,
            &state.catalog.current(),
            &ada,
            "banking",
            "staging",
            &raw,
        )
        .await?;
        let asked = std::time::Instant::now();
        common::approve(&ben, &address, &state.db, id).await?;
        let decided_in = asked.elapsed().as_millis();
        let approved: i64 = sqlx::query_scalar(
            "select at from request_events where request_id = $1 and kind = 'approved'",
        )
        .bind(id)
        .fetch_one(&state.db.pool)
        .await?;
        let mut called = None;
        for _ in 0..2000 {
            called = sqlx::query_scalar::<_, i64>(
                "select started_at from ci_runs where request_id = $1 and step = 'provision'",
            )
            .bind(id)
            .fetch_optional(&state.db.pool)
            .await?;
            if called.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let called = called.ok_or_else(|| anyhow::anyhow!("request {id} was never dispatched"))?;
        latencies.push(called - approved);
        slowest.push((called - approved, decided_in));
    }
    // The slowest, beside how long their approval's own post took: a slow approval is the
    // approval's commit, a slow dispatch behind a quick approval is the worker's.
    slowest.sort_unstable_by(|a, b| b.cmp(a));
    let worst: Vec<String> = slowest
        .iter()
        .take(5)
        .map(|(l, d)| format!("{l} ms (approval post {d} ms)"))
        .collect();
    println!("# slowest: {}", worst.join(", "));
    latencies.sort_unstable();
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];
    println!("BENCH dispatch_latency_median {} ms", pct(0.5));
    println!("BENCH dispatch_latency_p99 {} ms", pct(0.99));
    server.abort();
    Ok(())
}
