//! API tokens: made and revoked by administrators, and read on every call of the API.

use crate::db::tokens::{NewToken, TokenRow};
use crate::db::users::{self, User};
use crate::db::{now_ms, Db};
use crate::domain::Catalog;
use crate::gate::cache::ApiCache;
use crate::service::error::Error;
use serde::Deserialize;
use std::collections::BTreeMap;

pub const SCOPES: [&str; 6] = [
    "gate:read",
    "requests:write",
    "events:write",
    "requests:on-behalf",
    "audit:read",
    "metrics:read",
];

/// The scope that lets a pipeline name another person as a request's requester.
pub const ON_BEHALF: &str = "requests:on-behalf";

/// What a token looks like: `rwy_` and 48 hex digits.
const TOKEN_PREFIX: &str = "rwy_";

pub use crate::domain::sha256_hex;

/// The token form an administrator fills in.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TokenForm {
    pub name: String,
    pub scopes: Vec<String>,
    /// Application ids; `*` (alone) for every application.
    pub applications: Vec<String>,
    /// The portal user the pipeline's requests come from unless they name someone.
    pub acts_as: String,
}

/// A new token: its id and the secret, shown once and never stored.
pub struct Created {
    pub id: i64,
    pub secret: String,
}

fn not_admin() -> Error {
    Error::Forbidden("Only administrators manage API tokens.".into())
}

pub async fn create_token(
    db: &Db,
    catalog: &Catalog,
    admin: &User,
    form: &TokenForm,
) -> Result<Created, Error> {
    if !admin.is_admin {
        return Err(not_admin());
    }
    let mut errors = BTreeMap::new();
    let name = form.name.trim();
    if name.is_empty() {
        errors.insert(
            "name".into(),
            "Give the token a name (which pipeline uses it).".into(),
        );
    } else if let Some(p) = crate::domain::text::line_problem(name, 80) {
        errors.insert("name".into(), p);
    }
    let mut scopes: Vec<String> = form.scopes.iter().map(|s| s.trim().to_owned()).collect();
    scopes.sort();
    scopes.dedup();
    if scopes.is_empty() {
        errors.insert("scopes".into(), "Choose at least one scope.".into());
    } else if let Some(bad) = scopes.iter().find(|s| !SCOPES.contains(&s.as_str())) {
        errors.insert(
            "scopes".into(),
            format!("{bad} is not a scope; scopes are {}.", SCOPES.join(", ")),
        );
    }
    let mut applications: Vec<String> = form
        .applications
        .iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    applications.sort();
    applications.dedup();
    if applications.is_empty() {
        errors.insert(
            "applications".into(),
            "Choose the applications it may touch, or every application.".into(),
        );
    } else if applications.iter().any(|a| a == "*") && applications.len() > 1 {
        errors.insert(
            "applications".into(),
            "Every application (*) or a list, not both.".into(),
        );
    } else if let Some(bad) = applications
        .iter()
        .find(|a| *a != "*" && catalog.application(a).is_none())
    {
        errors.insert(
            "applications".into(),
            format!("There is no application {bad}."),
        );
    }
    let acts_as = form.acts_as.trim();
    let user = if acts_as.is_empty() {
        Some(admin.clone())
    } else {
        users::by_username(db, acts_as).await?
    };
    if user.is_none() {
        errors.insert("acts_as".into(), format!("There is no user {acts_as}."));
    }
    let Some(user) = user.filter(|_| errors.is_empty()) else {
        return Err(Error::Invalid(errors));
    };
    let mut random = [0u8; 24];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut random);
    let secret = format!(
        "{TOKEN_PREFIX}{}",
        random
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let now = now_ms();
    let mut tx = db.write().await?;
    let id = crate::db::tokens::insert_token(
        &mut tx,
        &NewToken {
            name,
            prefix: &secret[..TOKEN_PREFIX.len() + 8],
            secret_hash: &sha256_hex(secret.as_bytes()),
            scopes: &scopes,
            applications: &applications,
            user_id: user.id,
            created_by: admin.id,
            now,
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(token = id, name, by = %admin.username, "API token created");
    Ok(Created { id, secret })
}

pub async fn revoke_token(db: &Db, cache: &ApiCache, admin: &User, id: i64) -> Result<(), Error> {
    if !admin.is_admin {
        return Err(not_admin());
    }
    if crate::db::tokens::revoke_token(db, id, now_ms()).await? {
        cache.forget(id);
        tracing::info!(token = id, by = %admin.username, "API token revoked");
        Ok(())
    } else {
        Err(Error::NotFound(format!(
            "There is no live token {id} (revoked already?)."
        )))
    }
}

pub async fn tokens(db: &Db, admin: &User) -> Result<Vec<TokenRow>, Error> {
    if !admin.is_admin {
        return Err(not_admin());
    }
    Ok(crate::db::tokens::tokens(db).await?)
}

/// The token an `Authorization` header carries, if it is live.
pub async fn authenticate(
    db: &Db,
    cache: &ApiCache,
    header: Option<&str>,
) -> Result<std::sync::Arc<TokenRow>, Error> {
    let Some(header) = header else {
        return Err(Error::Unauthorized(
            "Send an API token: Authorization: Bearer rwy_…".into(),
        ));
    };
    let secret = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|s| s.starts_with(TOKEN_PREFIX))
        .ok_or_else(|| {
            Error::Unauthorized(
                "The Authorization header must be \"Bearer rwy_…\" with an API token.".into(),
            )
        })?;
    let hash = sha256_hex(secret.as_bytes());
    let token = match cache.token(&hash) {
        Some(token) => token,
        None => {
            let generation = cache.generation();
            let token =
                std::sync::Arc::new(crate::db::tokens::live_token(db, &hash).await?.ok_or_else(
                    || Error::Unauthorized("This API token is unknown or was revoked.".into()),
                )?);
            cache.keep(generation, &hash, token.clone());
            token
        }
    };
    if cache.touch_due(&hash) {
        crate::db::tokens::touch_token(db, token.id, now_ms()).await?;
    }
    Ok(token)
}

/// Refuses a token without `scope`, or not allowed to touch `application`.
pub fn authorize(token: &TokenRow, scope: &str, application: &str) -> Result<(), Error> {
    authorize_any(token, &[scope], application)
}

/// Refuses a token with none of `scopes`.
pub fn require_scope(token: &TokenRow, scopes: &[&str]) -> Result<(), Error> {
    if token.scopes.iter().any(|s| scopes.contains(&s.as_str())) {
        return Ok(());
    }
    Err(Error::Forbidden(format!(
        "The token \"{}\" lacks the scope {}.",
        token.name,
        scopes.join(" or ")
    )))
}

/// Refuses a token with none of `scopes`, or not allowed to touch `application`.
pub fn authorize_any(token: &TokenRow, scopes: &[&str], application: &str) -> Result<(), Error> {
    require_scope(token, scopes)?;
    if !token
        .applications
        .iter()
        .any(|a| a == "*" || a == application)
    {
        return Err(Error::Forbidden(format!(
            "The token \"{}\" may not touch the application {application}.",
            token.name
        )));
    }
    Ok(())
}
