//! The API against its own OpenAPI document, checked by a tool no one here wrote: Schemathesis
//! (from PyPI, in the venv `make schemathesis` installs: `.tools/schemathesis`, or the one
//! `RUNWAY_TEST_SCHEMATHESIS` names) runs every check it has, the stateful phase included, and
//! must find nothing. Its generation is deterministic, so a failure can be replayed;
//! `SCHEMATHESIS_SEED=<n>` explores with a random seed instead.

use crate::helpers::*;
use crate::pipeline_api::token_as;
use std::path::PathBuf;

const HOOKS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/contract");

fn schemathesis() -> Option<PathBuf> {
    let dir = std::env::var_os("RUNWAY_TEST_SCHEMATHESIS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../.tools/schemathesis"
            ))
        });
    let bin = dir.join("bin/schemathesis");
    if bin.exists() {
        return Some(bin);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "Schemathesis is required on CI but not installed in {} (run `make schemathesis`)",
        dir.display()
    );
    eprintln!(
        "!!! SKIPPED: no Schemathesis in {} (run `make schemathesis`)",
        dir.display()
    );
    None
}

async fn schemathesis_finds_nothing(kind: Kind) {
    let Some(bin) = schemathesis() else {
        return;
    };
    let Some(app) = spawn_app(kind).await else {
        return;
    };
    // Ada may request banking; storefront is refused to her (403), as the policy says.
    let scopes = [
        "gate:read",
        "requests:write",
        "events:write",
        "audit:read",
        "metrics:read",
    ];
    let secret = token_as(&app, "contract", "ada", &scopes, &["*"]).await;
    let seed = std::env::var("SCHEMATHESIS_SEED").ok();
    let generation = match &seed {
        Some(seed) => vec!["--seed", seed.as_str()],
        None => vec!["--generation-deterministic"],
    };
    let report = tempfile::tempdir().expect("report dir");
    // The document names the catalog's applications only to a live token: it is read with one.
    let described = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .bearer_auth(&secret)
        .send()
        .await
        .expect("document")
        .text()
        .await
        .expect("document text");
    assert!(
        described.contains("\"banking\""),
        "the applications are named"
    );
    let document = report.path().join("openapi.json");
    std::fs::write(&document, described).expect("document written");
    let run = tokio::process::Command::new(&bin)
        .args([
            "--no-color",
            "--config-file",
            &format!("{HOOKS}/schemathesis.toml"),
        ])
        .args([
            "run",
            &document.display().to_string(),
            "--url",
            &app.url("/"),
        ])
        .args([
            "--checks",
            "all",
            "--phases",
            "examples,coverage,fuzzing,stateful",
        ])
        .args(["--max-examples", "60", "--workers", "1"])
        .args(generation)
        .args(["--suppress-health-check", "all"])
        .env("RUNWAY_CONTRACT_TOKEN", &secret)
        .env("PYTHONPATH", HOOKS)
        .env("SCHEMATHESIS_HOOKS", "runway_hooks")
        .current_dir(report.path())
        .kill_on_drop(true)
        .output()
        .await
        .expect("schemathesis runs");
    let out = String::from_utf8_lossy(&run.stdout);
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success(),
        "Schemathesis found something (seed {seed:?}):\n{out}\n{err}"
    );
    assert!(
        out.contains("No issues found"),
        "Schemathesis ran but did not say it found nothing:\n{out}\n{err}"
    );
    eprintln!(
        "{}",
        out.lines()
            .rev()
            .take(12)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

crate::on_both_databases!(schemathesis_finds_nothing);
