//! The `runway` binary's subcommands, run as a user would.

use crate::helpers::*;
use std::io::Write;
use std::process::{Command, Output, Stdio};

pub(crate) fn runway(args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_runway"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn runway");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write");
    child.wait_with_output().expect("wait")
}

pub(crate) fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn catalog_check_accepts_the_demo_and_names_the_line_of_a_mistake() {
    let demo = demo_catalog();
    let ok = runway(&["catalog", "check", demo.to_str().expect("path")], &[], "");
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(text(&ok).contains("is valid: 5 teams, 2 applications, 4 environments"));

    let dir = tempfile::tempdir().expect("dir");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[[teams]]\nid = \"a\"\nname = \"A\"\n\n[[applications]]\nid = \"x\"\nname = \"X\"\nowner = \"b\"\nenvironments = []\n").expect("write");
    let out = runway(&["catalog", "check", bad.to_str().expect("path")], &[], "");
    assert!(!out.status.success());
    let message = text(&out);
    assert!(
        message.contains("bad.toml:8: applications[0].owner: unknown team \"b\""),
        "{message}"
    );
    assert!(
        message
            .contains("bad.toml:9: applications[0].environments: needs at least one environment"),
        "{message}"
    );
}

#[test]
fn an_unknown_or_malformed_setting_stops_the_server_with_its_name() {
    let out = runway(&["serve"], &[("RUNWAY_LISTNE", "127.0.0.1:1")], "");
    assert!(!out.status.success());
    assert!(
        text(&out).contains("RUNWAY_LISTNE is not a Runway setting"),
        "{}",
        text(&out)
    );
    let out = runway(&[], &[("RUNWAY_LISTEN", "somewhere")], "");
    assert!(!out.status.success());
    assert!(
        text(&out).contains("RUNWAY_LISTEN=\"somewhere\" is not valid"),
        "{}",
        text(&out)
    );
}

#[tokio::test]
async fn user_add_then_passwd_then_sign_in() {
    let db = TestDb::new(Kind::Sqlite).await.expect("sqlite");
    let catalog = demo_catalog();
    let env = [
        ("RUNWAY_DATABASE_URL", db.url.as_str()),
        ("RUNWAY_CATALOG", catalog.to_str().expect("path")),
    ];
    let add = runway(
        &[
            "user",
            "add",
            "grace",
            "--team",
            "fintech,cab",
            "--display-name",
            "Grace Hopper",
        ],
        &env,
        "first-password\n",
    );
    assert!(add.status.success(), "{}", text(&add));
    assert!(
        !text(&add).contains("first-password"),
        "a typed password is never echoed"
    );

    let again = runway(
        &["user", "add", "grace", "--team", "fintech"],
        &env,
        "first-password\n",
    );
    assert!(!again.status.success());
    assert!(
        text(&again).contains("username: A user named grace already exists"),
        "{}",
        text(&again)
    );

    let unknown = runway(
        &["user", "add", "hal", "--team", "nasa"],
        &env,
        "whatever-pass\n",
    );
    assert!(!unknown.status.success());
    assert!(
        text(&unknown).contains("teams: The catalog has no team nasa"),
        "{}",
        text(&unknown)
    );

    let generated = runway(&["user", "passwd", "grace"], &env, "");
    assert!(generated.status.success(), "{}", text(&generated));
    let out = text(&generated);
    let password = out
        .lines()
        .find_map(|l| l.strip_prefix("generated password (shown once): "))
        .expect("generated password printed")
        .to_owned();

    let app = start(db, catalog, &[("RUNWAY_DEMO", "false")]).await;
    assert!(location(&app.login("grace", "first-password").await).contains("error=credentials"));
    assert_eq!(location(&app.login("grace", &password).await), "/");
    let home = app.get_html("/").await;
    assert!(home.contains("Grace Hopper") && home.contains("Banking"));
}
