//! The `buildbot` connector against a real Buildbot master and worker on loopback, started by
//! each test from the venv `make buildbot` installs (`.tools/buildbot`, or `RUNWAY_TEST_BUILDBOT`
//! naming another venv), with a configuration the tests own.

use crate::dispatch::{deployed, step_states, stop_as_olga, submit, until_state, WORKER};
use crate::helpers::*;
use crate::requests::{approve, state};
use server::db::dispatch::runs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The password the test master's `runway` account has; the catalog names this variable.
const PASSWORD_VAR: &str = "BUILDBOT_TEST_PASSWORD";
const PASSWORD: &str = "bb-secret";

/// The master's configuration and the catalog splice, shared with the browser tests.
const SCRIPTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/buildbot");

/// A master and a worker, stopped (SIGKILL) when dropped.
pub struct Buildbot {
    bin: PathBuf,
    dir: tempfile::TempDir,
    pub www: u16,
    pb: u16,
}

pub(crate) fn venv() -> Option<PathBuf> {
    let dir = std::env::var_os("RUNWAY_TEST_BUILDBOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.tools/buildbot"))
        });
    let bin = dir.join("bin");
    if bin.join("buildbot").exists() && bin.join("buildbot-worker").exists() {
        return Some(bin);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "Buildbot is required on CI but not installed in {} (run `make buildbot`)",
            dir.display()
        );
    }
    eprintln!(
        "!!! SKIPPED: no Buildbot venv in {} (run `make buildbot`)",
        dir.display()
    );
    None
}

/// A free port below the kernel's ephemeral range (where the tests' own connections and servers
/// on port 0 would take it from under a master still starting), never one already handed to
/// another test of this process.
pub(crate) fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut seed = u64::from(std::process::id())
        ^ u64::from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or_default(),
        );
    loop {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let port = 20_000 + u16::try_from((seed >> 33) % 12_000).unwrap_or_default();
        let mut given = GIVEN.lock().unwrap_or_else(|p| p.into_inner());
        if !given.contains(&port) && std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            given.push(port);
            return port;
        }
    }
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("run a Buildbot command");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn pid_in(dir: &Path) -> Option<i32> {
    std::fs::read_to_string(dir.join("twistd.pid"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

impl Buildbot {
    /// Creates a master and a worker (not started yet); `None` when Buildbot is not installed.
    pub fn create() -> Option<Buildbot> {
        let bin = venv()?;
        let dir = tempfile::tempdir().expect("tempdir");
        let (www, pb) = (free_port(), free_port());
        let master = dir.path().join("master");
        run(Command::new(bin.join("buildbot"))
            .args(["create-master", "-r"])
            .arg(&master));
        std::fs::copy(format!("{SCRIPTS}/master.cfg"), master.join("master.cfg"))
            .expect("master.cfg");
        run(Command::new(bin.join("buildbot-worker"))
            .args(["create-worker", "--umask=0o22"])
            .arg(dir.path().join("worker"))
            .arg(format!("127.0.0.1:{pb}"))
            .args(["w1", "worker-pass"]));
        Some(Buildbot { bin, dir, www, pb })
    }

    /// Makes `region` fail its deploys (`down`) or work again.
    pub fn outage(&self, region: &str, down: bool) {
        let dir = self.dir.path().join("outages");
        std::fs::create_dir_all(&dir).expect("outages");
        let file = dir.join(format!("outage-{region}"));
        if down {
            std::fs::write(file, "").expect("outage");
        } else {
            std::fs::remove_file(file).expect("outage over");
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.www)
    }

    /// Starts the master and the worker and waits until the worker is attached.
    pub async fn start(&self) {
        let bin = self.bin.clone();
        let root = self.dir.path().to_path_buf();
        let (www, pb) = (self.www.to_string(), self.pb.to_string());
        tokio::task::spawn_blocking(move || {
            run(Command::new(bin.join("buildbot"))
                .arg("start")
                .arg(root.join("master"))
                .env("BUILDBOT_WWW_PORT", www)
                .env("BUILDBOT_PB_PORT", pb)
                .env(PASSWORD_VAR, PASSWORD));
            run(Command::new(bin.join("buildbot-worker"))
                .arg("start")
                .arg(root.join("worker"))
                .env("BUILDBOT_TEST_OUTAGES", root.join("outages")));
        })
        .await
        .expect("start Buildbot");
        let client = reqwest::Client::new();
        for _ in 0..300 {
            if let Ok(resp) = client
                .get(format!("{}/api/v2/workers", self.url()))
                .send()
                .await
            {
                let body: serde_json::Value = resp.json().await.unwrap_or_default();
                if body["workers"][0]["connected_to"]
                    .as_array()
                    .is_some_and(|a| !a.is_empty())
                {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "the Buildbot worker did not attach within 30 s (pb port {})",
            self.pb
        );
    }

    /// Every build set the master has, as (reason, builder of its request).
    pub async fn build_sets(&self) -> Vec<String> {
        let body: serde_json::Value = reqwest::get(format!("{}/api/v2/buildsets", self.url()))
            .await
            .expect("buildsets")
            .json()
            .await
            .expect("json");
        body["buildsets"]
            .as_array()
            .map(|sets| {
                sets.iter()
                    .filter_map(|s| s["reason"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The catalog of a test portal: the demo one with Banking staging deployed by this master.
    pub fn catalog(&self, app: &TestApp) -> PathBuf {
        self.catalog_of(app, &[])
    }

    /// [`Buildbot::catalog`], `extra` passed to the splice (`regions`: a fan-out to eu and us).
    pub fn catalog_of(&self, app: &TestApp, extra: &[&str]) -> PathBuf {
        // Every test sets the same value, so concurrent tests agree on it.
        std::env::set_var(PASSWORD_VAR, PASSWORD);
        let path = app.db.dir.path().join("buildbot-catalog.toml");
        run(Command::new("python3")
            .arg(format!("{SCRIPTS}/catalog.py"))
            .arg(&app.catalog)
            .arg(&path)
            .arg(self.url())
            .arg(PASSWORD_VAR)
            .args(extra));
        path
    }
}

impl Drop for Buildbot {
    fn drop(&mut self) {
        for part in ["worker", "master"] {
            if let Some(pid) = pid_in(&self.dir.path().join(part)).filter(|p| *p > 1) {
                if let Some(pid) = rustix::process::Pid::from_raw(pid) {
                    let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
                }
            }
        }
    }
}

/// A started Buildbot and a portal on `kind` deploying through it; `None` when either is missing.
async fn running(kind: Kind) -> Option<(Buildbot, TestApp)> {
    let bb = tokio::task::spawn_blocking(Buildbot::create)
        .await
        .expect("create")?;
    bb.start().await;
    let app = portal(kind, &bb).await?;
    Some((bb, app))
}

/// A portal on `kind` whose Banking staging deploys through `bb` (which is not started here).
async fn portal(kind: Kind, bb: &Buildbot) -> Option<TestApp> {
    let app = spawn_app(kind).await?;
    let catalog = bb.catalog(&app);
    let (db, _) = app.stop().await;
    Some(start(db, catalog, WORKER).await)
}

async fn a_release_is_provisioned_and_deployed_by_buildbot(kind: Kind) {
    let Some((bb, app)) = running(kind).await else {
        return;
    };
    let (id, runs) = deployed(&app, "2.4.0", "succeeded").await;
    assert_eq!(
        step_states(&runs),
        [("provision", "succeeded"), ("deploy", "succeeded")]
    );
    let url = runs[1].url.clone().unwrap_or_default();
    assert!(
        url.starts_with(&format!("{}/#/builders/", bb.url())) && url.contains("/builds/"),
        "{url}"
    );
    assert!(
        runs[1]
            .log_tail
            .contains("deploying banking 2.4.0 to staging"),
        "{}",
        runs[1].log_tail
    );
    // One build set per step, each carrying its key.
    let sets = bb.build_sets().await;
    assert_eq!(sets.len(), 2, "{sets:?}");
    // The request page links to the build.
    app.login_as("olga").await;
    let page = app.get_html(&format!("/requests/{id}")).await;
    assert!(
        page.contains(&url.replace('&', "&amp;")),
        "the page links to the build"
    );
}

async fn a_failed_build_fails_the_request_with_buildbots_words(kind: Kind) {
    let Some((_bb, app)) = running(kind).await else {
        return;
    };
    let (_, runs) = deployed(&app, "2.4.0-fail", "failed").await;
    let deploy = runs.iter().find(|r| r.step == "deploy").expect("deploy");
    assert_eq!(deploy.state, "failed");
    assert!(deploy.message.contains("failure"), "{}", deploy.message);
    assert!(
        deploy.log_tail.contains("health check failed"),
        "{}",
        deploy.log_tail
    );
}

async fn operations_cancel_a_running_build(kind: Kind) {
    let Some((bb, app)) = running(kind).await else {
        return;
    };
    let id = submit(&app, "ada", "banking", "staging", "2.4.0-slow").await;
    approve(&app, "ben", id).await.expect("ben");
    // Wait for the deploy build to be running.
    for _ in 0..300 {
        let runs = runs(&app.state.db.pool, id).await.expect("runs");
        if runs
            .iter()
            .any(|r| r.step == "deploy" && r.state == "running")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop_as_olga(&app, id).await;
    assert_eq!(state(&app, id).await, "cancelled");
    // Buildbot itself says the build was cancelled.
    let reference = runs(&app.state.db.pool, id)
        .await
        .expect("runs")
        .into_iter()
        .find(|r| r.step == "deploy")
        .and_then(|r| r.run_ref)
        .expect("a build request");
    let client = reqwest::Client::new();
    for _ in 0..100 {
        let body: serde_json::Value = client
            .get(format!("{}/api/v2/buildrequests/{reference}", bb.url()))
            .send()
            .await
            .expect("buildrequest")
            .json()
            .await
            .expect("json");
        if body["buildrequests"][0]["complete"].as_bool() == Some(true) {
            assert_eq!(body["buildrequests"][0]["results"], 6, "{body}");
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("Buildbot never finished the cancelled build");
}

async fn buildbot_down_then_back_is_retried_then_deploys(kind: Kind) {
    let Some(bb) = tokio::task::spawn_blocking(Buildbot::create)
        .await
        .expect("create")
    else {
        return;
    };
    let Some(app) = portal(kind, &bb).await else {
        return;
    };
    let id = submit(&app, "ada", "banking", "staging", "2.4.0").await;
    approve(&app, "ben", id).await.expect("ben");
    let mut retried = false;
    for _ in 0..200 {
        let retries: i64 = crate::requests::count(
            &app,
            "select count(*) from request_events where request_id = $1 and kind = 'ci_retry'",
            id,
        )
        .await;
        if retries >= 2 {
            retried = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(retried, "the portal retried while Buildbot was down");
    let note: String = sqlx::query_scalar("select note from dispatch_jobs where request_id = $1")
        .bind(id)
        .fetch_one(&app.state.db.pool)
        .await
        .expect("note");
    assert!(note.starts_with("waiting on CI — attempt "), "{note}");
    bb.start().await;
    until_state(&app, id, "succeeded").await;
    assert_eq!(bb.build_sets().await.len(), 2);
}

/// The portal runs as its own process and kills itself (SIGKILL) right after Buildbot accepted
/// the provision build, before recording it; the restarted portal finds that build by its key.
async fn a_portal_killed_after_triggering_finds_the_build_again(kind: Kind) {
    let Some((bb, app)) = running(kind).await else {
        return;
    };
    let id = submit(&app, "ada", "banking", "staging", "2.4.0").await;
    let (db, catalog) = app.stop().await;
    let mut child = portal_process(&db, &catalog, Some("after_trigger"));
    // The approval is given by a second portal (its worker off) while the first one waits for it.
    let app = start(db, catalog.clone(), &[]).await;
    approve(&app, "ben", id).await.expect("ben");
    let mut status = None;
    for _ in 0..450 {
        status = child.try_wait().expect("wait");
        if status.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = || std::fs::read_to_string(portal_log(&app.db)).unwrap_or_default();
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("the portal did not kill itself within 45 s:\n{}", log());
    };
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        status.signal(),
        Some(9),
        "the portal killed itself: {}",
        log()
    );
    // The dead process's claim on the job would run out within a minute; end it now.
    sqlx::query("update dispatch_jobs set lease_until = 0 where request_id = $1")
        .bind(id)
        .execute(&app.state.db.pool)
        .await
        .expect("lease");
    let before = runs(&app.state.db.pool, id).await.expect("runs");
    assert_eq!(before.len(), 1);
    assert_eq!(
        before[0].state, "triggering",
        "the crash left the run unrecorded"
    );
    assert_eq!(
        bb.build_sets().await.len(),
        1,
        "Buildbot has the provision build"
    );
    let (db, _) = app.stop().await;
    let app = start(db, catalog, WORKER).await;
    until_state(&app, id, "succeeded").await;
    let sets = bb.build_sets().await;
    assert_eq!(sets.len(), 2, "provision once, deploy once: {sets:?}");
    let after = runs(&app.state.db.pool, id).await.expect("runs");
    assert_eq!(after.len(), 2, "{after:?}");
}

/// A pipeline in Buildbot that deploys itself: its first step asks the portal's gate, which
/// denies without an approved request (the build stops there) and allows with one; the build
/// then posts its deploy result, which moves the request and shows on its page.
async fn a_buildbot_pipeline_asks_the_gate_and_reports_its_deploy(kind: Kind) {
    let Some((bb, app)) = running(kind).await else {
        return;
    };
    let secret = crate::pipeline_api::token(
        &app,
        &["gate:read", "requests:write", "events:write"],
        &["banking"],
    )
    .await;
    let binding = server::domain::CiBinding {
        connector: server::domain::ConnectorKind::Buildbot,
        settings: [
            ("url".to_owned(), bb.url()),
            ("scheduler".to_owned(), "runway".to_owned()),
            ("user".to_owned(), "runway".to_owned()),
            ("password_env".to_owned(), PASSWORD_VAR.to_owned()),
        ]
        .into(),
        // The connector needs its settings only: the jobs come with each start.
        targets: Vec::new(),
        parallel: false,
    };
    std::env::set_var(PASSWORD_VAR, PASSWORD);
    let connector =
        server::ci::connector(&binding, &app.state.settings.data_dir).expect("connector");
    let build = |key: &'static str| {
        let connector = &connector;
        let params: std::collections::BTreeMap<String, String> = [
            ("application", "banking"),
            ("environment", "staging"),
            ("version", "7.0.0"),
            ("runway_url", app.address.as_str()),
            ("runway_token", secret.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        async move {
            let run = connector
                .start(&server::ci::StartJob {
                    key,
                    target: "pipeline",
                    params: &params,
                })
                .await
                .expect("started");
            for _ in 0..600 {
                let status = connector.status(&run.id).await.expect("status");
                if status.state.is_final() {
                    return status;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            panic!("the pipeline build did not finish within a minute");
        }
    };
    // No request yet: the gate denies and the build fails at its gate step.
    let denied = build("runway-pipeline-denied").await;
    assert_eq!(denied.state, server::ci::RunState::Failed, "{denied:?}");
    assert_eq!(
        crate::requests::count(
            &app,
            "select count(*) from gate_checks where decision = 'deny' and 1 = $1",
            1
        )
        .await,
        1
    );
    // Approved (a request that deploys itself, opened for the pipeline): allowed, deployed, reported.
    let mut body = crate::pipeline_api::pipeline_request("7.0.0");
    body["deploys_itself"] = serde_json::json!(true);
    let (status, created, _) = crate::pipeline_api::call(
        &app,
        reqwest::Method::POST,
        "/api/v1/requests",
        Some(&secret),
        Some(body),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().expect("id");
    approve(&app, "ben", id).await.expect("approved");
    let allowed = build("runway-pipeline-allowed").await;
    assert_eq!(
        allowed.state,
        server::ci::RunState::Succeeded,
        "{allowed:?}"
    );
    until_state(&app, id, "succeeded").await;
    app.login_as("ada").await;
    let page = app.get_html(&format!("/requests/{id}")).await;
    assert!(
        page.contains("deploy succeeded — duration_ms 1200"),
        "the reported stage is on the timeline"
    );
}

crate::on_both_databases!(
    a_buildbot_pipeline_asks_the_gate_and_reports_its_deploy,
    a_release_is_provisioned_and_deployed_by_buildbot,
    a_failed_build_fails_the_request_with_buildbots_words,
    operations_cancel_a_running_build,
    buildbot_down_then_back_is_retried_then_deploys,
    a_portal_killed_after_triggering_finds_the_build_again,
);
