//! Dispatch through the `shell` connector and the demo CI scripts, on both databases.

use crate::helpers::*;
use crate::requests::{approve, count, draft, revision, state};
use server::ci::{shell::Shell, CiConnector, StartJob};
use server::db::dispatch::runs;
use server::service::requests;
use std::time::Duration;

pub(crate) const WORKER: &[(&str, &str)] = &[("RUNWAY_DISPATCH", "true")];

/// Waits for the request to reach `wanted` (30 s at most), and says where it stuck otherwise.
pub(crate) async fn until_state(app: &TestApp, id: i64, wanted: &str) {
    for _ in 0..300 {
        if state(app, id).await == wanted {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let runs = runs(&app.state.db.pool, id).await.expect("runs");
    panic!(
        "request {id} is {} rather than {wanted}; runs: {runs:?}",
        state(app, id).await
    );
}

/// Olga (operations) stops request `id`'s deployment "on the wrong day": what she is told.
pub(crate) async fn stop_as_olga(app: &TestApp, id: i64) -> String {
    let olga = app.user("olga").await;
    let at = revision(app, id).await;
    server::service::deployments::cancel_run(&app.state, &olga, true, id, at, "wrong day")
        .await
        .expect("stopped")
}

/// The process id a shell run recorded (5 s at most).
pub(crate) async fn run_pid(app: &TestApp, key: &str) -> u32 {
    let pid_file = app.state.settings.data_dir.join(format!("runs/{key}/pid"));
    for _ in 0..100 {
        if let Some(pid) = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|p| p.trim().parse().ok())
        {
            return pid;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the run {key} has no process");
}

/// Whether `pid` still runs (not gone, not a zombie waiting to be reaped).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        !s.rsplit(')')
            .next()
            .unwrap_or_default()
            .trim_start()
            .starts_with('Z')
    })
}

/// Waits for `pid` to end (15 s at most), and says so otherwise.
pub(crate) async fn until_stopped(pid: u32) {
    for _ in 0..150 {
        if !running(pid) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the run's process {pid} was not stopped");
}

/// Ada asks for `version` of Banking staging, Ben approves, and the request reaches `wanted`:
/// its id and CI runs.
pub(crate) async fn deployed(
    app: &TestApp,
    version: &str,
    wanted: &str,
) -> (i64, Vec<server::db::dispatch::RunRow>) {
    let id = submit(app, "ada", "banking", "staging", version).await;
    approve(app, "ben", id).await.expect("ben");
    until_state(app, id, wanted).await;
    (id, runs(&app.state.db.pool, id).await.expect("runs"))
}

/// (step, state) of each run.
pub(crate) fn step_states(runs: &[server::db::dispatch::RunRow]) -> Vec<(&str, &str)> {
    runs.iter()
        .map(|r| (r.step.as_str(), r.state.as_str()))
        .collect()
}

pub(crate) async fn submit(
    app: &TestApp,
    who: &str,
    application: &str,
    env: &str,
    version: &str,
) -> i64 {
    let raw = if application == "banking" {
        draft(version)
    } else {
        server::domain::request::RawDraft {
            fields: Default::default(),
            ..draft(version)
        }
    };
    submit_raw(app, who, application, env, &raw)
        .await
        .expect("submitted")
}

/// `who` submits `raw` for `application` to `env` through the use case.
pub(crate) async fn submit_raw(
    app: &TestApp,
    who: &str,
    application: &str,
    env: &str,
    raw: &server::domain::request::RawDraft,
) -> Result<i64, server::service::error::Error> {
    let user = app.user(who).await;
    let active = app.state.catalog.current();
    requests::submit(&app.state.db, &active, &user, application, env, raw).await
}

/// A freeze of `application`'s `environment` for the whole century ("Data centre move").
pub(crate) fn century_freeze(application: &str, environment: &str) -> String {
    format!(
        "[[freezes]]\nid = \"migration\"\nreason = \"Data centre move\"\n\
         from = \"2000-01-01T00:00:00Z\"\nto = \"2100-01-01T00:00:00Z\"\n\
         applications = [\"{application}\"]\nenvironments = [\"{environment}\"]\n"
    )
}

/// Wes asks for Storefront staging, which the schedule holds: approved, waiting (once on the
/// timeline), no CI run started. The request's page, as Wes sees it.
pub(crate) async fn held(app: &TestApp) -> String {
    let id = submit(app, "wes", "storefront", "staging", "5.0.0").await;
    assert_eq!(
        until_waiting(app, id).await,
        1,
        "the wait is on the timeline once"
    );
    assert_eq!(state(app, id).await, "approved");
    assert!(runs(&app.state.db.pool, id).await.expect("runs").is_empty());
    app.login_as("wes").await;
    app.get_html(&format!("/requests/{id}")).await
}

/// Waits for the request's deployment to wait for a window or a freeze (10 s at most): how many
/// times the timeline says so.
pub(crate) async fn until_waiting(app: &TestApp, id: i64) -> i64 {
    let mut waiting = 0;
    for _ in 0..100 {
        waiting = events_of(app, id, "waiting_for_window").await;
        if waiting > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    waiting
}

async fn events_of(app: &TestApp, id: i64, kind: &str) -> i64 {
    count(
        app,
        &format!("select count(*) from request_events where request_id = $1 and kind = '{kind}'"),
        id,
    )
    .await
}

async fn an_approved_request_is_provisioned_then_deployed(kind: Kind) {
    let Some(app) = spawn_app_with(kind, WORKER).await else {
        return;
    };
    let (id, runs) = deployed(&app, "2.4.0", "succeeded").await;
    assert_eq!(
        step_states(&runs),
        [("provision", "succeeded"), ("deploy", "succeeded")]
    );
    assert!(
        runs[1].log_tail.contains("Deploying banking-staging 2.4.0"),
        "{}",
        runs[1].log_tail
    );
    let page = app
        .state
        .settings
        .data_dir
        .join("sites/banking-staging/current/index.html");
    let html = std::fs::read_to_string(&page).expect("the deployed page");
    assert!(html.contains("Version 2.4.0"), "{html}");
    assert_eq!(events_of(&app, id, "step_started").await, 2);
    assert_eq!(events_of(&app, id, "deployed").await, 1);
    app.login_as("ada").await;
    let html = app.get_html(&format!("/requests/{id}")).await;
    for expected in ["Deployment", "Provision", "Deploy", "shell: ", "switched "] {
        assert!(html.contains(expected), "{expected} on the request page");
    }
}

async fn a_failing_deploy_fails_the_request_with_the_ci_message(kind: Kind) {
    let Some(app) = spawn_app_with(kind, WORKER).await else {
        return;
    };
    let id = submit(&app, "wes", "storefront", "staging", "5.0.0-fail").await;
    until_state(&app, id, "failed").await;
    let runs = runs(&app.state.db.pool, id).await.expect("runs");
    assert_eq!(runs.len(), 1, "storefront staging only deploys");
    assert_eq!(runs[0].state, "failed");
    assert_eq!(runs[0].message, "the command exited with status 1");
    assert!(
        runs[0].log_tail.contains("smoke test failed"),
        "{}",
        runs[0].log_tail
    );
    assert_eq!(events_of(&app, id, "step_failed").await, 1);
    let job: String = sqlx::query_scalar("select state from dispatch_jobs where request_id = $1")
        .bind(id)
        .fetch_one(&app.state.db.pool)
        .await
        .expect("job");
    assert_eq!(job, "failed");
}

/// A request stored before versions were checked as they are now (here: written behind the
/// portal's back) never starts a CI job with a version that climbs out of its folder.
async fn a_stored_version_that_climbs_folders_never_reaches_the_ci(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let id = submit(&app, "wes", "storefront", "staging", "5.0.0").await;
    sqlx::query("update requests set version = '../../../escaped' where request_id = $1")
        .bind(id)
        .execute(&app.state.db.pool)
        .await
        .expect("tampered");
    let (db, catalog) = app.stop().await;
    let app = start(db, catalog, WORKER).await;
    until_state(&app, id, "failed").await;
    let runs = runs(&app.state.db.pool, id).await.expect("runs");
    assert_eq!(runs.len(), 1);
    assert!(
        runs[0].message.contains("cannot be deployed") && runs[0].run_ref.is_none(),
        "{:?}",
        runs[0]
    );
    let data = &app.state.settings.data_dir;
    assert!(!data.join("sites/escaped").exists() && !data.join("escaped").exists());
    assert!(!data.join("sites/storefront-staging/releases").exists());
}

async fn a_freeze_holds_the_deployment_and_says_until_when(kind: Kind) {
    let Some(db) = TestDb::new(kind).await else {
        return;
    };
    let catalog = catalog_with(&db, &century_freeze("storefront", "staging"));
    let app = start(db, catalog, WORKER).await;
    let html = held(&app).await;
    assert!(
        html.contains("waiting for window until 2100-01-01 00:00 UTC (freeze: Data centre move)"),
        "the page says what it waits for"
    );
}

async fn a_run_started_before_a_crash_is_found_not_started_again(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let id = submit(&app, "ada", "banking", "staging", "2.4.0").await;
    approve(&app, "ben", id).await.expect("ben");
    // The worker recorded "triggering" and called the CI, then the process died before it
    // recorded the run: the state a crash at that moment leaves.
    let key = format!("runway-{id}-provision-1");
    let target = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/demo/provision.sh");
    let mut tx = app.state.db.write().await.expect("tx");
    server::db::dispatch::insert_triggering(
        &mut tx,
        &server::db::dispatch::NewRun {
            request_id: id,
            target_id: "",
            step: "provision",
            attempt: 1,
            connector: "shell",
            target,
            run_key: &key,
            now: server::db::now_ms(),
        },
    )
    .await
    .expect("triggering");
    // As the dispatch leaves it when it crashes right after recording the run.
    sqlx::query("update requests set state = 'provisioning' where request_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await
        .expect("state");
    sqlx::query(
        "update dispatch_jobs set state = 'running', lease_until = 1 where request_id = $1",
    )
    .bind(id)
    .execute(&mut **tx)
    .await
    .expect("lease");
    tx.commit().await.expect("commit");
    let params = [
        ("RUNWAY_SITE".to_owned(), "banking-staging".to_owned()),
        ("DEMO_PAUSE".to_owned(), "0".to_owned()),
    ]
    .into();
    Shell::new(&app.state.settings.data_dir)
        .start(&StartJob {
            key: &key,
            target,
            params: &params,
        })
        .await
        .expect("started");

    let catalog = app.catalog.clone();
    let (db, _) = app.stop().await;
    let app = start(db, catalog, WORKER).await;
    until_state(&app, id, "succeeded").await;
    let runs = runs(&app.state.db.pool, id).await.expect("runs");
    let provisions: Vec<_> = runs.iter().filter(|r| r.step == "provision").collect();
    assert_eq!(provisions.len(), 1, "one provision run: {runs:?}");
    assert_eq!(provisions[0].run_ref.as_deref(), Some(key.as_str()));
    let log = std::fs::read_to_string(app.state.settings.data_dir.join(format!("runs/{key}/log")))
        .expect("log");
    assert_eq!(
        log.matches("Provisioning banking-staging").count(),
        1,
        "{log}"
    );
}

async fn operations_retry_a_failed_step_and_stop_a_running_one(kind: Kind) {
    let Some(app) = spawn_app_with(kind, WORKER).await else {
        return;
    };
    let (olga, wes) = (app.user("olga").await, app.user("wes").await);
    let failing = submit(&app, "wes", "storefront", "staging", "5.0.0-fail").await;
    until_state(&app, failing, "failed").await;
    let refused = server::service::deployments::retry(
        &app.state,
        &wes,
        false,
        (failing, revision(&app, failing).await),
        None,
    )
    .await
    .expect_err("not ops");
    assert_eq!(
        refused.to_string(),
        "Only operations may retry or cancel a deployment."
    );
    let done = server::service::deployments::retry(
        &app.state,
        &olga,
        true,
        (failing, revision(&app, failing).await),
        None,
    )
    .await
    .expect("retried");
    assert_eq!(done, "The deployment will run again (attempt 2).");
    let _ = app.state.db.changes.send(failing);
    for _ in 0..300 {
        let runs = runs(&app.state.db.pool, failing).await.expect("runs");
        if runs.len() == 2 && runs[1].state == "failed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let attempts: Vec<(i64, String, String)> = runs(&app.state.db.pool, failing)
        .await
        .expect("runs")
        .into_iter()
        .map(|r| (r.attempt, r.run_key, r.state))
        .collect();
    assert_eq!(
        attempts,
        [
            (1, format!("runway-{failing}-deploy-1"), "failed".to_owned()),
            (2, format!("runway-{failing}-deploy-2"), "failed".to_owned()),
        ]
    );
    until_state(&app, failing, "failed").await;

    // A slow deployment, stopped while it runs.
    let text = std::fs::read_to_string(&app.catalog).expect("catalog");
    std::fs::write(
        &app.catalog,
        text.replace("DEMO_PAUSE = \"0\"", "DEMO_PAUSE = \"30\""),
    )
    .expect("write");
    app.state
        .catalog
        .apply_file(&app.state.db)
        .await
        .expect("applied");
    let slow = submit(&app, "wes", "storefront", "staging", "5.0.1").await;
    until_state(&app, slow, "deploying").await;
    let pid = run_pid(&app, &format!("runway-{slow}-deploy-1")).await;
    let said = stop_as_olga(&app, slow).await;
    assert_eq!(
        said,
        format!("Request #{slow} cancelled; its CI run was stopped.")
    );
    assert_eq!(state(&app, slow).await, "cancelled");
    let run = runs(&app.state.db.pool, slow)
        .await
        .expect("runs")
        .remove(0);
    assert_eq!(run.state, "cancelled");
    until_stopped(pid).await;
}

/// Operations cancel while the CI is starting the run: the worker called it but has not
/// recorded where the run lives (here, it died at that moment). The run is found by its key and
/// stopped all the same.
async fn a_run_cancelled_while_the_ci_starts_it_is_stopped(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    let id = submit(&app, "ada", "banking", "staging", "2.4.0").await;
    approve(&app, "ben", id).await.expect("ben");
    let key = format!("runway-{id}-provision-1");
    let target = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/demo/provision.sh");
    let mut tx = app.state.db.write().await.expect("tx");
    server::db::dispatch::insert_triggering(
        &mut tx,
        &server::db::dispatch::NewRun {
            request_id: id,
            target_id: "",
            step: "provision",
            attempt: 1,
            connector: "shell",
            target,
            run_key: &key,
            now: server::db::now_ms(),
        },
    )
    .await
    .expect("triggering");
    // As the dispatch leaves it when it crashes right after recording the run.
    sqlx::query("update requests set state = 'provisioning' where request_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await
        .expect("state");
    sqlx::query(
        "update dispatch_jobs set state = 'running', lease_until = $2 where request_id = $1",
    )
    .bind(id)
    .bind(server::db::now_ms() + 600_000)
    .execute(&mut **tx)
    .await
    .expect("lease");
    tx.commit().await.expect("commit");
    let params = [
        ("RUNWAY_SITE".to_owned(), "banking-staging".to_owned()),
        ("DEMO_PAUSE".to_owned(), "30".to_owned()),
    ]
    .into();
    Shell::new(&app.state.settings.data_dir)
        .start(&StartJob {
            key: &key,
            target,
            params: &params,
        })
        .await
        .expect("started");
    let pid = run_pid(&app, &key).await;
    assert!(running(pid), "the provision script runs");

    let said = stop_as_olga(&app, id).await;
    assert_eq!(
        said,
        format!("Request #{id} cancelled; its CI run was stopped.")
    );
    until_stopped(pid).await;
    let runs = runs(&app.state.db.pool, id).await.expect("runs");
    assert_eq!(step_states(&runs), [("provision", "cancelled")]);
    assert_eq!(state(&app, id).await, "cancelled");
}

/// Where `RUNWAY_CRASH_AT` can stop the dispatch worker, in the order a step passes them.
const KILL_POINTS: [&str; 5] = [
    "after_claim",
    "after_triggering",
    "after_trigger",
    "after_recorded",
    "after_poll",
];

/// The portal, as its own process, is killed (SIGKILL) at a random point of its dispatch work,
/// restarted, killed again elsewhere … then left to finish. Whatever the points, the request
/// succeeds with exactly one run per step, and each CI command ran exactly once.
async fn dispatch_survives_random_kill_points(kind: Kind) {
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    // Each step's command appends a line to one file: the number of lines is the number of runs.
    let calls = app.db.dir.path().join("calls");
    let text = std::fs::read_to_string(&app.catalog).expect("catalog");
    let from = text
        .find("[applications.environments.ci]")
        .expect("binding");
    let end = from + text[from..].find("\n\n").expect("end");
    let binding = format!(
        "[applications.environments.ci]\nconnector = \"shell\"\n\
         provision = {{ job = \"echo provision >> {calls}\" }}\n\
         deploy = {{ job = \"echo deploy >> {calls}\" }}",
        calls = calls.display()
    );
    let catalog = app.db.dir.path().join("counting.toml");
    std::fs::write(
        &catalog,
        format!("{}{binding}{}", &text[..from], &text[end..]),
    )
    .expect("catalog");
    let (db, _) = app.stop().await;
    let app = start(db, catalog.clone(), &[]).await;
    let id = submit(&app, "ada", "banking", "staging", "2.4.0").await;
    approve(&app, "ben", id).await.expect("ben");

    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(7);
    let mut rng = seed;
    let mut next = move || {
        // xorshift: enough to pick kill points, and the seed is printed to replay a failure.
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut kills = Vec::new();
    for _ in 0..6 {
        if state(&app, id).await == "succeeded" {
            break;
        }
        let point = format!("{}:{}", KILL_POINTS[(next() % 5) as usize], 1 + next() % 2);
        let mut child = portal_process(&app.db, &catalog, Some(&point));
        let mut died = false;
        for _ in 0..200 {
            if child.try_wait().expect("wait").is_some() {
                died = true;
                break;
            }
            if state(&app, id).await == "succeeded" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        kills.push(format!(
            "{point}{}",
            if died { "" } else { " (not reached)" }
        ));
        // A killed worker's lease would run out within a minute; end it now.
        sqlx::query(
            "update dispatch_jobs set lease_until = 0 where request_id = $1 and state = 'running'",
        )
        .bind(id)
        .execute(&app.state.db.pool)
        .await
        .expect("lease");
    }
    // Then a portal that is left alone finishes the work.
    let mut child = portal_process(&app.db, &catalog, None);
    for _ in 0..300 {
        if state(&app, id).await == "succeeded" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    let context = format!("seed {seed}, kills {kills:?}");
    assert_eq!(state(&app, id).await, "succeeded", "{context}");
    let runs = runs(&app.state.db.pool, id).await.expect("runs");
    assert_eq!(
        step_states(&runs),
        [("provision", "succeeded"), ("deploy", "succeeded")],
        "{context}"
    );
    assert!(runs.iter().all(|r| r.attempt == 1), "{context}");
    let lines = std::fs::read_to_string(&calls).unwrap_or_default();
    assert_eq!(
        lines, "provision\ndeploy\n",
        "each command ran once: {context}"
    );
    assert_eq!(events_of(&app, id, "step_started").await, 2, "{context}");
}

crate::on_both_databases!(
    dispatch_survives_random_kill_points,
    operations_retry_a_failed_step_and_stop_a_running_one,
    an_approved_request_is_provisioned_then_deployed,
    a_failing_deploy_fails_the_request_with_the_ci_message,
    a_stored_version_that_climbs_folders_never_reaches_the_ci,
    a_freeze_holds_the_deployment_and_says_until_when,
    a_run_started_before_a_crash_is_found_not_started_again,
    a_run_cancelled_while_the_ci_starts_it_is_stopped,
);
