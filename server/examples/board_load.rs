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
        let who = common::Client::Person(user);
        let samples = common::load(&address, &who, path, o.clients, o.rounds).await?;
        common::print_percentiles(&format!("{name}_{{}}_{label}_{size}"), samples);
    }
    server.abort();
    Ok(())
}
