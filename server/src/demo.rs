//! Demo accounts, created only in demo mode.

use crate::auth::password;
use crate::db::{users, Db};

pub const PASSWORD: &str = "runway-demo";

pub struct DemoUser {
    pub username: &'static str,
    pub display_name: &'static str,
    pub teams: &'static [&'static str],
    pub admin: bool,
    pub role: &'static str,
}

pub const USERS: [DemoUser; 8] = [
    DemoUser {
        username: "ada",
        display_name: "Ada Lovelace",
        teams: &["fintech"],
        admin: false,
        role: "Fintech, requests Banking releases",
    },
    DemoUser {
        username: "ben",
        display_name: "Ben Owner",
        teams: &["banking-owners"],
        admin: false,
        role: "Banking owners, approves stage 1",
    },
    DemoUser {
        username: "cleo",
        display_name: "Cleo Board",
        teams: &["cab"],
        admin: false,
        role: "CAB, approves stage 2",
    },
    DemoUser {
        username: "dev",
        display_name: "Dev Board",
        teams: &["cab"],
        admin: false,
        role: "CAB, approves stage 2",
    },
    DemoUser {
        username: "olga",
        display_name: "Olga Ops",
        teams: &["ops"],
        admin: false,
        role: "Operations, watches every request",
    },
    DemoUser {
        username: "wes",
        display_name: "Wes Web",
        teams: &["web"],
        admin: false,
        role: "Web, releases the Storefront",
    },
    DemoUser {
        username: "pia",
        display_name: "Pia Patel",
        teams: &["web"],
        admin: false,
        role: "reviews Storefront releases",
    },
    DemoUser {
        username: "root",
        display_name: "Root Admin",
        teams: &[],
        admin: true,
        role: "administrator",
    },
];

/// Where a demo account's mail goes.
pub fn email(username: &str) -> String {
    format!("{username}@runway.example")
}

/// Creates the demo accounts that do not exist yet, each with an address.
pub async fn seed(db: &Db) -> anyhow::Result<()> {
    let mut hash = None;
    for u in &USERS {
        if users::password_hash(db, u.username).await?.is_some() {
            // Accounts made before addresses existed get theirs.
            users::set_email_if_unset(db, u.username, &email(u.username)).await?;
            continue;
        }
        if hash.is_none() {
            hash = Some(password::hash_blocking(PASSWORD.to_owned()).await?);
        }
        let teams: Vec<String> = u.teams.iter().map(|t| (*t).to_owned()).collect();
        match users::create(
            db,
            u.username,
            u.display_name,
            hash.as_deref().unwrap_or_default(),
            u.admin,
            &teams,
        )
        .await
        {
            Ok(_) => {
                users::set_email(db, u.username, &email(u.username)).await?;
            }
            // Another replica created it meanwhile.
            Err(users::CreateUserError::Exists(_)) => {}
            Err(users::CreateUserError::Db(e)) => return Err(e.into()),
        }
    }
    Ok(())
}
