//! Three replicas of the portal on one PostgreSQL database, each its own process (two with a
//! dispatch worker, one without), as a team that outgrew one machine runs them: what one replica
//! changes reaches the others' pages and gates at once, and the workers share the work without
//! doing any of it twice, even when one of them is killed in the middle of it. PostgreSQL only:
//! on SQLite there is one process. Each delay measured is printed as a `BENCH` line.

use crate::helpers::*;
use crate::request_pages::revision_in;
use serde_json::{json, Value};
use server::db::Db;
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// One portal process.
struct Replica {
    name: &'static str,
    child: Child,
    base: String,
    client: reqwest::Client,
}

impl Replica {
    /// Starts a portal process on the test's database and waits until it is ready. The replicas
    /// share the data folder, as they would a volume: the shell connector's runs live there.
    async fn start(db: &TestDb, catalog: &Path, name: &'static str, dispatch: bool) -> Replica {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log = std::fs::File::create(db.dir.path().join(format!("{name}.log"))).expect("log");
        let mut command = Command::new(env!("CARGO_BIN_EXE_runway"));
        for (var, _) in std::env::vars().filter(|(n, _)| n.starts_with("RUNWAY_")) {
            command.env_remove(var);
        }
        let child = command
            .arg("serve")
            .env("RUNWAY_LISTEN", format!("127.0.0.1:{port}"))
            .env("RUNWAY_DATA_DIR", db.dir.path())
            .env("RUNWAY_DATABASE_URL", &db.url)
            .env("RUNWAY_CATALOG", catalog)
            .env("RUNWAY_DEMO", "true")
            .env("RUNWAY_DISPATCH", dispatch.to_string())
            .env("RUNWAY_LOG", "info")
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start a replica");
        let mut replica = Replica {
            name,
            child,
            base: format!("http://127.0.0.1:{port}"),
            client: client(),
        };
        for _ in 0..300 {
            // Ended (its port taken meanwhile, say): never mistake another portal for it.
            if let Ok(Some(status)) = replica.child.try_wait() {
                panic!("replica {name} ended at start ({status}; see {name}.log)");
            }
            if let Ok(answer) = replica.client.get(replica.url("/readyz")).send().await {
                if answer.status() == 200 {
                    return replica;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("replica {name} was not ready within 30 s (see {name}.log)");
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn login(&self, user: &str) {
        let answer = self
            .client
            .post(self.url("/login"))
            .form(&[
                ("username", user),
                ("password", DEMO_PASSWORD),
                ("next", ""),
            ])
            .send()
            .await
            .expect("login");
        assert_eq!(location(&answer), "/", "{user} signs in on {}", self.name);
    }

    async fn page(&self, path: &str) -> String {
        let answer = self.client.get(self.url(path)).send().await.expect("page");
        assert_eq!(answer.status(), 200, "GET {path} on {}", self.name);
        answer.text().await.expect("body")
    }

    async fn post(&self, path: &str, form: &[(&str, String)]) -> reqwest::Response {
        let answer = self
            .client
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .expect("post");
        assert_eq!(answer.status(), 303, "POST {path} on {}", self.name);
        answer
    }

    async fn api(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        let answer = self
            .client
            .post(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("call");
        let status = answer.status().as_u16();
        (status, answer.json().await.unwrap_or(Value::Null))
    }

    /// Kills the process at once, as a crash would (SIGKILL).
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A token made by root, acting as `user`; its id and secret.
async fn token(db: &Db, catalog: &Path, user: &str, scopes: &[&str], app: &str) -> (i64, String) {
    let catalog = server::catalog::load_file(catalog)
        .expect("catalog")
        .catalog;
    let (root, _) = server::db::users::password_hash(db, "root")
        .await
        .expect("query")
        .expect("root");
    let root = server::db::users::by_id(db, root)
        .await
        .expect("query")
        .expect("root");
    let name = format!("{user} {}", scopes.join("+"));
    let made = server::service::tokens::create_token(
        db,
        &catalog,
        &root,
        &server::service::tokens::TokenForm {
            name: name.clone(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            applications: vec![app.to_owned()],
            acts_as: user.into(),
        },
    )
    .await
    .expect("token");
    let id = sqlx::query_scalar("select api_token_id from api_tokens where name = $1")
        .bind(&name)
        .fetch_one(&db.pool)
        .await
        .expect("token id");
    (id, made.secret)
}

/// How long `done` takes to come true, checked every 5 ms; fails after `limit`.
async fn until<F, Fut>(what: &str, limit: Duration, mut done: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !done().await {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    start.elapsed()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Three replicas on a new database: A and B with a worker, C without.
async fn three_replicas() -> Option<(TestDb, std::path::PathBuf, [Replica; 3])> {
    let db = TestDb::new(Kind::Postgres).await?;
    let catalog = test_catalog(&db);
    // One at a time: the first creates the tables and the demo users.
    let a = Replica::start(&db, &catalog, "replica-a", true).await;
    let b = Replica::start(&db, &catalog, "replica-b", true).await;
    let c = Replica::start(&db, &catalog, "replica-c", false).await;
    Some((db, catalog, [a, b, c]))
}

#[tokio::test]
async fn what_one_replica_changes_the_others_show_and_apply_at_once() {
    within_limit("replicas share changes", || async {
        let Some((db, catalog, [a, b, c])) = three_replicas().await else {
            return;
        };
        let handle = Db::connect(&db.url, 2).await.expect("connect");
        let (_, opener) = token(&handle, &catalog, "ada", &["requests:write"], "banking").await;
        let (gate_id, gate) = token(&handle, &catalog, "ada", &["gate:read"], "banking").await;

        // A page open on C hears of requests opened through A.
        c.login("ben").await;
        let mut events = c.client.get(c.url("/events")).send().await.expect("events");
        let mut heard = String::new();
        let mut delays = Vec::new();
        for n in 0..20 {
            let body = json!({
                "application": "banking", "environment": "staging", "version": format!("3.0.{n}"),
                "summary": "Built by the pipeline", "rollback_plan": "Redeploy the previous tag",
                "fields": { "change_ticket": "CHG-7", "customer_impact": "none" },
            });
            let sent = Instant::now();
            let (status, opened) = a.api("/api/v1/requests", &opener, body).await;
            assert_eq!(status, 201, "{opened}");
            let data = format!("data: {}\n", opened["id"]);
            while !heard.contains(&data) {
                let chunk = tokio::time::timeout(Duration::from_secs(1), events.chunk())
                    .await
                    .expect("C's page hears within a second")
                    .expect("stream")
                    .expect("open");
                heard.push_str(&String::from_utf8_lossy(&chunk));
            }
            delays.push(ms(sent.elapsed()));
        }
        delays.sort_by(f64::total_cmp);
        println!(
            "BENCH replica_propagation_ms p50={:.1} max={:.1} (open on A, heard on C's page, 20 changes)",
            delays[delays.len() / 2],
            delays[delays.len() - 1]
        );

        // Every replica's fan-out worker races for the notices those changes wrote: each is
        // told once.
        until("every notice told", Duration::from_secs(10), || async {
            server::db::pending_notices::count(&handle.pool).await.expect("count") == 0
        })
        .await;
        let twice: i64 = sqlx::query_scalar(
            "select count(*) from (select user_id, request_id, kind from notifications \
             group by user_id, request_id, kind having count(*) > 1) doubled",
        )
        .fetch_one(&handle.pool)
        .await
        .expect("count");
        assert_eq!(twice, 0, "a notice told twice");
        let asked: i64 = sqlx::query_scalar(
            "select count(distinct request_id) from notifications where kind = 'approval_needed'",
        )
        .fetch_one(&handle.pool)
        .await
        .expect("count");
        assert_eq!(asked, 20, "each request's approvers asked");

        // B's gate answers as soon as A records the approval.
        let ask = json!({ "application": "banking", "environment": "staging", "version": "3.0.0" });
        let (_, answer) = b.api("/api/v1/gate", &gate, ask.clone()).await;
        assert_ne!(answer["decision"], "allow", "{answer}");
        a.login("ben").await;
        let page = a.page("/requests/1").await;
        let form = [
            ("revision", revision_in(&page)),
            ("verdict", "approve".to_owned()),
            ("comment", String::new()),
        ];
        a.post("/requests/1/decision", &form).await;
        let gate_delay = until("B's gate allows", Duration::from_secs(1), || async {
            b.api("/api/v1/gate", &gate, ask.clone()).await.1["decision"] == "allow"
        })
        .await;

        // A token revoked on A is refused by B, which had it in memory.
        a.login("root").await;
        a.post(&format!("/admin/tokens/{gate_id}/revoke"), &[]).await;
        let revoke_delay = until("B refuses the revoked token", Duration::from_secs(1), || async {
            b.api("/api/v1/gate", &gate, ask.clone()).await.0 == 401
        })
        .await;

        // A catalog applied on A is in force on C.
        let text = std::fs::read_to_string(&catalog).expect("catalog");
        std::fs::write(&catalog, text.replace("name = \"Banking\"", "name = \"Core Banking\""))
            .expect("catalog");
        a.post("/catalog/reload", &[]).await;
        let catalog_delay = until("C shows the new catalog", Duration::from_secs(1), || async {
            c.page("/catalog").await.contains("Core Banking")
        })
        .await;
        // A person disabled by an administrator on A: C, where Ben is signed in, sends him to
        // sign in at his next request, since every session of his is gone.
        let ben: i64 = sqlx::query_scalar("select user_id from users where username = 'ben'")
            .fetch_one(&handle.pool)
            .await
            .expect("ben");
        a.post(&format!("/admin/users/{ben}/disable"), &[]).await;
        let disabled_delay = until("C signs the disabled Ben out", Duration::from_secs(1), || async {
            let answer = c.client.get(c.url("/approvals")).send().await.expect("page");
            answer.status() == 303
        })
        .await;
        // Guesses on A count on B: the fifth wrong password for Olga locks her out everywhere.
        for _ in 0..5 {
            let answer = a
                .client
                .post(a.url("/login"))
                .form(&[("username", "olga"), ("password", "guess"), ("next", "")])
                .send()
                .await
                .expect("login");
            assert!(location(&answer).contains("error=credentials"));
        }
        let answer = b
            .client
            .post(b.url("/login"))
            .form(&[("username", "olga"), ("password", DEMO_PASSWORD), ("next", "")])
            .send()
            .await
            .expect("login");
        assert!(location(&answer).contains("error=throttled"), "{}", location(&answer));
        println!(
            "BENCH replica_effect_ms gate={:.1} token_revoked={:.1} catalog={:.1} user_disabled={:.1} (made on A, in force on B or C)",
            ms(gate_delay),
            ms(revoke_delay),
            ms(catalog_delay),
            ms(disabled_delay)
        );
    })
    .await;
}

/// Targets the load is spread over: one deployment at a time runs on each.
const TARGETS: usize = 50;

/// Points the deploy of Storefront to Staging (no approval stage: approved when opened), and of
/// [`TARGETS`] applications `load-N` like it, at a command that appends the version to `calls`:
/// one line per run.
fn counting_catalog(db: &TestDb, catalog: &Path) -> std::path::PathBuf {
    let calls = db.dir.path().join("calls");
    let text = std::fs::read_to_string(catalog).expect("catalog");
    let storefront = text.find("id = \"storefront\"").expect("storefront");
    let from = storefront
        + text[storefront..]
            .find("[applications.environments.ci]")
            .expect("binding");
    let end = from + text[from..].find("\n\n").expect("end");
    let binding = format!(
        "[applications.environments.ci]\nconnector = \"shell\"\n\
         deploy = {{ job = \"echo $RUNWAY_VERSION >> {calls}\", params = {{ RUNWAY_VERSION = \"{{version}}\" }} }}",
        calls = calls.display()
    );
    let load: String = (0..TARGETS)
        .map(|n| {
            format!(
                "\n[[applications]]\nid = \"load-{n}\"\nname = \"Load {n}\"\nowner = \"web\"\n\n\
                 [[applications.environments]]\nid = \"staging\"\npolicy = {{ requesters = [\"web\"] }}\n\n\
                 {binding}\n"
            )
        })
        .collect();
    let counting = db.dir.path().join("counting.toml");
    std::fs::write(
        &counting,
        format!("{}{binding}{}{load}", &text[..from], &text[end..]),
    )
    .expect("catalog");
    counting
}

#[tokio::test]
async fn two_workers_run_a_thousand_requests_once_each_even_when_one_is_killed() {
    // A killed worker's jobs wait out their lease (a minute) before the other takes them.
    within("replicas share the work", Duration::from_secs(600), || async {
        let Some(db) = TestDb::new(Kind::Postgres).await else {
            return;
        };
        let catalog = counting_catalog(&db, &test_catalog(&db));
        let mut a = Replica::start(&db, &catalog, "replica-a", true).await;
        let _b = Replica::start(&db, &catalog, "replica-b", true).await;
        let c = Replica::start(&db, &catalog, "replica-c", false).await;
        let handle = Db::connect(&db.url, 2).await.expect("connect");
        let (_, opener) = token(&handle, &catalog, "wes", &["requests:write"], "*").await;

        // A thousand requests, opened through C, eight at a time, over the load targets (one
        // deployment at a time runs on each).
        const REQUESTS: usize = 1000;
        use futures_util::StreamExt;
        futures_util::stream::iter(0..REQUESTS)
            .for_each_concurrent(8, |n| {
                let (c, opener) = (&c, &opener);
                async move {
                    let body = json!({
                        "application": format!("load-{}", n % TARGETS), "environment": "staging",
                        "version": format!("1.0.{n}"), "summary": "Nightly build",
                        "rollback_plan": "Redeploy the previous build",
                    });
                    let (status, answer) = c.api("/api/v1/requests", opener, body).await;
                    assert_eq!(status, 201, "{answer}");
                }
            })
            .await;

        let count = |state: &'static str| {
            let pool = handle.pool.clone();
            async move {
                sqlx::query_scalar::<_, i64>("select count(*) from requests where state = $1")
                    .bind(state)
                    .fetch_one(&pool)
                    .await
                    .expect("count")
            }
        };
        // A is killed once a third is done, whatever it holds at that moment.
        let started = Instant::now();
        until("a third deployed", Duration::from_secs(240), || async {
            count("succeeded").await >= (REQUESTS / 3) as i64
        })
        .await;
        a.kill();
        let killed_at = count("succeeded").await;
        until("every request deployed", Duration::from_secs(300), || async {
            count("succeeded").await == REQUESTS as i64
        })
        .await;
        let elapsed = started.elapsed();

        let calls = std::fs::read_to_string(db.dir.path().join("calls")).expect("calls");
        let mut runs: Vec<&str> = calls.lines().collect();
        runs.sort_unstable();
        let total = runs.len();
        runs.dedup();
        assert_eq!(runs.len(), REQUESTS, "every request's deploy ran");
        assert_eq!(total, REQUESTS, "no deploy ran twice");
        // Two workers, and never two deployments of one target at once.
        let spans: Vec<(String, i64, Option<i64>)> = sqlx::query_as(
            "select r.application_id, c.started_at, c.finished_at from ci_runs c \
             join requests r on r.request_id = c.request_id order by r.application_id, c.started_at",
        )
        .fetch_all(&handle.pool)
        .await
        .expect("runs");
        for pair in spans.windows(2) {
            let ((app, _, ended), (next_app, started, _)) = (&pair[0], &pair[1]);
            if app == next_app {
                assert!(
                    ended.is_some_and(|end| *started >= end),
                    "{app}: a deployment started at {started} while another ran ({ended:?})"
                );
            }
        }
        println!(
            "BENCH replica_dispatch requests={REQUESTS} runs={total} distinct={} seconds={:.1} killed_after={killed_at}",
            runs.len(),
            elapsed.as_secs_f64()
        );
    })
    .await;
}
