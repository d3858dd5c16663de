//! The Jenkins, GitLab and GitHub connectors against a local mock server that answers as the
//! documented APIs do: the requests they send, how they read the answers, errors and fallbacks.

use crate::helpers::serve;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use server::ci::{self, CiConnector, CiError, RunState, StartJob};
use server::domain::{CiBinding, ConnectorKind};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// One request the mock received.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    headers: HeaderMap,
    body: String,
}

/// A canned answer: status, headers, body.
type Canned = (u16, Vec<(&'static str, String)>, String);

#[derive(Default)]
struct Mock {
    answers: HashMap<String, Vec<Canned>>,
    seen: Vec<Seen>,
}

#[derive(Clone)]
struct Server {
    mock: Arc<Mutex<Mock>>,
    base: String,
}

impl Server {
    async fn start() -> Server {
        let mock = Arc::new(Mutex::new(Mock::default()));
        let app = axum::Router::new()
            .fallback(answer)
            .with_state(mock.clone());
        let base = serve(app).await;
        Server { mock, base }
    }

    /// Answers `METHOD /path[?query]` with `status` and `body` (JSON unless it starts otherwise);
    /// several answers to one request are given in turn, the last one repeating.
    fn on(&self, request: &str, status: u16, body: &str) {
        self.on_with(request, status, vec![], body);
    }

    fn on_with(
        &self,
        request: &str,
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: &str,
    ) {
        self.mock
            .lock()
            .expect("mock")
            .answers
            .entry(request.to_owned())
            .or_default()
            .push((status, headers, body.to_owned()));
    }

    fn clear(&self, request: &str) {
        self.mock.lock().expect("mock").answers.remove(request);
    }

    fn seen(&self, method: &str, path: &str) -> Vec<Seen> {
        self.mock
            .lock()
            .expect("mock")
            .seen
            .iter()
            .filter(|s| s.method == method && s.path == path)
            .cloned()
            .collect()
    }
}

async fn answer(
    State(mock): State<Arc<Mutex<Mock>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let mut mock = mock.lock().expect("mock");
    mock.seen.push(Seen {
        method: method.to_string(),
        path: path.clone(),
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let key = format!("{method} {path}");
    let bare = format!("{method} {}", uri.path());
    let canned = [key, bare].iter().find_map(|k| {
        let list = mock.answers.get_mut(k)?;
        Some(if list.len() > 1 {
            list.remove(0)
        } else {
            list[0].clone()
        })
    });
    match canned {
        Some((status, extra, body)) => {
            let mut response =
                (StatusCode::from_u16(status).expect("status"), body.clone()).into_response();
            if body.starts_with('{') || body.starts_with('[') {
                response
                    .headers_mut()
                    .insert("content-type", "application/json".parse().expect("header"));
            }
            for (name, value) in extra {
                response
                    .headers_mut()
                    .insert(name, value.parse().expect("header"));
            }
            response
        }
        None => (StatusCode::NOT_FOUND, r#"{"message":"404 Not Found"}"#).into_response(),
    }
}

fn binding(kind: ConnectorKind, settings: &[(&str, &str)]) -> CiBinding {
    CiBinding {
        connector: kind,
        settings: settings
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        // The connector needs its settings only: the jobs come with each start.
        targets: Vec::new(),
        parallel: false,
    }
}

fn connector(kind: ConnectorKind, settings: &[(&str, &str)]) -> Box<dyn CiConnector> {
    // Every test uses the same values, so setting them concurrently is harmless.
    std::env::set_var("CI_MOCK_TOKEN", "s3cret-token");
    std::env::set_var("CI_MOCK_TRIGGER", "trigger-token");
    ci::connector(
        &binding(kind, settings),
        std::path::Path::new("/nonexistent"),
    )
    .expect("connector")
}

fn params() -> BTreeMap<String, String> {
    [
        ("APPLICATION".to_owned(), "banking".to_owned()),
        ("VERSION".to_owned(), "2.4.0".to_owned()),
    ]
    .into()
}

fn job<'a>(target: &'a str, params: &'a BTreeMap<String, String>) -> StartJob<'a> {
    StartJob {
        key: "runway-7-deploy-1",
        target,
        params,
    }
}

// ------------------------------------------------------------------------------------ GitLab

fn gitlab(server: &Server, extra: &[(&str, &str)]) -> Box<dyn CiConnector> {
    let mut settings = vec![
        ("url", server.base.as_str()),
        ("project", "payments/banking"),
        ("token_env", "CI_MOCK_TOKEN"),
    ];
    settings.extend_from_slice(extra);
    connector(ConnectorKind::Gitlab, &settings)
}

const GL: &str = "/api/v4/projects/payments%2Fbanking";

#[tokio::test]
async fn gitlab_creates_follows_and_cancels_a_pipeline() {
    let server = Server::start().await;
    let gl = gitlab(&server, &[]);
    server.on(
        &format!("POST {GL}/pipeline"),
        201,
        r#"{"id":77,"iid":3,"status":"created","web_url":"https://gitlab.example/payments/banking/-/pipelines/77"}"#,
    );
    let params = params();
    let run = gl.start(&job("main", &params)).await.expect("started");
    assert_eq!(run.id, "77");
    assert_eq!(
        run.url.as_deref(),
        Some("https://gitlab.example/payments/banking/-/pipelines/77")
    );
    let sent = &server.seen("POST", &format!("{GL}/pipeline"))[0];
    assert_eq!(sent.headers["private-token"], "s3cret-token");
    let body: serde_json::Value = serde_json::from_str(&sent.body).expect("json");
    assert_eq!(body["ref"], "main");
    let variables = body["variables"].as_array().expect("variables");
    assert!(variables.contains(&serde_json::json!({"key": "VERSION", "value": "2.4.0"})));
    assert!(
        variables.contains(&serde_json::json!({"key": "RUNWAY_KEY", "value": "runway-7-deploy-1"}))
    );

    server.on(
        &format!("GET {GL}/pipelines/77"),
        200,
        r#"{"id":77,"status":"running","web_url":"https://gitlab.example/p/77"}"#,
    );
    server.on(
        &format!("GET {GL}/pipelines/77/jobs"),
        200,
        r#"[{"id":901,"name":"deploy","started_at":"2026-11-28T10:00:00Z"},{"id":900,"name":"build","started_at":"2026-11-28T09:58:00Z"}]"#,
    );
    server.on(
        &format!("GET {GL}/jobs/901/trace"),
        200,
        "Deploying 2.4.0\nhealth ok\n",
    );
    let status = gl.status("77").await.expect("status");
    assert_eq!(status.state, RunState::Running);
    assert!(
        status.log_tail.contains("[deploy]\nDeploying 2.4.0"),
        "{}",
        status.log_tail
    );

    server.clear(&format!("GET {GL}/pipelines/77"));
    server.on(
        &format!("GET {GL}/pipelines/77"),
        200,
        r#"{"id":77,"status":"failed"}"#,
    );
    let status = gl.status("77").await.expect("status");
    assert_eq!(status.state, RunState::Failed);
    assert_eq!(
        status.message.as_deref(),
        Some("GitLab: pipeline 77 failed")
    );

    server.on(
        &format!("POST {GL}/pipelines/77/cancel"),
        200,
        r#"{"id":77,"status":"canceled"}"#,
    );
    gl.cancel("77").await.expect("cancelled");
    assert_eq!(
        server
            .seen("POST", &format!("{GL}/pipelines/77/cancel"))
            .len(),
        1
    );
}

#[tokio::test]
async fn gitlab_with_a_trigger_token_posts_the_documented_form() {
    let server = Server::start().await;
    let gl = gitlab(&server, &[("trigger_token_env", "CI_MOCK_TRIGGER")]);
    server.on(
        &format!("POST {GL}/trigger/pipeline"),
        201,
        r#"{"id":78,"status":"created","web_url":"https://gitlab.example/p/78"}"#,
    );
    let params = params();
    assert_eq!(
        gl.start(&job("main", &params)).await.expect("started").id,
        "78"
    );
    let form = &server.seen("POST", &format!("{GL}/trigger/pipeline"))[0].body;
    let fields: HashMap<String, String> = serde_urlencoded::from_str(form).expect("form");
    assert_eq!(fields["token"], "trigger-token");
    assert_eq!(fields["ref"], "main");
    assert_eq!(fields["variables[VERSION]"], "2.4.0");
    assert_eq!(fields["variables[RUNWAY_KEY]"], "runway-7-deploy-1");
}

#[tokio::test]
async fn gitlab_finds_a_pipeline_by_its_key() {
    let server = Server::start().await;
    let gl = gitlab(&server, &[]);
    server.on(
        &format!("GET {GL}/pipelines?ref=main&order_by=id&sort=desc&per_page=30"),
        200,
        r#"[{"id":80,"web_url":"u80"},{"id":79,"web_url":"u79"}]"#,
    );
    server.on(
        &format!("GET {GL}/pipelines/80/variables"),
        200,
        r#"[{"key":"RUNWAY_KEY","value":"runway-9-deploy-1"}]"#,
    );
    server.on(
        &format!("GET {GL}/pipelines/79/variables"),
        200,
        r#"[{"key":"RUNWAY_KEY","value":"runway-7-deploy-1"}]"#,
    );
    let found = gl.find("runway-7-deploy-1", "main").await.expect("find");
    assert_eq!(found.map(|r| r.id).as_deref(), Some("79"));
    assert!(gl
        .find("runway-1-deploy-1", "main")
        .await
        .expect("find")
        .is_none());
}

#[tokio::test]
async fn gitlab_errors_say_whether_to_retry() {
    let server = Server::start().await;
    let gl = gitlab(&server, &[]);
    let params = params();
    server.on(
        &format!("POST {GL}/pipeline"),
        400,
        r#"{"message":{"base":["Reference not found"]}}"#,
    );
    match gl.start(&job("nope", &params)).await {
        Err(CiError::Config(m)) => assert!(m.contains("Reference not found"), "{m}"),
        other => panic!("a 400 is a configuration error: {other:?}"),
    }
    server.clear(&format!("POST {GL}/pipeline"));
    server.on(
        &format!("POST {GL}/pipeline"),
        502,
        "<html>Bad gateway</html>",
    );
    assert!(matches!(
        gl.start(&job("main", &params)).await,
        Err(CiError::Transient(_))
    ));
    server.clear(&format!("POST {GL}/pipeline"));
    server.on(
        &format!("POST {GL}/pipeline"),
        401,
        r#"{"message":"401 Unauthorized"}"#,
    );
    match gl.start(&job("main", &params)).await {
        Err(CiError::Config(m)) => assert!(m.contains("401"), "{m}"),
        other => panic!("a 401 is a configuration error: {other:?}"),
    }
    // Nothing listens there: worth retrying.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}", l.local_addr().expect("address"))
    };
    let down = connector(
        ConnectorKind::Gitlab,
        &[
            ("url", &closed),
            ("project", "1"),
            ("token_env", "CI_MOCK_TOKEN"),
        ],
    );
    assert!(matches!(
        down.start(&job("main", &params)).await,
        Err(CiError::Transient(_))
    ));
}

// ------------------------------------------------------------------------------------ GitHub

fn github(server: &Server) -> Box<dyn CiConnector> {
    connector(
        ConnectorKind::Github,
        &[
            ("api_url", server.base.as_str()),
            ("repo", "acme/banking"),
            ("token_env", "CI_MOCK_TOKEN"),
            ("ref", "main"),
        ],
    )
}

const GH: &str = "/repos/acme/banking/actions";

#[tokio::test]
async fn github_dispatches_with_run_details_and_follows_the_run() {
    let server = Server::start().await;
    let gh = github(&server);
    server.on(
        &format!("POST {GH}/workflows/deploy.yml/dispatches"),
        200,
        r#"{"workflow_run_id":5501,"run_url":"https://api.github.com/repos/acme/banking/actions/runs/5501","html_url":"https://github.com/acme/banking/actions/runs/5501"}"#,
    );
    let params = params();
    let run = gh
        .start(&job("deploy.yml", &params))
        .await
        .expect("started");
    assert_eq!(run.id, "5501");
    assert_eq!(
        run.url.as_deref(),
        Some("https://github.com/acme/banking/actions/runs/5501")
    );
    let sent = &server.seen("POST", &format!("{GH}/workflows/deploy.yml/dispatches"))[0];
    assert_eq!(sent.headers["authorization"], "Bearer s3cret-token");
    assert_eq!(sent.headers["accept"], "application/vnd.github+json");
    let body: serde_json::Value = serde_json::from_str(&sent.body).expect("json");
    assert_eq!(body["ref"], "main");
    assert_eq!(body["return_run_details"], true);
    assert_eq!(body["inputs"]["VERSION"], "2.4.0");
    assert_eq!(body["inputs"]["runway_key"], "runway-7-deploy-1");

    server.on(&format!("GET {GH}/runs/5501"), 200, r#"{"id":5501,"status":"in_progress","conclusion":null,"html_url":"https://github.com/acme/banking/actions/runs/5501"}"#);
    server.on(
        &format!("GET {GH}/runs/5501/jobs"),
        200,
        r#"{"jobs":[{"name":"deploy","status":"in_progress","conclusion":null,"steps":[{"name":"Check out","status":"completed","conclusion":"success"},{"name":"Deploy","status":"in_progress","conclusion":null}]}]}"#,
    );
    let status = gh.status("5501").await.expect("status");
    assert_eq!(status.state, RunState::Running);
    assert_eq!(
        status.log_tail,
        "deploy — in progress\n  Check out — success\n  Deploy — in progress"
    );

    server.clear(&format!("GET {GH}/runs/5501"));
    server.on(
        &format!("GET {GH}/runs/5501"),
        200,
        r#"{"id":5501,"status":"completed","conclusion":"timed_out"}"#,
    );
    let status = gh.status("5501").await.expect("status");
    assert_eq!(status.state, RunState::Failed);
    assert_eq!(
        status.message.as_deref(),
        Some("GitHub Actions: run 5501 ended with timed out")
    );

    server.on(
        &format!("POST {GH}/runs/5501/cancel"),
        409,
        r#"{"message":"Cannot cancel a workflow run that is completed."}"#,
    );
    gh.cancel("5501")
        .await
        .expect("a finished run needs no cancelling");
}

#[tokio::test]
async fn github_without_run_details_falls_back_to_listing_runs() {
    let server = Server::start().await;
    let gh = github(&server);
    let dispatches = format!("POST {GH}/workflows/deploy.yml/dispatches");
    // An older server refuses the field, then accepts the plain dispatch.
    server.on(
        &dispatches,
        400,
        r#"{"message":"Invalid request.\n\n\"return_run_details\" is not a permitted key."}"#,
    );
    server.on(&dispatches, 204, "");
    server.on(
        &format!("GET {GH}/workflows/deploy.yml/runs?event=workflow_dispatch&per_page=50"),
        200,
        r#"{"workflow_runs":[{"id":6001,"display_title":"runway-3-deploy-1","html_url":"h6001"},{"id":6002,"display_title":"runway-7-deploy-1","html_url":"h6002"}]}"#,
    );
    let params = params();
    let run = gh
        .start(&job("deploy.yml", &params))
        .await
        .expect("started");
    assert_eq!(
        (run.id.as_str(), run.url.as_deref()),
        ("6002", Some("h6002"))
    );
    let sent = server.seen("POST", &format!("{GH}/workflows/deploy.yml/dispatches"));
    assert_eq!(sent.len(), 2);
    let second: serde_json::Value = serde_json::from_str(&sent[1].body).expect("json");
    assert!(second.get("return_run_details").is_none());
    assert_eq!(second["inputs"]["runway_key"], "runway-7-deploy-1");
    // Recovery finds it the same way.
    let found = gh
        .find("runway-3-deploy-1", "deploy.yml")
        .await
        .expect("find");
    assert_eq!(found.map(|r| r.id).as_deref(), Some("6001"));
}

#[tokio::test]
async fn github_refuses_too_many_inputs_before_calling() {
    let server = Server::start().await;
    let gh = github(&server);
    let many: BTreeMap<String, String> =
        (0..25).map(|i| (format!("P{i}"), "x".to_owned())).collect();
    match gh.start(&job("deploy.yml", &many)).await {
        Err(CiError::Config(m)) => assert!(m.contains("at most 25"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(server
        .seen("POST", &format!("{GH}/workflows/deploy.yml/dispatches"))
        .is_empty());
}

// ----------------------------------------------------------------------------------- Jenkins

fn jenkins(server: &Server) -> Box<dyn CiConnector> {
    connector(
        ConnectorKind::Jenkins,
        &[
            ("url", server.base.as_str()),
            ("user", "deployer"),
            ("token_env", "CI_MOCK_TOKEN"),
        ],
    )
}

const JOB: &str = "/job/payments/job/deploy";

fn declares(server: &Server, names: &[&str]) {
    let defs: Vec<String> = names
        .iter()
        .map(|n| format!(r#"{{"name":"{n}"}}"#))
        .collect();
    server.on(
        &format!("GET {JOB}/api/json?tree=property[parameterDefinitions[name]]"),
        200,
        &format!(
            r#"{{"property":[{{}},{{"parameterDefinitions":[{}]}}]}}"#,
            defs.join(",")
        ),
    );
}

#[tokio::test]
async fn jenkins_builds_with_parameters_and_follows_queue_then_build() {
    let server = Server::start().await;
    let jk = jenkins(&server);
    declares(&server, &["APPLICATION", "VERSION", "RUNWAY_KEY"]);
    server.on_with(
        &format!("POST {JOB}/buildWithParameters"),
        201,
        vec![("location", format!("{}/queue/item/42/", server.base))],
        "",
    );
    let params = params();
    let run = jk
        .start(&job("payments/deploy", &params))
        .await
        .expect("started");
    assert_eq!(run.id, "payments/deploy#42#runway-7-deploy-1");
    let sent = &server.seen("POST", &format!("{JOB}/buildWithParameters"))[0];
    assert_eq!(
        sent.headers["authorization"],
        "Basic ZGVwbG95ZXI6czNjcmV0LXRva2Vu"
    );
    let form: HashMap<String, String> = serde_urlencoded::from_str(&sent.body).expect("form");
    assert_eq!(form["VERSION"], "2.4.0");
    assert_eq!(form["RUNWAY_KEY"], "runway-7-deploy-1");

    // Waiting in the queue.
    server.on(
        "GET /queue/item/42/api/json",
        200,
        r#"{"id":42,"why":"Waiting for next available executor"}"#,
    );
    assert_eq!(
        jk.status(&run.id).await.expect("status").state,
        RunState::Queued
    );

    // Then building, with a progressive log.
    let build = format!("{}{JOB}/12/", server.base);
    server.clear("GET /queue/item/42/api/json");
    server.on(
        "GET /queue/item/42/api/json",
        200,
        &format!(r#"{{"id":42,"executable":{{"number":12,"url":"{build}"}}}}"#),
    );
    server.on(
        &format!("GET {JOB}/12/api/json?tree=building,result"),
        200,
        r#"{"building":true,"result":null}"#,
    );
    server.on_with(
        &format!("GET {JOB}/12/logText/progressiveText?start=999999999999"),
        200,
        vec![("x-text-size", "30".into())],
        "",
    );
    server.on_with(
        &format!("GET {JOB}/12/logText/progressiveText?start=0"),
        200,
        vec![("x-text-size", "30".into()), ("x-more-data", "true".into())],
        "Started\nDeploying 2.4.0\n",
    );
    let status = jk.status(&run.id).await.expect("status");
    assert_eq!(status.state, RunState::Running);
    assert_eq!(status.url.as_deref(), Some(build.as_str()));
    assert_eq!(status.log_tail, "Started\nDeploying 2.4.0\n");

    // Five minutes later the queue has forgotten the item: the build is found by its key.
    server.clear("GET /queue/item/42/api/json");
    server.on(
        &format!("GET {JOB}/api/json?tree=builds[number,url,actions[parameters[name,value]]]{{0,50}}"),
        200,
        &format!(r#"{{"builds":[{{"number":13,"url":"x","actions":[{{"parameters":[{{"name":"RUNWAY_KEY","value":"other"}}]}}]}},{{"number":12,"url":"{build}","actions":[{{}},{{"parameters":[{{"name":"RUNWAY_KEY","value":"runway-7-deploy-1"}}]}}]}}]}}"#),
    );
    server.clear(&format!("GET {JOB}/12/api/json?tree=building,result"));
    server.on(
        &format!("GET {JOB}/12/api/json?tree=building,result"),
        200,
        r#"{"building":false,"result":"FAILURE"}"#,
    );
    let status = jk.status(&run.id).await.expect("status");
    assert_eq!(status.state, RunState::Failed);
    assert_eq!(
        status.message.as_deref(),
        Some("Jenkins: build #12 ended FAILURE")
    );

    server.on(&format!("POST {JOB}/12/stop"), 200, "");
    jk.cancel(&run.id).await.expect("stopped");
    assert_eq!(server.seen("POST", &format!("{JOB}/12/stop")).len(), 1);
}

#[tokio::test]
async fn jenkins_refuses_a_job_that_does_not_declare_the_parameters() {
    let server = Server::start().await;
    let jk = jenkins(&server);
    declares(&server, &["VERSION"]);
    let params = params();
    match jk.start(&job("payments/deploy", &params)).await {
        Err(CiError::Config(m)) => {
            assert!(m.contains("APPLICATION, RUNWAY_KEY"), "{m}");
        }
        other => panic!("{other:?}"),
    }
    assert!(server
        .seen("POST", &format!("{JOB}/buildWithParameters"))
        .is_empty());
    // An unknown job is named as such.
    match jk.start(&job("payments/nope", &params)).await {
        Err(CiError::Config(m)) => assert!(m.contains("no job payments/nope"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn jenkins_finds_a_queued_item_by_its_key_and_cancels_it() {
    let server = Server::start().await;
    let jk = jenkins(&server);
    server.on(
        "GET /queue/api/json?tree=items[id,actions[parameters[name,value]]]",
        200,
        r#"{"items":[{"id":50,"actions":[{"parameters":[{"name":"RUNWAY_KEY","value":"runway-7-deploy-1"}]}]}]}"#,
    );
    let found = jk
        .find("runway-7-deploy-1", "payments/deploy")
        .await
        .expect("find")
        .expect("found");
    assert_eq!(found.id, "payments/deploy#50#runway-7-deploy-1");
    server.on("GET /queue/item/50/api/json", 200, r#"{"id":50}"#);
    server.on("POST /queue/cancelItem?id=50", 204, "");
    jk.cancel(&found.id).await.expect("cancelled");
    assert_eq!(server.seen("POST", "/queue/cancelItem?id=50").len(), 1);
}
