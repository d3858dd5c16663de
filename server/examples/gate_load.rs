//! The gate under load: `POST /api/v1/gate` with a million requests stored, on SQLite and on
//! PostgreSQL, beside a bare axum handler on the same machine, each driven by `wrk` with the same
//! connections. Each database runs an unmeasured warm-up of the gate (`--warmup` seconds), then
//! `--rounds` rounds, each a bare run then a gate run, back to back. Prints the warm-up and each
//! round, then `BENCH` lines: the median over the rounds of requests/s, of p50 and of p99 (each
//! on its own), the median of the rounds' ratios to the bare handler, and any error answers over
//! all rounds.
//!
//! `cargo run --release -p server --example gate_load [-- --requests N --connections C --seconds S --rounds R --warmup W]`
//! Needs `wrk` (Debian's package; `make bench` installs it). PostgreSQL as for `board_load`.

mod common;

use std::process::Command;

struct Options {
    requests: usize,
    connections: usize,
    seconds: usize,
    rounds: usize,
    /// Seconds of unmeasured gate calls on each database before its rounds.
    warmup: usize,
}

fn options() -> Options {
    let mut o = Options {
        requests: 1_000_000,
        connections: 64,
        seconds: 10,
        rounds: 3,
        warmup: 5,
    };
    for (name, value) in common::numbers() {
        match name.as_str() {
            "--requests" => o.requests = value,
            "--connections" => o.connections = value,
            "--seconds" => o.seconds = value,
            "--rounds" => o.rounds = value.max(1),
            "--warmup" => o.warmup = value,
            other => panic!("unknown option {other}"),
        }
    }
    o
}

/// What one `wrk` run measured.
struct Load {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
}

/// "1.23ms", "456.00us", "1.10s" in milliseconds.
fn millis(s: &str) -> Option<f64> {
    let (number, factor) = if let Some(n) = s.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1000.0)
    } else {
        return None;
    };
    number.parse::<f64>().ok().map(|n| n * factor)
}

fn wrk(
    url: &str,
    token: Option<&str>,
    body: &str,
    o: &Options,
    dir: &std::path::Path,
) -> anyhow::Result<Load> {
    let script = dir.join("gate.lua");
    let auth = token
        .map(|t| format!("wrk.headers[\"Authorization\"] = \"Bearer {t}\"\n"))
        .unwrap_or_default();
    std::fs::write(
        &script,
        format!(
            "wrk.method = \"POST\"\nwrk.body = '{body}'\nwrk.headers[\"Content-Type\"] = \"application/json\"\n{auth}"
        ),
    )?;
    let out = Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{}", o.connections),
            &format!("-d{}s", o.seconds),
            "--latency",
            "-s",
        ])
        .arg(&script)
        .arg(url)
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "wrk failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(prefix))
            .map(str::trim)
            .map(str::to_owned)
    };
    let percentile = |p: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(p).and_then(|v| millis(v.trim())))
    };
    Ok(Load {
        rps: field("Requests/sec:")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0),
        p50_ms: percentile("50%").unwrap_or(f64::NAN),
        p99_ms: percentile("99%").unwrap_or(f64::NAN),
        errors: field("Non-2xx or 3xx responses:")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    })
}

fn print(name: &str, load: &Load, vs_bare: Option<f64>) {
    println!("BENCH {name}_rps {:.0} req/s", load.rps);
    println!("BENCH {name}_p50 {:.2} ms", load.p50_ms);
    println!("BENCH {name}_p99 {:.2} ms", load.p99_ms);
    if load.errors > 0 {
        println!(
            "BENCH {name}_errors {} answers over all rounds",
            load.errors
        );
    }
    if let Some(ratio) = vs_bare {
        println!("BENCH {name}_vs_bare {:.0} %", 100.0 * ratio);
    }
}

/// The median of some figures (the upper one of the middle two).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Rounds of a bare run then a gate run, back to back.
struct Rounds {
    bare: Vec<Load>,
    gate: Vec<Load>,
}

impl Rounds {
    /// The median over `loads` of each figure on its own; the error answers of all of them.
    fn of(loads: &[Load]) -> Load {
        Load {
            rps: median(loads.iter().map(|l| l.rps).collect()),
            p50_ms: median(loads.iter().map(|l| l.p50_ms).collect()),
            p99_ms: median(loads.iter().map(|l| l.p99_ms).collect()),
            errors: loads.iter().map(|l| l.errors).sum(),
        }
    }

    /// Each round's gate requests/s over the bare handler's in the same round.
    fn ratios(&self) -> Vec<f64> {
        self.bare
            .iter()
            .zip(&self.gate)
            .map(|(bare, gate)| gate.rps / bare.rps.max(1.0))
            .collect()
    }
}

/// The bare handler: reads the JSON body and answers a small JSON object, nothing else.
async fn bare() -> anyhow::Result<String> {
    let router = axum::Router::new().route(
        "/gate",
        axum::routing::post(
            |axum::Json(body): axum::Json<serde_json::Value>| async move {
                axum::Json(serde_json::json!({ "decision": "allow", "asked": body["version"] }))
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/gate", listener.local_addr()?);
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok(url)
}

const BODY: &str = r#"{"application":"banking","environment":"staging","version":"9.9.9","actor":"ada","pipeline_url":"https://ci.example.com/job/42"}"#;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let o = options();
    if Command::new("wrk").arg("-v").output().is_err() {
        anyhow::bail!("wrk is not installed (apt-get install wrk, or make bench)");
    }
    let dir = tempfile::tempdir()?;
    let bare_url = bare().await?;
    // The machine's speed drifts over a minute (other tenants, the clock); each round runs the
    // bare handler and the gate back to back, so each ratio compares like with like.
    let mut bare_loads = Vec::new();
    for db in common::databases().await? {
        let app = common::portal(&db.url, dir.path()).await?;
        let address = format!("http://127.0.0.1:{}", app.port());
        let state = app.state().clone();
        let started = std::time::Instant::now();
        common::seed(&state.db, o.requests).await?;
        common::settle(&state.db).await?;
        println!(
            "# {}: seeded {} requests in {:.1} s",
            db.label,
            o.requests,
            started.elapsed().as_secs_f64()
        );
        // The release the pipeline asks about: approved, with a token allowed to ask.
        let users = |name: &'static str| {
            let state = state.clone();
            async move {
                server::db::users::by_username(&state.db, name)
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("no demo user {name}"))
            }
        };
        let (ada, ben, root) = (
            users("ada").await?,
            users("ben").await?,
            users("root").await?,
        );
        let raw = common::banking_draft("9.9.9", "Benchmark");
        let active = state.catalog.current();
        let id =
            server::service::requests::submit(&state.db, &active, &ada, "banking", "staging", &raw)
                .await?;
        let revision = server::db::requests::get(&state.db.pool, id)
            .await?
            .map(|r| r.revision)
            .unwrap_or_default();
        server::service::requests::decide(
            &state.db,
            &active.catalog,
            &ben,
            id,
            revision,
            server::service::requests::Verdict::Approve,
            "",
        )
        .await?;
        let token = server::service::tokens::create_token(
            &state.db,
            &active.catalog,
            &root,
            &server::service::tokens::TokenForm {
                name: "load".into(),
                scopes: vec!["gate:read".into()],
                applications: vec!["banking".into()],
                acts_as: String::new(),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .secret;
        let server = tokio::spawn(async move {
            let _ = app.run_until_stopped().await;
        });
        let gate_url = format!("{address}/api/v1/gate");
        if o.warmup > 0 {
            // Not counted, but printed: the first calls after the start grow SQLite's log file to
            // its working size (about a second of records), which the next rounds reuse.
            let warm = Options {
                seconds: o.warmup,
                ..o
            };
            let load = wrk(&gate_url, Some(&token), BODY, &warm, dir.path())?;
            println!(
                "# {}: warm-up of {} s, not counted: gate {:.0} req/s, p99 {:.2} ms, {} error answers",
                db.label, o.warmup, load.rps, load.p99_ms, load.errors
            );
        }
        let mut rounds = Rounds {
            bare: Vec::new(),
            gate: Vec::new(),
        };
        for _ in 0..o.rounds {
            rounds
                .bare
                .push(wrk(&bare_url, None, BODY, &o, dir.path())?);
            rounds
                .gate
                .push(wrk(&gate_url, Some(&token), BODY, &o, dir.path())?);
        }
        let recorded: i64 = sqlx::query_scalar("select count(*) from gate_checks")
            .fetch_one(&state.db.pool)
            .await?;
        println!(
            "# {}: {recorded} gate answers recorded (the warm-up's included)",
            db.label
        );
        if let Some(file) = db
            .url
            .strip_prefix("sqlite://")
            .and_then(|u| u.split('?').next())
        {
            // Under a steady load the log must still start over now and then (see `checkpoint_wal`).
            match std::fs::metadata(format!("{file}-wal")) {
                Ok(wal) => println!(
                    "# {}: write-ahead log file {:.1} MB after the rounds",
                    db.label,
                    wal.len() as f64 / 1e6
                ),
                Err(e) => println!("# {}: no write-ahead log file at {file}-wal: {e}", db.label),
            }
        }
        let ratios = rounds.ratios();
        for (round, ((bare, gate), ratio)) in rounds
            .bare
            .iter()
            .zip(&rounds.gate)
            .zip(&ratios)
            .enumerate()
        {
            println!(
                "# {} round {}: bare {:.0} req/s, gate {:.0} req/s ({:.0} %), gate p99 {:.2} ms",
                db.label,
                round + 1,
                bare.rps,
                gate.rps,
                100.0 * ratio,
                gate.p99_ms
            );
        }
        let bare = Rounds::of(&rounds.bare);
        println!(
            "# {}: bare handler {:.0} req/s beside it (median of {} rounds)",
            db.label, bare.rps, o.rounds
        );
        print(
            &format!("gate_{}", db.label),
            &Rounds::of(&rounds.gate),
            Some(median(ratios)),
        );
        bare_loads.extend(rounds.bare);
        server.abort();
        db.cleanup().await?;
    }
    print("gate_bare_handler", &Rounds::of(&bare_loads), None);
    Ok(())
}
