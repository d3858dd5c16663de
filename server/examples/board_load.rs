//! Seeds 100,000 release requests (or `--requests N`), then measures the approver queue, a
//! request's page and the ops board, rendered on the server, under concurrent load, on SQLite and
//! on PostgreSQL. Prints `BENCH` lines named with the number stored (`…_100k`, `…_1m`).
//!
//! `cargo run --release -p server --example board_load [-- --requests N --clients C --rounds R]`
//! PostgreSQL is taken from `BENCH_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432`);
//! a database of its own is created and dropped. Without PostgreSQL only SQLite is measured.

mod common;

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
        rounds: 250,
    };
    for (name, value) in common::numbers() {
        match name.as_str() {
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
    let dir = tempfile::tempdir()?;
    for db in common::databases().await? {
        let outcome = run(db.label, &db.url, dir.path(), &o).await;
        db.cleanup().await?;
        outcome?;
    }
    Ok(())
}

async fn run(label: &str, url: &str, dir: &std::path::Path, o: &Options) -> anyhow::Result<()> {
    let app = common::portal(url, dir).await?;
    let address = format!("http://127.0.0.1:{}", app.port());
    let db = app.state().db.clone();
    let started = Instant::now();
    common::seed(&db, o.requests).await?;
    // Requests written straight into the tables: index whom they ask, as start-up does, and give
    // the query planner the statistics a database that grew over two years would have.
    let catalog = app.state().catalog.current();
    server::service::approvals::settle_all(&db, &catalog.catalog).await?;
    common::settle(&db).await?;
    println!(
        "# {label}: seeded {} requests in {:.1} s",
        o.requests,
        started.elapsed().as_secs_f64()
    );
    let server = tokio::spawn(async move {
        let _ = app.run_until_stopped().await;
    });
    // Steady state: the start-up sweeps (sessions, catalog, lapsed approvals) done before measuring.
    tokio::time::sleep(Duration::from_secs(2)).await;

    // A request from the middle of the stored ones, read by operations.
    let request = format!("/requests/{}", (o.requests / 2).max(1));
    let pages: [(&str, &str, &str); 5] = [
        ("queue", "cleo", "/approvals"),
        ("request_page", "olga", request.as_str()),
        ("board", "olga", "/board"),
        (
            "board_filtered",
            "olga",
            "/board?state=failed&app=banking&env=production",
        ),
        ("board_search", "olga", "/board?q=3.1.4"),
    ];
    // How many requests are stored, in the figures' names: `100k`, `1m`.
    let size = match o.requests {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}m", n / 1_000_000),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => n.to_string(),
    };
    for (name, user, path) in pages {
        let mut samples = load(&address, user, path, o).await?;
        samples.sort_unstable();
        let pct = |p: f64| {
            let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
            samples[i].as_secs_f64() * 1000.0
        };
        println!("BENCH {name}_p50_{label}_{size} {:.1} ms", pct(0.50));
        println!("BENCH {name}_p99_{label}_{size} {:.1} ms", pct(0.99));
    }
    server.abort();
    Ok(())
}

/// `clients` signed-in clients fetch `path` `rounds` times each, at once; the answer times.
async fn load(address: &str, user: &str, path: &str, o: &Options) -> anyhow::Result<Vec<Duration>> {
    // Every client signs in first: a sign-in hashes a password (tens of milliseconds of CPU),
    // which would otherwise run beside the first clients' measured page loads.
    let mut clients = Vec::new();
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
        clients.push(client);
    }
    let mut tasks = Vec::new();
    for client in clients {
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
