//! Chat: notifications posted to teams' and applications' incoming webhooks (Slack-compatible
//! JSON), received here by a local HTTP server that refuses its first post to test the retry.

use crate::helpers::*;
use crate::requests::{approve, decide, draft, submit};
use server::service::requests::Verdict;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the receiver got: (channel, text), and how many posts it still refuses.
#[derive(Default)]
struct Received {
    posts: Vec<(String, String)>,
    refuse: usize,
}

type Shared = Arc<Mutex<Received>>;

async fn hook(
    axum::extract::State(got): axum::extract::State<Shared>,
    axum::extract::Path(channel): axum::extract::Path<String>,
    axum::Json(body): axum::Json<serde_json::Value>,
) -> axum::http::StatusCode {
    let mut got = got.lock().expect("received");
    if got.refuse > 0 {
        got.refuse -= 1;
        return axum::http::StatusCode::SERVICE_UNAVAILABLE;
    }
    let text = body["text"].as_str().unwrap_or_default().to_owned();
    got.posts.push((channel, text));
    axum::http::StatusCode::OK
}

async fn receiver(refuse: usize) -> (Shared, String) {
    let got: Shared = Arc::new(Mutex::new(Received {
        refuse,
        ..Received::default()
    }));
    let app = axum::Router::new()
        .route("/hooks/{channel}", axum::routing::post(hook))
        .with_state(got.clone());
    (got, serve(app).await)
}

fn posts(got: &Shared, channel: &str) -> Vec<String> {
    got.lock()
        .expect("received")
        .posts
        .iter()
        .filter(|(c, _)| c == channel)
        .map(|(_, t)| t.clone())
        .collect()
}

async fn wait_for(got: &Shared, channel: &str, count: usize, limit: Duration) -> Vec<String> {
    let started = Instant::now();
    loop {
        let now = posts(got, channel);
        if now.len() >= count {
            return now;
        }
        assert!(
            started.elapsed() < limit,
            "{channel}: {} of {count} posts in {} s",
            now.len(),
            limit.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn teams_and_applications_hear_in_their_channels(kind: Kind) {
    let Some(db) = TestDb::new(kind).await else {
        return;
    };
    // The first post (the CAB's, or the application's) is refused: it is tried again.
    let (got, base) = receiver(1).await;
    let suffix = format!("{kind:?}").to_uppercase();
    let (cab_env, app_env) = (
        format!("CHAT_TEST_CAB_{suffix}"),
        format!("CHAT_TEST_BANKING_{suffix}"),
    );
    std::env::set_var(&cab_env, format!("{base}/hooks/cab"));
    std::env::set_var(&app_env, format!("{base}/hooks/banking"));
    let catalog = test_catalog(&db);
    let text = std::fs::read_to_string(&catalog)
        .expect("catalog")
        .replace("\"CHAT_WEBHOOK_CAB\"", &format!("\"{cab_env}\""))
        .replace(
            "owner = \"banking-owners\"\n",
            &format!("owner = \"banking-owners\"\nchat_webhook_env = \"{app_env}\"\n"),
        );
    std::fs::write(&catalog, text).expect("catalog");
    let app = start(db, catalog, &[]).await;

    let ada = app.user("ada").await;
    let id = submit(&app, &ada, "banking", "production", &draft("2.4.0"))
        .await
        .expect("submitted");
    approve(&app, "ben", id).await.expect("ben approves");
    let comment = "Not <b>now</b> & not before the audit";
    decide(&app, "cleo", id, Verdict::Reject, comment)
        .await
        .expect("rejected");

    // The application's channel hears of everything, the CAB of what is asked of it; the
    // refused post arrives on its second try (5 s later).
    let limit = Duration::from_secs(30);
    let banking = wait_for(&got, "banking", 3, limit).await;
    let cab = wait_for(&got, "cab", 1, limit).await;
    let link = format!(
        "<{}/requests/{id}|Open request #{id}>",
        app.state.settings.public_url.trim_end_matches('/')
    );
    assert_eq!(
        cab[0],
        format!("*Approval needed: Banking 2.4.0 to Production, from Ada Lovelace*\n{link}")
    );
    assert!(
        banking.iter().any(|t| t.starts_with("*Rejected: Banking 2.4.0 to Production*\nNot &lt;b&gt;now&lt;/b&gt; &amp; not before the audit\n")),
        "escaped as Slack's markup needs: {banking:#?}"
    );
    assert_eq!(
        banking
            .iter()
            .filter(|t| t.starts_with("*Approval needed"))
            .count(),
        2,
        "both stages: {banking:#?}"
    );
    assert_eq!(posts(&got, "cab").len(), 1, "each message once");

    // Administrators see the chat outbox; the retry shows in its tries.
    let rows = server::db::chat::recent(&app.state.db, 50)
        .await
        .expect("chat outbox");
    assert!(rows.iter().all(|r| r.state == "sent"), "{rows:#?}");
    assert!(rows.iter().any(|r| r.attempts == 2), "{rows:#?}");
    app.login_as("root").await;
    let page = app.get_html("/admin/mail").await;
    assert!(page.contains("data-testid=\"chat\""), "{page}");
    assert!(page.contains(&cab_env), "{page}");
}

crate::on_both_databases!(teams_and_applications_hear_in_their_channels);
