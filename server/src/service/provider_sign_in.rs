//! A sign-in through the company's OpenID provider, once its ID token is verified: the person's
//! account is made at their first sign-in and their teams follow their provider groups at every
//! one. The account change and its entry in the administration trail commit together.

use super::error::Result;
use crate::auth::MAX_USERNAME_LEN;
use crate::db::{accounts, admin_events, now_ms, provider_accounts, users, Db, Write};
use crate::domain::admin_audit::AdminEvent;
use crate::domain::text::{email_problem, line_problem, username_problem};
use crate::domain::Catalog;

/// Who the provider vouched for, read from a verified ID token.
#[derive(Debug, Clone)]
pub struct ProviderIdentity {
    /// The issuer and the subject there: the one thing that names a person for good.
    pub subject: String,
    /// What the person would like to be called here (`preferred_username`, else the email).
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub groups: Vec<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum ProviderOutcome {
    SignedIn(i64),
    /// An administrator disabled the account.
    Disabled,
}

/// Signs the person in, making or refreshing their account.
pub async fn sign_in(
    db: &Db,
    catalog: &Catalog,
    who: &ProviderIdentity,
) -> Result<ProviderOutcome> {
    let teams = catalog.teams_for_groups(&who.groups);
    let display_name = display_name(who);
    let mut tx = db.write().await?;
    let (user_id, event) = match provider_accounts::find(&mut tx, &who.subject).await? {
        Some((_, username, true)) => {
            tracing::info!(%username, "provider sign-in of a disabled account refused");
            return Ok(ProviderOutcome::Disabled);
        }
        Some((id, username, false)) => {
            provider_accounts::set_display_name(&mut tx, id, &display_name).await?;
            let mut from = accounts::teams(&mut **tx, id).await?;
            from.sort();
            let event = (from != teams).then(|| AdminEvent::TeamsFromProvider {
                user: username,
                from,
                to: teams.clone(),
            });
            if event.is_some() {
                accounts::set_teams(&mut tx, id, &teams).await?;
            }
            (id, event)
        }
        None => {
            let username = free_username(&mut tx, &who.username).await?;
            let id = users::insert(&mut tx, &username, &display_name, "", false, &teams)
                .await
                .map_err(|e| super::error::Error::Internal(e.into()))?;
            provider_accounts::link(&mut tx, id, &who.subject).await?;
            (id, Some(joined(username, display_name, teams)))
        }
    };
    if let Some(email) = who.email.as_deref().filter(|e| email_problem(e).is_none()) {
        accounts::set_email(&mut tx, user_id, email).await?;
    }
    if let Some(event) = &event {
        admin_events::append(&mut tx, db.kind, Some(user_id), event, now_ms()).await?;
    }
    tx.commit().await?;
    if let Some(event) = event {
        tracing::info!(user_id, event = %event.describe(), "account changed at sign-in");
    }
    Ok(ProviderOutcome::SignedIn(user_id))
}

fn joined(user: String, display_name: String, teams: Vec<String>) -> AdminEvent {
    AdminEvent::JoinedThroughProvider {
        user,
        display_name,
        teams,
    }
}

/// The provider's name for the person, if it is one line of sensible length; else their user name.
fn display_name(who: &ProviderIdentity) -> String {
    let name = who.display_name.trim();
    if name.is_empty() || line_problem(name, super::accounts::MAX_DISPLAY_NAME).is_some() {
        who.username.chars().take(MAX_USERNAME_LEN).collect()
    } else {
        name.to_owned()
    }
}

/// The wished-for name made a valid user name, then the first of `name`, `name-2`, … that no
/// account has. A local account is never taken over by a provider sign-in of the same name.
async fn free_username(tx: &mut Write, wished: &str) -> Result<String> {
    let base = valid_username(wished);
    for n in 1..=1000 {
        let candidate = if n == 1 {
            base.clone()
        } else {
            let suffix = format!("-{n}");
            let keep = MAX_USERNAME_LEN - suffix.len();
            format!("{}{suffix}", &base[..base.len().min(keep)])
        };
        if !provider_accounts::name_taken(tx, &candidate).await? {
            return Ok(candidate);
        }
    }
    Err(super::error::Error::Conflict(format!(
        "Every user name like {base} is taken."
    )))
}

/// Letters, digits and `._-@` of the wished-for name, lower-cased; `user` when none is left.
fn valid_username(wished: &str) -> String {
    let name: String = wished
        .trim()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "._-@".contains(*c))
        .map(|c| c.to_ascii_lowercase())
        .take(MAX_USERNAME_LEN)
        .collect();
    if username_problem(&name, MAX_USERNAME_LEN).is_some() {
        "user".to_owned()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::valid_username;

    #[test]
    fn wished_names_become_valid_user_names() {
        assert_eq!(valid_username("Fiona"), "fiona");
        assert_eq!(valid_username("fiona.b@example.com"), "fiona.b@example.com");
        assert_eq!(valid_username("Zoë <script>"), "zoscript");
        assert_eq!(valid_username("   "), "user");
        assert_eq!(valid_username(&"x".repeat(200)).len(), 64);
    }
}
