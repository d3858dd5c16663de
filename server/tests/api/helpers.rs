//! `spawn_app()`: the real server on port 0 with an isolated database.

use reqwest::redirect::Policy;
use server::config::Settings;
use server::startup::Application;
use sqlx::Connection;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

pub const DEMO_PASSWORD: &str = "runway-demo";

pub fn demo_catalog() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../catalog/demo.toml"))
}

fn postgres_base() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// A database of its own for one test.
pub struct TestDb {
    pub url: String,
    pg_name: Option<String>,
    pub dir: tempfile::TempDir,
}

impl TestDb {
    /// `None` when PostgreSQL is not reachable outside CI (the run says so loudly);
    /// on CI an unreachable PostgreSQL fails the test.
    pub async fn new(kind: Kind) -> Option<TestDb> {
        let dir = tempfile::tempdir().expect("temp dir");
        match kind {
            Kind::Sqlite => Some(TestDb {
                url: format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("runway.db").display()
                ),
                pg_name: None,
                dir,
            }),
            Kind::Postgres => {
                sqlx::any::install_default_drivers();
                let admin_url = format!("{}/postgres", postgres_base());
                let mut admin = match sqlx::AnyConnection::connect(&admin_url).await {
                    Ok(c) => c,
                    Err(e) if std::env::var_os("CI").is_none() => {
                        eprintln!("!!! PostgreSQL is not reachable at {admin_url} ({e}): SKIPPING this PostgreSQL test");
                        return None;
                    }
                    Err(e) => {
                        panic!("PostgreSQL is required on CI but unreachable at {admin_url}: {e}")
                    }
                };
                let name = format!("runway_test_{}", rand_suffix());
                sqlx::query(&format!("create database {name}"))
                    .execute(&mut admin)
                    .await
                    .expect("create test database");
                Some(TestDb {
                    url: format!("{}/{name}", postgres_base()),
                    pg_name: Some(name),
                    dir,
                })
            }
        }
    }
}

fn rand_suffix() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{}_{nanos}", std::process::id())
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else {
            return;
        };
        let admin_url = format!("{}/postgres", postgres_base());
        // Drop runs outside any async context we can block on, so use a runtime of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            // Bounded: a database that cannot be dropped is left behind, never waited on.
            let dropped = rt.block_on(async {
                let drop = async {
                    let mut admin = sqlx::AnyConnection::connect(&admin_url).await?;
                    sqlx::query(&format!("drop database if exists {name} with (force)"))
                        .execute(&mut admin)
                        .await
                };
                tokio::time::timeout(std::time::Duration::from_secs(15), drop).await
            });
            if !matches!(dropped, Ok(Ok(_))) {
                eprintln!("!!! could not drop the test database {name}: {dropped:?}");
            }
        })
        .join();
    }
}

pub struct TestApp {
    pub address: String,
    pub state: server::state::AppState,
    pub client: reqwest::Client,
    pub db: TestDb,
    pub catalog: PathBuf,
    server: tokio::task::JoinHandle<()>,
    _watchdog: Watchdog,
}

/// Ends the whole run, naming the test, when a test outlives its limit: a hang is a failure
/// with a name, not a silent wait. `RUNWAY_TEST_TIMEOUT_SECS` sets the limit (300 s).
struct Watchdog(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl Watchdog {
    fn start() -> Watchdog {
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let limit: u64 = std::env::var("RUNWAY_TEST_TIMEOUT_SECS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(300);
        let test = std::thread::current().name().unwrap_or("a test").to_owned();
        let watched = done.clone();
        std::thread::spawn(move || {
            for _ in 0..limit {
                std::thread::sleep(std::time::Duration::from_secs(1));
                if watched.load(std::sync::atomic::Ordering::Relaxed) {
                    return;
                }
            }
            eprintln!("\n!!! {test} is still running after {limit} s: it hangs; stopping the run");
            std::process::exit(101);
        });
        Watchdog(done)
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

pub fn settings(db: &TestDb, catalog: &std::path::Path, extra: &[(&str, &str)]) -> Settings {
    let mut vars = vec![
        ("RUNWAY_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        (
            "RUNWAY_DATA_DIR".to_owned(),
            db.dir.path().display().to_string(),
        ),
        ("RUNWAY_DATABASE_URL".to_owned(), db.url.clone()),
        ("RUNWAY_CATALOG".to_owned(), catalog.display().to_string()),
        ("RUNWAY_DEMO".to_owned(), "true".to_owned()),
        // Only the test of the demo's history asks for it.
        ("RUNWAY_DEMO_HISTORY".to_owned(), "false".to_owned()),
        ("RUNWAY_LOG".to_owned(), "warn".to_owned()),
        // Tests that follow a deployment turn the worker on; the others look at approvals alone.
        ("RUNWAY_DISPATCH".to_owned(), "false".to_owned()),
    ];
    vars.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    Settings::from_vars(vars).expect("test settings")
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        // A page that never answers fails its test naming the URL, rather than at the test's
        // time limit with no clue where.
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("client")
}

/// Starts the portal with the demo catalog and demo users.
pub async fn spawn_app(kind: Kind) -> Option<TestApp> {
    spawn_app_with(kind, &[]).await
}

pub async fn spawn_app_with(kind: Kind, extra: &[(&str, &str)]) -> Option<TestApp> {
    let db = TestDb::new(kind).await?;
    let catalog = test_catalog(&db);
    Some(start(db, catalog, extra).await)
}

/// A copy of the demo catalog in the test's data folder, which the test may edit (so
/// re-applying can be tried); its demo CI scripts are found from any folder and run without
/// their pauses.
pub fn test_catalog(db: &TestDb) -> PathBuf {
    let catalog = db.dir.path().join("catalog.toml");
    let scripts = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/demo/");
    let text = std::fs::read_to_string(demo_catalog())
        .expect("read catalog")
        .replace("\"scripts/demo/", &format!("\"{scripts}"))
        .replace(
            "RUNWAY_SITE = \"{application}-{environment}\"",
            "RUNWAY_SITE = \"{application}-{environment}\", DEMO_PAUSE = \"0\"",
        )
        .replace(
            "RUNWAY_SITE = \"{application}-{environment}-{target}\"",
            "RUNWAY_SITE = \"{application}-{environment}-{target}\", DEMO_PAUSE = \"0\"",
        );
    std::fs::write(&catalog, text).expect("write catalog");
    catalog
}

/// The test catalog (see [`test_catalog`]) with `extra` TOML appended.
pub fn catalog_with(db: &TestDb, extra: &str) -> PathBuf {
    let catalog = test_catalog(db);
    let text = std::fs::read_to_string(&catalog).expect("catalog");
    std::fs::write(&catalog, format!("{text}\n{extra}")).expect("write");
    catalog
}

/// Stops `app` and starts it again on its database with its catalog rewritten by `change`,
/// saved as `name` in its data folder.
pub async fn restart_with_catalog(
    app: TestApp,
    name: &str,
    change: impl FnOnce(String) -> String,
) -> TestApp {
    let text = change(std::fs::read_to_string(&app.catalog).expect("catalog"));
    let catalog = app.db.dir.path().join(name);
    std::fs::write(&catalog, text).expect("catalog");
    let (db, _) = app.stop().await;
    start(db, catalog, &[]).await
}

/// Starts a server on an existing database (a restart).
pub async fn start(db: TestDb, catalog: PathBuf, extra: &[(&str, &str)]) -> TestApp {
    let app = Application::build(settings(&db, &catalog, extra))
        .await
        .expect("build app");
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    let server = tokio::spawn(async move {
        let _ = app.run_until_stopped().await;
    });
    TestApp {
        address,
        state,
        client: client(),
        db,
        catalog,
        server,
        _watchdog: Watchdog::start(),
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    /// The page's HTML without the empty comments (`<!>`) hydration places between the pieces
    /// of a type-erased view, so that a test reads "Required." in one piece, as a person would.
    pub async fn get_html(&self, path: &str) -> String {
        let resp = self.get(path).await;
        assert_eq!(resp.status(), 200, "GET {path}");
        resp.text().await.expect("body").replace("<!>", "")
    }

    pub async fn login(&self, username: &str, password: &str) -> reqwest::Response {
        self.login_then(username, password, "").await
    }

    /// Signs in with the `next` page the login form carries.
    pub async fn login_then(
        &self,
        username: &str,
        password: &str,
        next: &str,
    ) -> reqwest::Response {
        self.client
            .post(self.url("/login"))
            .form(&[
                ("username", username),
                ("password", password),
                ("next", next),
            ])
            .send()
            .await
            .expect("POST /login")
    }

    pub async fn login_as(&self, username: &str) {
        let resp = self.login(username, DEMO_PASSWORD).await;
        assert_eq!(location(&resp), "/", "{username} should be signed in");
    }

    pub async fn logout(&self) -> reqwest::Response {
        self.client
            .post(self.url("/logout"))
            .send()
            .await
            .expect("POST /logout")
    }

    /// Calls a server function the way the browser does.
    pub async fn rpc(&self, name: &str) -> reqwest::Response {
        self.rpc_with(name, "").await
    }

    /// Calls a server function with its arguments as a URL-encoded `body`.
    pub async fn rpc_with(&self, name: &str, body: &str) -> reqwest::Response {
        self.client
            .post(self.url(&format!("/rpc/{name}")))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_owned())
            .send()
            .await
            .expect("server function")
    }

    /// Posts a page's form with its fields as a URL-encoded `body`, as a browser without
    /// JavaScript does; the answer is not followed.
    pub async fn post_form(&self, path: &str, body: &str) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_owned())
            .send()
            .await
            .expect("form post")
    }

    /// Posts a form, then reads the page it sends back to, where the outcome shows once.
    pub async fn post_form_then_page(&self, path: &str, body: &str) -> String {
        let resp = self.post_form(path, body).await;
        assert_eq!(resp.status(), 303, "POST {path}");
        self.get_html(&location(&resp)).await
    }

    /// Waits until the fan-out worker has told every notice the changes so far queued (it runs
    /// right after each commit; the notice and what it becomes are written in one transaction).
    pub async fn notices_told(&self) {
        let started = std::time::Instant::now();
        loop {
            let waiting = server::db::pending_notices::count(&self.state.db.pool)
                .await
                .expect("pending notices");
            if waiting == 0 {
                return;
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(10),
                "{waiting} notices still waiting after 10 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    /// A client of its own signed in as `who` (beside the app's own session).
    pub async fn client_of(&self, who: &str) -> reqwest::Client {
        let c = client();
        let form = [("username", who), ("password", DEMO_PASSWORD)];
        c.post(self.url("/login"))
            .form(&form)
            .send()
            .await
            .expect("login");
        c
    }

    /// The account of a user, as use cases take it.
    pub async fn user(&self, username: &str) -> server::db::users::User {
        let (id, _) = server::db::users::password_hash(&self.state.db, username)
            .await
            .expect("query")
            .expect("user exists");
        server::db::users::by_id(&self.state.db, id)
            .await
            .expect("query")
            .expect("user")
    }

    /// Stops the server and returns its database, for a restart.
    pub async fn stop(self) -> (TestDb, PathBuf) {
        self.server.abort();
        let _ = self.server.await;
        (self.db, self.catalog)
    }
}

pub fn location(resp: &reqwest::Response) -> String {
    resp.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

pub fn session_cookie(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("runway_session="))
        .map(str::to_owned)
}

/// Runs a test body, failing it by name (rather than hanging the suite) when it does not finish
/// in 90 s. A hang that blocks the test's thread itself is caught by the watchdog of `start`.
pub async fn within_limit<F, Fut>(name: &str, body: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    within(name, std::time::Duration::from_secs(90), body).await
}

/// [`within_limit`] with a limit of the test's own.
pub async fn within<F, Fut>(name: &str, limit: std::time::Duration, body: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    if tokio::time::timeout(limit, body()).await.is_err() {
        panic!(
            "{name} did not finish within {} s: it hangs",
            limit.as_secs()
        );
    }
}

/// Runs each listed test once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() {
                $crate::helpers::within_limit(stringify!($name), || super::$name($crate::helpers::Kind::Sqlite)).await
            })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() {
                $crate::helpers::within_limit(stringify!($name), || super::$name($crate::helpers::Kind::Postgres)).await
            })*
        }
    };
}

/// The portal binary on the test's database (its worker on, its output in `<data dir>/portal.log`),
/// optionally killing itself at the dispatch point `point` (`RUNWAY_CRASH_AT`). It inherits the
/// test's environment (CI secrets included), never its `RUNWAY_*` settings.
pub fn portal_process(
    db: &TestDb,
    catalog: &std::path::Path,
    point: Option<&str>,
) -> std::process::Child {
    portal_process_with(db, catalog, point, &[])
}

/// [`portal_process`] with `extra` settings.
pub fn portal_process_with(
    db: &TestDb,
    catalog: &std::path::Path,
    point: Option<&str>,
    extra: &[(&str, &str)],
) -> std::process::Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(portal_log(db))
        .expect("log file");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_runway"));
    for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("RUNWAY_")) {
        command.env_remove(name);
    }
    command
        .arg("serve")
        .env("RUNWAY_LISTEN", "127.0.0.1:0")
        .env("RUNWAY_DATA_DIR", db.dir.path())
        .env("RUNWAY_DATABASE_URL", &db.url)
        .env("RUNWAY_CATALOG", catalog)
        .env("RUNWAY_LOG", "info")
        .stdout(log.try_clone().expect("log file"))
        .stderr(log);
    if let Some(point) = point {
        command.env("RUNWAY_CRASH_AT", point);
    }
    command.envs(extra.iter().copied());
    command.spawn().expect("start the portal")
}

/// Where `portal_process` writes the portal's output.
pub fn portal_log(db: &TestDb) -> PathBuf {
    db.dir.path().join("portal.log")
}

/// Serves `app` on a free loopback port for the rest of the test; its base address.
pub async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    base
}

/// Reads the server-sent events of `stream` until what came holds `needle`, each chunk within
/// 5 s; returns what came.
pub async fn heard_until(stream: &mut reqwest::Response, needle: &str) -> String {
    let mut seen = String::new();
    while !seen.contains(needle) {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), stream.chunk())
            .await
            .expect("an event within 5 s")
            .expect("chunk")
            .expect("stream open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    seen
}
