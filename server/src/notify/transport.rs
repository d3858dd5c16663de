//! Where a message goes: an SMTP server (plain, STARTTLS or TLS, through lettre), or, without
//! one, a `.eml` file under the data folder's `mail/`, listed for admins.

use super::mail::Rendered;
use crate::config::Settings;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Clone)]
pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Folder(PathBuf),
}

/// Why a message did not go.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Worth trying again: the server is down, busy or timed out.
    #[error("{0}")]
    Transient(String),
    /// Trying again would not help: the address is refused, the message malformed.
    #[error("{0}")]
    Permanent(String),
}

impl Transport {
    /// The transport the settings name. A URL lettre cannot read is an error naming the setting;
    /// a server that cannot be reached is not (it is tried when there is mail).
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Transport> {
        let Some(url) = &settings.smtp_url else {
            return Ok(Transport::Folder(settings.data_dir.join("mail")));
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map_err(|e| {
            anyhow::anyhow!("RUNWAY_SMTP_URL={url:?} is not a usable SMTP URL: {e}")
        })?;
        let user = url
            .split_once("://")
            .and_then(|(_, rest)| rest.split(['/', '?']).next())
            .and_then(|authority| authority.rsplit_once('@'))
            .map(|(user, _)| user.to_owned());
        if let (Some(user), Some(password)) = (user, &settings.smtp_password) {
            builder = builder.credentials(Credentials::new(user, password.clone()));
        }
        Ok(Transport::Smtp(
            builder.timeout(Some(Duration::from_secs(20))).build(),
        ))
    }

    /// Says at start whether the server answers; a warning only, never a reason not to start.
    pub async fn check(&self) {
        match self {
            Transport::Smtp(smtp) => match smtp.test_connection().await {
                Ok(true) => tracing::info!("the SMTP server answers"),
                Ok(false) | Err(_) => tracing::warn!(
                    "the SMTP server does not answer now; mail waits in the outbox and is tried again"
                ),
            },
            Transport::Folder(dir) => tracing::info!(
                folder = %dir.display(),
                "no RUNWAY_SMTP_URL: mail is written as .eml files"
            ),
        }
    }

    /// Sends `message` to `to` from `from`, with the stable `message_id`.
    pub async fn send(
        &self,
        from: &str,
        to: &str,
        message_id: &str,
        rendered: &Rendered,
    ) -> Result<(), SendError> {
        let message = build(from, to, message_id, rendered)?;
        match self {
            Transport::Smtp(smtp) => smtp.send(message).await.map(|_| ()).map_err(|e| {
                if e.is_permanent() {
                    SendError::Permanent(format!("the SMTP server refused the message: {e}"))
                } else {
                    SendError::Transient(format!("the SMTP server could not take it: {e}"))
                }
            }),
            Transport::Folder(dir) => {
                let name = message_id.trim_matches(['<', '>']).replace(
                    |c: char| !c.is_ascii_alphanumeric() && c != '.' && c != '-',
                    "_",
                );
                let write = async {
                    tokio::fs::create_dir_all(dir).await?;
                    let path = dir.join(format!("{name}.eml"));
                    let partial = dir.join(format!(".{name}.eml.part"));
                    tokio::fs::write(&partial, message.formatted()).await?;
                    tokio::fs::rename(&partial, &path).await
                };
                write.await.map_err(|e| {
                    SendError::Transient(format!("cannot write to {}: {e}", dir.display()))
                })
            }
        }
    }
}

fn build(from: &str, to: &str, message_id: &str, r: &Rendered) -> Result<Message, SendError> {
    let from: Mailbox = from
        .parse()
        .map_err(|e| SendError::Permanent(format!("the sender {from:?} is not valid: {e}")))?;
    let to: Mailbox = to
        .parse()
        .map_err(|e| SendError::Permanent(format!("the address {to:?} is not valid: {e}")))?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(r.subject.clone())
        .message_id(Some(message_id.to_owned()))
        .multipart(
            MultiPart::alternative()
                .singlepart(SinglePart::plain(r.text.clone()))
                .singlepart(SinglePart::html(r.html.clone())),
        )
        .map_err(|e| SendError::Permanent(format!("cannot build the message: {e}")))
}
