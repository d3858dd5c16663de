//! Who is signed in: passwords, the login throttle and the session keys.

pub mod oidc;
pub mod password;
pub mod throttle;

use crate::db::{users, Db};
use throttle::LoginThrottle;

/// Session key holding the signed-in user's id.
pub const SESSION_USER: &str = "user_id";
pub const MAX_USERNAME_LEN: usize = 64;

#[derive(Debug, PartialEq, Eq)]
pub enum LoginOutcome {
    SignedIn(i64),
    /// Wrong user name or password: one answer for both.
    Refused,
    /// The right password for an account an administrator disabled.
    Disabled,
    Throttled {
        retry_after_secs: u64,
    },
}

/// Checks a user name and password, honouring the throttle.
#[tracing::instrument(skip(db, throttle, password))]
pub async fn login(
    db: &Db,
    throttle: &LoginThrottle,
    username: &str,
    password: &str,
    client: &str,
) -> anyhow::Result<LoginOutcome> {
    if let Err(secs) = throttle.admit(db, username, client).await? {
        return Ok(LoginOutcome::Throttled {
            retry_after_secs: secs,
        });
    }
    let account = users::password_hash(db, username).await?;
    let (id, hash) = match account {
        Some((id, hash)) => (Some(id), Some(hash)),
        None => (None, None),
    };
    let valid = password::verify_blocking(password.to_owned(), hash).await;
    match id.filter(|_| valid) {
        Some(id) => {
            throttle.succeeded(db, username, client).await?;
            if users::by_id(db, id).await?.is_some_and(|u| u.disabled) {
                tracing::info!(username, client, "sign-in of a disabled account refused");
                return Ok(LoginOutcome::Disabled);
            }
            Ok(LoginOutcome::SignedIn(id))
        }
        None => {
            tracing::info!(username, client, "failed sign-in");
            Ok(LoginOutcome::Refused)
        }
    }
}
