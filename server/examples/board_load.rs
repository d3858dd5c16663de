//! Seeds 100,000 release requests, then measures the approver queue and the ops board, rendered
//! on the server, under concurrent load, on SQLite and on PostgreSQL. Prints `BENCH` lines.
//!
//! `cargo run --release -p server --example board_load [-- --requests N --clients C --rounds R]`
//! PostgreSQL is taken from `BENCH_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432`);
//! a database of its own is created and dropped. Without PostgreSQL only SQLite is measured.

use server::config::Settings;
use server::startup::Application;
use sqlx::{AnyPool, Connection};
use std::time::{Duration, Instant};

struct Options {
    requests: usize,
    clients: usize,
    rounds: usize,
}

fn options() -> Options {
    let mut o = Options {
        requests: 100_000,
        clients: 8,
        rounds: 60,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair
            .get(1)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{} needs a number", pair[0]));
        match pair[0].as_str() {
            "--requests" => o.requests = value,
            "--clients" => o.clients = value,
            "--rounds" => o.rounds = value,
            other => panic!("unknown option {other}"),
        }
    }
    o
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let o = options();
    let catalog = concat!(env!("CARGO_MANIFEST_DIR"), "/../catalog/demo.toml");
    let dir = tempfile::tempdir()?;

    let sqlite = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    );
    run("sqlite", &sqlite, catalog, dir.path(), &o).await?;

    sqlx::any::install_default_drivers();
    let base = std::env::var("BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    match sqlx::AnyConnection::connect(&format!("{base}/postgres")).await {
        Err(e) => eprintln!("PostgreSQL unreachable at {base} ({e}): measured SQLite only"),
        Ok(mut admin) => {
            let name = format!("runway_bench_{}", std::process::id());
            sqlx::query(&format!("create database {name}"))
                .execute(&mut admin)
                .await?;
            let outcome = run(
                "postgres",
                &format!("{base}/{name}"),
                catalog,
                dir.path(),
                &o,
            )
            .await;
            sqlx::query(&format!("drop database if exists {name} with (force)"))
                .execute(&mut admin)
                .await?;
            outcome?;
        }
    }
    Ok(())
}

async fn run(
    label: &str,
    url: &str,
    catalog: &str,
    dir: &std::path::Path,
    o: &Options,
) -> anyhow::Result<()> {
    let settings = Settings::from_vars([
        ("RUNWAY_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        ("RUNWAY_DATA_DIR".to_owned(), dir.display().to_string()),
        ("RUNWAY_DATABASE_URL".to_owned(), url.to_owned()),
        ("RUNWAY_CATALOG".to_owned(), catalog.to_owned()),
        ("RUNWAY_DEMO".to_owned(), "true".to_owned()),
        ("RUNWAY_LOG".to_owned(), "error".to_owned()),
    ])?;
    let app = Application::build(settings).await?;
    let address = format!("http://127.0.0.1:{}", app.port());
    let pool = app.state().db.pool.clone();
    let started = Instant::now();
    seed(&pool, o.requests).await?;
    // Requests written straight into the tables: index whom they ask, as start-up does, and give
    // the query planner the statistics a database that grew over two years would have.
    server::service::requests::settle_all(&app.state().db).await?;
    sqlx::query("analyze").execute(&pool).await?;
    println!(
        "# {label}: seeded {} requests in {:.1} s",
        o.requests,
        started.elapsed().as_secs_f64()
    );
    let server = tokio::spawn(async move {
        let _ = app.run_until_stopped().await;
    });

    let pages: [(&str, &str, &str); 4] = [
        ("queue", "cleo", "/approvals"),
        ("board", "olga", "/board"),
        (
            "board_filtered",
            "olga",
            "/board?state=failed&app=banking&env=production",
        ),
        ("board_search", "olga", "/board?q=3.1.4"),
    ];
    for (name, user, path) in pages {
        let mut samples = load(&address, user, path, o).await?;
        samples.sort_unstable();
        let pct = |p: f64| {
            let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
            samples[i].as_secs_f64() * 1000.0
        };
        println!("BENCH {name}_p50_{label} {:.1} ms", pct(0.50));
        println!("BENCH {name}_p99_{label} {:.1} ms", pct(0.99));
    }
    server.abort();
    Ok(())
}

/// `clients` signed-in clients fetch `path` `rounds` times each, at once; the answer times.
async fn load(address: &str, user: &str, path: &str, o: &Options) -> anyhow::Result<Vec<Duration>> {
    let mut tasks = Vec::new();
    for _ in 0..o.clients {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let login = client
            .post(format!("{address}/login"))
            .form(&[("username", user), ("password", "runway-demo")])
            .send()
            .await?;
        anyhow::ensure!(login.status() == 303, "login as {user}: {}", login.status());
        let url = format!("{address}{path}");
        let rounds = o.rounds;
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::with_capacity(rounds);
            for round in 0..rounds + 3 {
                let t0 = Instant::now();
                let resp = client.get(&url).send().await?;
                anyhow::ensure!(resp.status() == 200, "{url}: {}", resp.status());
                resp.bytes().await?;
                // The first rounds warm the caches and are not counted.
                if round >= 3 {
                    times.push(t0.elapsed());
                }
            }
            Ok(times)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    Ok(all)
}

/// What 100,000 requests look like after two years: mostly finished, one in a hundred waiting
/// for approval (half of those past their first stage), each with its `submitted` event.
async fn seed(pool: &AnyPool, n: usize) -> anyhow::Result<()> {
    let users: Vec<(i64, String)> =
        sqlx::query_as("select user_id, username from users order by user_id")
            .fetch_all(pool)
            .await?;
    let id_of = |name: &str| {
        users
            .iter()
            .find(|(_, u)| u == name)
            .map(|(id, _)| *id)
            .expect("demo user")
    };
    let (ada, wes, ben) = (id_of("ada"), id_of("wes"), id_of("ben"));
    let loaded = server::catalog::load_file(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../catalog/demo.toml"
    )))?;
    let policy = |app: &str, env: &str| -> String {
        let policy = &loaded
            .catalog
            .application(app)
            .and_then(|a| a.environment(env))
            .expect("environment")
            .policy;
        serde_json::to_string(policy).expect("policy")
    };
    let policies = [
        ("banking", "staging", policy("banking", "staging")),
        ("banking", "production", policy("banking", "production")),
        ("storefront", "staging", policy("storefront", "staging")),
        (
            "storefront",
            "production",
            policy("storefront", "production"),
        ),
    ];
    let finished = [
        "succeeded",
        "succeeded",
        "succeeded",
        "succeeded",
        "succeeded",
        "succeeded",
        "succeeded",
        "failed",
        "rejected",
        "cancelled",
        "expired",
    ];
    let now = server::db::now_ms();
    let two_years = 2 * 365 * 24 * 3600 * 1000_i64;
    let chunk = 500;
    let mut tx = pool.begin().await?;
    for start in (0..n).step_by(chunk) {
        let rows: Vec<usize> = (start..(start + chunk).min(n)).collect();
        // Numbered placeholders, which both SQLite and PostgreSQL read.
        let tuples: Vec<String> = (0..rows.len())
            .map(|r| {
                let cols: Vec<String> = (1..=13).map(|c| format!("${}", r * 13 + c)).collect();
                format!("({})", cols.join(", "))
            })
            .collect();
        let sql = format!(
            "insert into requests (application_id, environment_id, requester_id, title, version, \
             summary, risk, rollback_plan, fields, state, policy, created_at, updated_at) values {}",
            tuples.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for &i in &rows {
            let (app, env, policy) = &policies[i % 4];
            let version = format!("{}.{}.{}", 1 + i / 10_000, (i / 100) % 100, i % 100);
            let state = if i % 97 == 0 {
                "pending_approval"
            } else {
                finished[i % finished.len()]
            };
            let at = now - two_years + (two_years / n as i64) * i as i64;
            let requester = if *app == "banking" { ada } else { wes };
            let name = if *app == "banking" {
                "Banking"
            } else {
                "Storefront"
            };
            query = query
                .bind(app.to_string())
                .bind(env.to_string())
                .bind(requester)
                .bind(format!("{name} {version}"))
                .bind(version)
                .bind("Routine release")
                .bind("low")
                .bind("Redeploy the previous version")
                .bind("{}")
                .bind(state)
                .bind(policy.clone())
                .bind(at)
                .bind(at);
        }
        query.execute(&mut *tx).await?;
    }
    sqlx::query(
        "insert into request_events (request_id, actor_id, kind, payload, at) \
         select request_id, requester_id, 'submitted', '{}', created_at from requests",
    )
    .execute(&mut *tx)
    .await?;
    // Half the waiting Banking production requests are past their owner review.
    sqlx::query(
        "insert into decisions (request_id, user_id, teams, stage, verdict, comment, decided_at) \
         select request_id, $1, 'banking-owners', 0, 'approve', '', created_at from requests \
         where state = 'pending_approval' and application_id = 'banking' \
         and environment_id = 'production' and request_id % 2 = 0",
    )
    .bind(ben)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
