//! Administering accounts: create, disable and enable, teams, password resets, administration
//! rights. Each change commits with its entry in the administration trail, or not at all.

use super::error::{Error, Result};
use crate::auth::{password, MAX_USERNAME_LEN};
use crate::db::users::{CreateUserError, User};
use crate::db::{accounts, admin_events, now_ms, provider_accounts, users, Db, Write};
use crate::domain::admin_audit::AdminEvent;
use crate::domain::text::{email_problem, line_problem, username_problem};
use crate::domain::Catalog;

/// Who acts: an administrator signed in, or the command line on the portal's host (which may do
/// what a signed-in administrator may not, such as remove the last administrator).
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    Admin(&'a User),
    CommandLine,
}

impl Actor<'_> {
    fn id(&self) -> Option<i64> {
        match self {
            Actor::Admin(u) => Some(u.id),
            Actor::CommandLine => None,
        }
    }

    fn allowed(&self) -> Result<()> {
        match self {
            Actor::Admin(u) if !u.is_admin => Err(Error::Forbidden(
                "Only administrators may manage accounts.".into(),
            )),
            _ => Ok(()),
        }
    }

    fn is(&self, user_id: i64) -> bool {
        self.id() == Some(user_id)
    }
}

pub const MAX_DISPLAY_NAME: usize = 100;

/// A new local account as the form gives it.
#[derive(Debug, Clone, Default)]
pub struct NewAccount {
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub teams: Vec<String>,
    pub admin: bool,
    /// The command line's chosen password; generated when `None`.
    pub password: Option<String>,
}

/// Accounts matching `query`, for the administration page.
pub async fn search(db: &Db, actor: Actor<'_>, query: &str) -> Result<Vec<accounts::Account>> {
    actor.allowed()?;
    let query = crate::domain::text::searchable(query);
    Ok(accounts::search(&db.pool, query.trim(), now_ms(), 200).await?)
}

/// Teams the catalog does not define, as a field error (none before a catalog defines teams).
fn check_teams(catalog: &Catalog, teams: &[String]) -> Result<()> {
    if catalog.teams.is_empty() {
        return Ok(());
    }
    let unknown: Vec<&str> = teams
        .iter()
        .filter(|t| catalog.team(t).is_none())
        .map(String::as_str)
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    let known: Vec<&str> = catalog.teams.iter().map(|t| t.id.as_str()).collect();
    Err(Error::invalid(
        "teams",
        format!(
            "The catalog has no team {}; it has {}.",
            unknown.join(", "),
            known.join(", ")
        ),
    ))
}

/// Creates a local account with a generated password, returned to be shown once.
pub async fn create(
    db: &Db,
    catalog: &Catalog,
    actor: Actor<'_>,
    form: NewAccount,
) -> Result<(i64, String)> {
    actor.allowed()?;
    let username = form.username.trim();
    let display_name = form.display_name.trim();
    let email = form.email.trim();
    let mut problems = crate::domain::request::FieldErrors::new();
    if let Some(p) = username_problem(username, MAX_USERNAME_LEN) {
        problems.insert("username".into(), p);
    }
    if display_name.is_empty() {
        problems.insert("display_name".into(), "Required.".into());
    } else if let Some(p) = line_problem(display_name, MAX_DISPLAY_NAME) {
        problems.insert("display_name".into(), p);
    }
    if let Some(p) = (!email.is_empty()).then(|| email_problem(email)).flatten() {
        problems.insert("email".into(), p);
    }
    if let Err(Error::Invalid(teams)) = check_teams(catalog, &form.teams) {
        problems.extend(teams);
    }
    if !problems.is_empty() {
        return Err(Error::Invalid(problems));
    }
    let mut teams = form.teams.clone();
    teams.sort();
    teams.dedup();
    let (secret, hash) = new_password(form.password).await?;
    let (mut tx, _) = begin(db, actor).await?;
    let id = users::insert(&mut tx, username, display_name, &hash, form.admin, &teams)
        .await
        .map_err(|e| match e {
            CreateUserError::Exists(name) => {
                Error::invalid("username", format!("A user named {name} already exists."))
            }
            CreateUserError::Db(e) => e.into(),
        })?;
    if !email.is_empty() {
        accounts::set_email(&mut tx, id, email).await?;
    }
    let event = AdminEvent::UserCreated {
        user: username.to_owned(),
        display_name: display_name.to_owned(),
        admin: form.admin,
        teams,
    };
    commit(db, tx, actor, &event).await?;
    Ok((id, secret))
}

/// Appends the event to the administration trail and commits, counted as a change: every
/// replica's gate forgets what it knew of the account's tokens.
async fn commit(db: &Db, mut tx: Write, actor: Actor<'_>, event: &AdminEvent) -> Result<()> {
    admin_events::append(&mut tx, db.kind, actor.id(), event, now_ms()).await?;
    tx.commit().await?;
    tracing::info!(by = ?actor.id(), event = %event.describe(), "account changed");
    Ok(())
}

/// A write transaction for an administration change, and the enabled administrators, held. An
/// administrator acting is read again inside it: one demoted or disabled a moment ago is refused.
async fn begin(db: &Db, actor: Actor<'_>) -> Result<(Write, Vec<i64>)> {
    let mut tx = db.write().await?;
    let admins = accounts::lock_admins(&mut tx, db.kind).await?;
    if let Actor::Admin(u) = actor {
        if !admins.contains(&u.id) {
            return Err(Error::Forbidden(
                "Only administrators may manage accounts.".into(),
            ));
        }
    }
    Ok((tx, admins))
}

/// The account, its row held; `NotFound` when there is none.
async fn take(db: &Db, tx: &mut Write, user_id: i64) -> Result<(String, bool, bool)> {
    accounts::take(tx, db.kind, user_id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("There is no user {user_id}.")))
}

/// Refuses a change that the identity provider owns for a person who signs in through it.
async fn not_linked(tx: &mut Write, user_id: i64, user: &str, what: &str) -> Result<()> {
    if provider_accounts::is_linked(tx, user_id).await? {
        return Err(Error::Conflict(format!(
            "{user} signs in through the identity provider and {what}."
        )));
    }
    Ok(())
}

/// Refuses to leave the portal without an enabled administrator, when an administrator acts.
fn keep_an_admin(admins: &[i64], actor: Actor<'_>, user_id: i64, what: &str) -> Result<()> {
    if matches!(actor, Actor::Admin(_)) && !admins.iter().any(|a| *a != user_id) {
        return Err(Error::Conflict(format!(
            "{what} would leave the portal without an enabled administrator."
        )));
    }
    Ok(())
}

/// Disables the account, ending every session of theirs at once, or enables it. The name of the
/// account changed.
pub async fn set_disabled(
    db: &Db,
    actor: Actor<'_>,
    user_id: i64,
    disable: bool,
) -> Result<String> {
    actor.allowed()?;
    if disable && actor.is(user_id) {
        return Err(Error::Conflict(
            "You cannot disable your own account.".into(),
        ));
    }
    let (mut tx, admins) = begin(db, actor).await?;
    let (user, is_admin, disabled) = take(db, &mut tx, user_id).await?;
    if disabled == disable {
        let state = if disable { "disabled" } else { "enabled" };
        return Err(Error::Conflict(format!("{user} is already {state}.")));
    }
    let event = if disable {
        if is_admin {
            keep_an_admin(&admins, actor, user_id, "Disabling them")?;
        }
        accounts::set_disabled(&mut tx, user_id, Some(now_ms())).await?;
        let sessions_ended = accounts::end_sessions(&mut tx, user_id).await?;
        AdminEvent::UserDisabled {
            user: user.clone(),
            sessions_ended,
        }
    } else {
        accounts::set_disabled(&mut tx, user_id, None).await?;
        AdminEvent::UserEnabled { user: user.clone() }
    };
    commit(db, tx, actor, &event).await?;
    Ok(user)
}

/// Replaces the account's teams.
pub async fn set_teams(
    db: &Db,
    catalog: &Catalog,
    actor: Actor<'_>,
    user_id: i64,
    mut teams: Vec<String>,
) -> Result<String> {
    actor.allowed()?;
    teams.sort();
    teams.dedup();
    check_teams(catalog, &teams)?;
    let (mut tx, _) = begin(db, actor).await?;
    let (user, ..) = take(db, &mut tx, user_id).await?;
    not_linked(
        &mut tx,
        user_id,
        &user,
        "takes their teams from their groups there",
    )
    .await?;
    // Sorted here, not by the database, whose collation may order names otherwise.
    let mut from = accounts::teams(&mut **tx, user_id).await?;
    from.sort();
    if from == teams {
        return Err(Error::Conflict(format!(
            "{user} is already in exactly these teams."
        )));
    }
    accounts::set_teams(&mut tx, user_id, &teams).await?;
    let event = AdminEvent::TeamsSet {
        user: user.clone(),
        from,
        to: teams,
    };
    commit(db, tx, actor, &event).await?;
    Ok(user)
}

/// The password given, or a generated one, and its hash.
async fn new_password(given: Option<String>) -> Result<(String, String)> {
    let secret = given.unwrap_or_else(password::generate);
    let hash = password::hash_blocking(secret.clone())
        .await
        .map_err(|e| Error::Internal(e.into()))?;
    Ok((secret, hash))
}

/// Gives the account a new password (generated unless the command line gives one), returned to
/// be shown once, and ends its sessions: whoever held the old one is signed out.
pub async fn reset_password(
    db: &Db,
    actor: Actor<'_>,
    user_id: i64,
    given: Option<String>,
) -> Result<(String, String)> {
    actor.allowed()?;
    let (secret, hash) = new_password(given).await?;
    let (mut tx, _) = begin(db, actor).await?;
    let (user, ..) = take(db, &mut tx, user_id).await?;
    not_linked(&mut tx, user_id, &user, "has no password here to reset").await?;
    accounts::set_password(&mut tx, user_id, &hash).await?;
    let sessions_ended = if actor.is(user_id) {
        0
    } else {
        accounts::end_sessions(&mut tx, user_id).await?
    };
    let event = AdminEvent::PasswordReset {
        user: user.clone(),
        sessions_ended,
    };
    commit(db, tx, actor, &event).await?;
    Ok((user, secret))
}

/// Grants or removes administration rights.
pub async fn set_admin(db: &Db, actor: Actor<'_>, user_id: i64, admin: bool) -> Result<String> {
    actor.allowed()?;
    if !admin && actor.is(user_id) {
        return Err(Error::Conflict(
            "You cannot remove your own administration rights: ask another administrator.".into(),
        ));
    }
    let (mut tx, admins) = begin(db, actor).await?;
    let (user, is_admin, _) = take(db, &mut tx, user_id).await?;
    if is_admin == admin {
        let already = if admin {
            "an administrator"
        } else {
            "not an administrator"
        };
        return Err(Error::Conflict(format!("{user} is already {already}.")));
    }
    if !admin {
        keep_an_admin(&admins, actor, user_id, "Removing their rights")?;
    }
    accounts::set_admin(&mut tx, user_id, admin).await?;
    let event = if admin {
        AdminEvent::AdminGranted { user: user.clone() }
    } else {
        AdminEvent::AdminRemoved { user: user.clone() }
    };
    commit(db, tx, actor, &event).await?;
    Ok(user)
}

/// The id of the account named `username` (for the command line).
pub async fn id_of(db: &Db, username: &str) -> Result<i64> {
    users::by_username(db, username)
        .await?
        .map(|u| u.id)
        .ok_or_else(|| Error::NotFound(format!("no user is named {username}")))
}
