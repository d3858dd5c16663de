//! Chat: a notification posted to the incoming webhooks of the channels it reaches, as
//! Slack-compatible JSON (`{"text": …}`, which Mattermost and Rocket.Chat also take). The
//! addresses carry secrets, so the catalog names environment variables that hold them.

use crate::db::chat::{self, ChatRow};
use crate::db::{now_ms, Db};
use crate::domain::notice::{Audience, Notice};
use crate::domain::Catalog;

/// Tries before a message is marked failed.
const TRIES: i64 = 8;
/// How long a worker holds a message it is posting.
const LEASE_MS: i64 = 60_000;

/// The channels that hear of `notice` about a request of `app_id`: those of the teams it is
/// addressed to and the application's own (which hears of everything but what only operations
/// are told, since the requester's copy of that reaches it). Only webhooks whose variable is set.
pub fn channels(catalog: &Catalog, app_id: &str, notice: &Notice) -> Vec<String> {
    let teams: Vec<&str> = match &notice.audience {
        Audience::Requester => Vec::new(),
        Audience::Approvers { teams, .. } => teams.iter().map(String::as_str).collect(),
        Audience::Team(team) => vec![team.as_str()],
        Audience::Operations => catalog
            .teams
            .iter()
            .filter(|t| t.ops)
            .map(|t| t.id.as_str())
            .collect(),
    };
    let mut envs: Vec<String> = teams
        .iter()
        .filter_map(|t| catalog.team(t)?.chat_webhook_env.clone())
        .collect();
    if notice.audience != Audience::Operations {
        envs.extend(
            catalog
                .application(app_id)
                .and_then(|a| a.chat_webhook_env.clone()),
        );
    }
    envs.sort();
    envs.dedup();
    envs.retain(|e| address(e).is_some());
    envs
}

fn address(env: &str) -> Option<String> {
    std::env::var(env).ok().filter(|v| !v.trim().is_empty())
}

/// The message: the subject in bold, the detail, and a link to the request. Slack's markup
/// reads `&`, `<` and `>` as its own, so they are escaped in what people typed.
pub fn payload(text: &str, public_url: &str, request_id: i64) -> serde_json::Value {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let (subject, detail) = text.split_once('\n').unwrap_or((text, ""));
    let mut out = format!("*{}*", escape(subject));
    if !detail.trim().is_empty() {
        out.push('\n');
        out.push_str(&escape(detail));
    }
    out.push_str(&format!(
        "\n<{}/requests/{request_id}|Open request #{request_id}>",
        public_url.trim_end_matches('/')
    ));
    serde_json::json!({ "text": out })
}

/// Posts every chat message due now; returns how many went.
pub async fn deliver_due(
    db: &Db,
    client: &reqwest::Client,
    public_url: &str,
) -> Result<usize, sqlx::Error> {
    let mut sent = 0;
    for m in chat::due(db, now_ms(), 50).await? {
        if !chat::lease(db, &m, now_ms() + LEASE_MS).await? {
            continue;
        }
        sent += usize::from(post(db, client, public_url, &m).await?);
    }
    Ok(sent)
}

async fn post(
    db: &Db,
    client: &reqwest::Client,
    public_url: &str,
    m: &ChatRow,
) -> Result<bool, sqlx::Error> {
    let outcome = match address(&m.webhook_env) {
        None => Err(format!(
            "the environment variable {} is not set",
            m.webhook_env
        )),
        Some(url) => match client
            .post(url)
            .json(&payload(&m.body, public_url, m.request_id))
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => Err(format!("the webhook answered {}", r.status())),
            // The error names the address, which holds a secret: say only what went wrong.
            Err(e) if e.is_timeout() => Err("the webhook did not answer in time".to_owned()),
            Err(_) => Err("the webhook could not be reached".to_owned()),
        },
    };
    let now = now_ms();
    match outcome {
        Ok(()) => {
            chat::attempted(db, m.id, "sent", now, "", now).await?;
            tracing::info!(channel = %m.webhook_env, request = m.request_id, "chat message posted");
            Ok(true)
        }
        Err(error) => {
            let attempt = m.attempts + 1;
            let (state, next) = if attempt < TRIES {
                (
                    "queued",
                    now + super::worker::backoff(attempt).as_millis() as i64,
                )
            } else {
                ("failed", now)
            };
            tracing::warn!(channel = %m.webhook_env, request = m.request_id, attempt, %error, "chat message not posted");
            chat::attempted(db, m.id, state, next, &error, now).await?;
            Ok(false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payload_escapes_what_people_typed_and_links_the_request() {
        let p = payload(
            "Rejected: Banking 2.4.0 to Production\nNot during <the> close & audit",
            "https://runway.example/",
            42,
        );
        assert_eq!(
            p["text"],
            "*Rejected: Banking 2.4.0 to Production*\nNot during &lt;the&gt; close &amp; audit\n<https://runway.example/requests/42|Open request #42>"
        );
    }
}
