//! What the benchmarks share: options, the databases they run on, the portal, and the seed data.
#![allow(dead_code)]

use server::config::Settings;
use server::db::{Db, DbKind};
use server::startup::Application;
use sqlx::Connection;

/// `--name number` pairs from the command line.
pub fn numbers() -> Vec<(String, usize)> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    args.chunks(2)
        .map(|pair| {
            let value = pair
                .get(1)
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{} needs a number", pair[0]));
            (pair[0].clone(), value)
        })
        .collect()
}

/// A database a benchmark runs on: a fresh SQLite file, or a fresh PostgreSQL database.
pub struct Database {
    pub label: &'static str,
    pub url: String,
    /// The PostgreSQL server and the database's name, to drop it afterwards.
    postgres: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl Database {
    /// Drops the PostgreSQL database (the SQLite file goes with its folder).
    pub async fn cleanup(self) -> anyhow::Result<()> {
        if let Some((base, name)) = &self.postgres {
            let mut admin = sqlx::AnyConnection::connect(&format!("{base}/postgres")).await?;
            sqlx::query(&format!("drop database if exists {name} with (force)"))
                .execute(&mut admin)
                .await?;
        }
        Ok(())
    }
}

/// SQLite, then PostgreSQL from `BENCH_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432`)
/// when it answers.
pub async fn databases() -> anyhow::Result<Vec<Database>> {
    sqlx::any::install_default_drivers();
    let dir = tempfile::tempdir()?;
    let mut all = vec![Database {
        label: "sqlite",
        url: format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("bench.db").display()
        ),
        postgres: None,
        _dir: Some(dir),
    }];
    let base = std::env::var("BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    match sqlx::AnyConnection::connect(&format!("{base}/postgres")).await {
        Err(e) => eprintln!("PostgreSQL unreachable at {base} ({e}): measured SQLite only"),
        Ok(mut admin) => {
            let name = format!("runway_bench_{}", std::process::id());
            sqlx::query(&format!("create database {name}"))
                .execute(&mut admin)
                .await?;
            all.push(Database {
                label: "postgres",
                url: format!("{base}/{name}"),
                postgres: Some((base, name)),
                _dir: None,
            });
        }
    }
    Ok(all)
}

/// The portal on `url` with the demo catalog and users, quiet, not yet serving.
pub async fn portal(url: &str, dir: &std::path::Path) -> anyhow::Result<Application> {
    let catalog = concat!(env!("CARGO_MANIFEST_DIR"), "/../catalog/demo.toml");
    let settings = Settings::from_vars([
        ("RUNWAY_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        ("RUNWAY_DATA_DIR".to_owned(), dir.display().to_string()),
        ("RUNWAY_DATABASE_URL".to_owned(), url.to_owned()),
        ("RUNWAY_CATALOG".to_owned(), catalog.to_owned()),
        ("RUNWAY_DEMO".to_owned(), "true".to_owned()),
        ("RUNWAY_LOG".to_owned(), "error".to_owned()),
    ])?;
    Application::build(settings).await
}

/// Brings the freshly seeded database to rest before measuring: statistics gathered, and the
/// work the seeding left (PostgreSQL's vacuum of the new rows, SQLite's write-ahead log) done now
/// rather than in the middle of the measurement, and the machine's dirty pages written to disk.
pub async fn settle(db: &Db) -> anyhow::Result<()> {
    let pool = &db.pool;
    if db.kind == DbKind::Sqlite {
        sqlx::query("analyze").execute(pool).await?;
        sqlx::query("pragma wal_checkpoint(truncate)")
            .execute(pool)
            .await?;
    } else {
        sqlx::query("vacuum (analyze)").execute(pool).await?;
        // Only a superuser may; without it the measurement still runs.
        let _ = sqlx::query("checkpoint").execute(pool).await;
    }
    // A build that just ended (`make bench` builds first) leaves gigabytes of dirty pages, and a
    // database's first flush to disk would then wait for their writeback, in the middle of the
    // first rounds.
    match tokio::process::Command::new("sync").status().await {
        Ok(status) if status.success() => {}
        outcome => println!("# cannot write the dirty pages to disk first ({outcome:?})"),
    }
    Ok(())
}

/// What 100,000 requests look like after two years: mostly finished, one in a hundred waiting
/// for approval (half of those past their first stage), each with its `submitted` event.
pub async fn seed(db: &Db, n: usize) -> anyhow::Result<()> {
    let (pool, kind) = (&db.pool, db.kind);
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
        let sql = format!(
            "insert into requests (application_id, environment_id, requester_id, title, version, \
             summary, risk, rollback_plan, fields, state, policy, created_at, updated_at) values {}",
            kind.values_placeholders(rows.len(), 13)
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

/// A request to Banking as the demo catalog's form asks for it.
pub fn banking_draft(version: &str, summary: &str) -> server::domain::request::RawDraft {
    server::domain::request::RawDraft {
        version: version.into(),
        summary: summary.into(),
        risk: "low".into(),
        rollback_plan: "Redeploy the previous version".into(),
        fields: [
            ("change_ticket".to_owned(), "CHG-1".to_owned()),
            ("customer_impact".to_owned(), "none".to_owned()),
        ]
        .into(),
        ..Default::default()
    }
}

/// Approves request `id` through its page's form, as `client` (signed in) would.
pub async fn approve(
    client: &reqwest::Client,
    address: &str,
    db: &Db,
    id: i64,
) -> anyhow::Result<()> {
    let revision = server::db::requests::get(&db.pool, id)
        .await?
        .map(|r| r.revision)
        .unwrap_or_default();
    let answer = client
        .post(format!("{address}/requests/{id}/decision"))
        .form(&[
            ("revision", revision.to_string()),
            ("verdict", "approve".into()),
        ])
        .send()
        .await?;
    anyhow::ensure!(answer.status() == 303, "decision: {}", answer.status());
    Ok(())
}

/// Who fetches the pages of a load: a signed-in person, or a pipeline with its token.
pub enum Client<'a> {
    Person(&'a str),
    Token(&'a str),
}

/// `clients` clients fetch `path` `rounds` times each, at once; the answer times (the first
/// three rounds of each, which warm the caches, left out).
pub async fn load(
    address: &str,
    who: &Client<'_>,
    path: &str,
    clients: usize,
    rounds: usize,
) -> anyhow::Result<Vec<std::time::Duration>> {
    // Every person signs in first: a sign-in hashes a password (tens of milliseconds of CPU),
    // which would otherwise run beside the first clients' measured page loads.
    let mut signed_in = Vec::new();
    for _ in 0..clients {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        if let Client::Person(user) = who {
            let login = client
                .post(format!("{address}/login"))
                .form(&[("username", *user), ("password", "runway-demo")])
                .send()
                .await?;
            anyhow::ensure!(login.status() == 303, "login as {user}: {}", login.status());
        }
        signed_in.push(client);
    }
    let token = match who {
        Client::Token(secret) => Some((*secret).to_owned()),
        Client::Person(_) => None,
    };
    let mut tasks = Vec::new();
    for client in signed_in {
        let url = format!("{address}{path}");
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::with_capacity(rounds);
            for round in 0..rounds + 3 {
                let t0 = std::time::Instant::now();
                let mut request = client.get(&url);
                if let Some(t) = &token {
                    request = request.bearer_auth(t);
                }
                let resp = request.send().await?;
                anyhow::ensure!(resp.status() == 200, "{url}: {}", resp.status());
                resp.bytes().await?;
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

/// Prints the median and the 99th percentile of `samples` as `BENCH` lines, `{}` in `name`
/// standing for `p50` and `p99`.
pub fn print_percentiles(name: &str, mut samples: Vec<std::time::Duration>) {
    samples.sort_unstable();
    for (label, p) in [("p50", 0.50), ("p99", 0.99)] {
        let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
        let ms = samples.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0);
        println!("BENCH {} {ms:.1} ms", name.replace("{}", label));
    }
}

/// A pipeline token made by `root`, acting as `acts_as`, for every application: its secret.
pub async fn token(
    state: &server::state::AppState,
    name: &str,
    scopes: &[&str],
    acts_as: &str,
) -> anyhow::Result<String> {
    let root = server::db::users::by_username(&state.db, "root")
        .await?
        .ok_or_else(|| anyhow::anyhow!("no demo user root"))?;
    let made = server::service::tokens::create_token(
        &state.db,
        &state.catalog.current().catalog,
        &root,
        &server::service::tokens::TokenForm {
            name: name.into(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            applications: vec!["*".into()],
            acts_as: acts_as.into(),
        },
    )
    .await?;
    Ok(made.secret)
}
