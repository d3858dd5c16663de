//! Seeds 100,000 release requests over two years (or `--requests N`), the deployments they ended
//! in (with where their lead time went and incidents on the failed ones) and ten stage results
//! each (1,000,000), then measures the Insights page (rendered on the server) and the DORA API
//! under concurrent load, on SQLite and on PostgreSQL. Prints `BENCH` lines.
//!
//! Each load runs twice: with nothing the figures are computed from changing (the report kept
//! between readings is used), then `_changing`, ten times longer, with a deployment ending every
//! second (the metrics counter moved, so that the report is computed again). `insights_cold_…` is the report
//! computed afresh, in the process, one at a time: what an answer costs when nothing is kept.
//!
//! `cargo run --release -p server --example insights_load [-- --requests N --clients C --rounds R]`

mod common;

use common::Client;
use std::time::Instant;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (mut requests, mut clients, mut rounds) = (100_000, 8, 100);
    for (name, value) in common::numbers() {
        match name.as_str() {
            "--requests" => requests = value,
            "--clients" => clients = value,
            "--rounds" => rounds = value,
            other => panic!("unknown option {other}"),
        }
    }
    let dir = tempfile::tempdir()?;
    for db in common::databases().await? {
        let outcome = run(db.label, &db.url, dir.path(), requests, clients, rounds).await;
        db.cleanup().await?;
        outcome?;
    }
    Ok(())
}

async fn run(
    label: &str,
    url: &str,
    dir: &std::path::Path,
    requests: usize,
    clients: usize,
    rounds: usize,
) -> anyhow::Result<()> {
    let app = common::portal(url, dir).await?;
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    let db = state.db.clone();
    let started = Instant::now();
    common::seed(&db, requests).await?;
    history(&db).await?;
    common::settle(&db).await?;
    let (deployments, results): (i64, i64) = sqlx::query_as(
        "select (select count(*) from deployments), (select count(*) from stage_results)",
    )
    .fetch_one(&db.pool)
    .await?;
    println!(
        "# {label}: seeded {requests} requests, {deployments} deployments and {results} stage \
         results in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let token = common::token(&state, "insights", &["metrics:read"], "root").await?;
    let server = tokio::spawn(async move {
        let _ = app.run_until_stopped().await;
    });
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let loads = [
        ("insights_page", Client::Person("olga"), "/insights"),
        (
            "insights_page_180d",
            Client::Person("olga"),
            "/insights?days=180",
        ),
        ("dora_api", Client::Token(&token), "/api/v1/metrics/dora"),
        (
            "dora_api_180d",
            Client::Token(&token),
            "/api/v1/metrics/dora?days=180",
        ),
    ];
    for (name, who, path) in loads {
        let samples = common::load(&address, &who, path, clients, rounds).await?;
        common::print_percentiles(&format!("{name}_{{}}_{label}"), samples);
        // Long enough for the counter to move many times.
        let changing = tokio::spawn(a_deployment_every_second(db.clone()));
        let samples = common::load(&address, &who, path, clients, rounds * 10).await?;
        common::print_percentiles(&format!("{name}_changing_{{}}_{label}"), samples);
        changing.abort();
    }
    for days in ["90", "180"] {
        let samples = cold(&state, days, rounds.min(30)).await?;
        common::print_percentiles(&format!("insights_cold_{days}d_{{}}_{label}"), samples);
    }
    server.abort();
    Ok(())
}

/// Moves the metrics counter every second, as a deployment ending would.
async fn a_deployment_every_second(db: server::db::Db) {
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        let _ = sqlx::query("update metrics_counter set n = n + 1 where id = 1")
            .execute(&db.pool)
            .await;
    }
}

/// The report of every application's production over `days`, computed afresh `rounds` times.
async fn cold(
    state: &server::state::AppState,
    days: &str,
    rounds: usize,
) -> anyhow::Result<Vec<std::time::Duration>> {
    use server::service::insights::{dora, DoraFilter, Reader};
    let active = state.catalog.current();
    let catalog = &active.catalog;
    let everything = catalog.applications.iter().map(|a| a.id.clone()).collect();
    let reader = Reader::Person(everything);
    let filter = DoraFilter {
        days: Some(days.to_owned()),
        ..DoraFilter::default()
    };
    let mut samples = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let fresh = server::service::reports::Reports::default();
        let t0 = Instant::now();
        dora(&state.db, &fresh, catalog, &reader, &filter).await?;
        samples.push(t0.elapsed());
    }
    Ok(samples)
}

/// What the finished requests of the seed left: a deployment for each that succeeded or failed,
/// its lead time taken apart, an approval stage's and a team's wait; an incident on each failed
/// production deployment; ten stage results per request.
async fn history(db: &server::db::Db) -> anyhow::Result<()> {
    let mut tx = db.pool.begin().await?;
    sqlx::query(
        "insert into deployments (request_id, application_id, environment_id, version, \
         requested_at, commit_at, finished_at, succeeded, approval_ms, waiting_ms, provision_ms, \
         deploy_ms) \
         select request_id, application_id, environment_id, version, created_at, \
                created_at - 7200000 - (request_id % 13) * 600000, \
                created_at + 3600000 + (request_id % 7) * 600000 + 1800000 + 300000 + 420000, \
                case when state = 'succeeded' then 1 else 0 end, \
                3600000 + (request_id % 7) * 600000, 1800000, 300000, 420000 \
           from requests where state in ('succeeded', 'failed')",
    )
    .execute(&mut *tx)
    .await?;
    for (kind, banking, storefront) in [
        ("stage", "Owner review", "Web lead"),
        ("team", "banking-owners", "web"),
    ] {
        sqlx::query(
            "insert into deployment_waits (deployment_id, kind, name, ms) \
             select deployment_id, $1, case when application_id = 'banking' then $2 else $3 end, \
                    approval_ms \
               from deployments",
        )
        .bind(kind)
        .bind(banking)
        .bind(storefront)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(
        "insert into tickets (request_id, rule_id, kind, title, owner_team, state, opened_at, \
         updated_at) \
         select request_id, 'production-deploy-failed', 'incident', 'Deploy failed', 'ops', \
                'resolved', finished_at, finished_at \
           from deployments where succeeded = 0 and environment_id = 'production'",
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "with stages (stage, n) as (values ('checkout', 0), ('build', 1), ('unit', 2), \
              ('lint', 3), ('integration', 4), ('package', 5), ('scan', 6), ('publish', 7), \
              ('smoke', 8), ('deploy', 9)) \
         insert into stage_results (request_id, application_id, environment_id, stage, status, \
                started_at, finished_at, metrics, created_at) \
         select r.request_id, r.application_id, r.environment_id, s.stage, 'succeeded', \
                r.created_at + s.n * 60000, r.created_at + s.n * 60000 + 45000, \
                '{\"duration_ms\":45000}', r.created_at + s.n * 60000 + 45000 \
           from requests r cross join stages s",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
