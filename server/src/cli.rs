//! `runway serve | user add | user passwd | user disable | user enable | catalog check | audit
//! verify`.

use crate::auth::password;
use crate::catalog::store::CatalogStore;
use crate::config::Settings;
use crate::db::Db;
use crate::startup::Application;
use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

/// Runway: release requests, approvals and deployments. Settings come from RUNWAY_*
/// environment variables (see the README).
#[derive(Debug, Parser)]
#[command(name = "runway", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the portal (the default).
    Serve,
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Work with catalog files.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Check the audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Walk every request's hash chain and name the first event changed, removed or inserted
    /// behind the portal's back; exits with status 1 when one is found.
    Verify,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create an account. The password is read from standard input; without one, a password
    /// is generated and printed once.
    Add {
        name: String,
        /// Catalog team ids the user belongs to (repeat or separate with commas).
        #[arg(long = "team", value_delimiter = ',')]
        teams: Vec<String>,
        #[arg(long)]
        admin: bool,
        /// Full name shown in the portal (defaults to the user name).
        #[arg(long)]
        display_name: Option<String>,
        /// Where their notifications are mailed (they may change it on their profile).
        #[arg(long)]
        email: Option<String>,
    },
    /// Set a new password, read from standard input (or generated and printed once).
    Passwd { name: String },
    /// Disable an account: it cannot sign in, and its open sessions end at their next request,
    /// on every replica.
    Disable { name: String },
    /// Enable a disabled account again.
    Enable { name: String },
}

#[derive(Debug, Subcommand)]
enum CatalogCommand {
    /// Validate a catalog file without applying it.
    Check { file: PathBuf },
}

pub async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve().await,
        Command::Catalog(CatalogCommand::Check { file }) => {
            let loaded = crate::catalog::load_file(&file)?;
            let c = &loaded.catalog;
            let envs: usize = c.applications.iter().map(|a| a.environments.len()).sum();
            println!(
                "{} is valid: {} teams, {} applications, {envs} environments, {} windows, {} freezes ({})",
                file.display(),
                c.teams.len(),
                c.applications.len(),
                c.windows.len(),
                c.freezes.len(),
                loaded.checksum
            );
            Ok(())
        }
        Command::Audit(AuditCommand::Verify) => verify_audit().await,
        Command::User(cmd) => {
            let settings = Settings::from_env()?;
            let db = Db::connect(&settings.database_url, 2).await?;
            db.migrate().await?;
            match cmd {
                UserCommand::Add {
                    name,
                    teams,
                    admin,
                    display_name,
                    email,
                } => {
                    let person = NewPerson {
                        name: &name,
                        teams: &teams,
                        admin,
                        display_name,
                        email,
                    };
                    add_user(&db, &settings, person).await
                }
                UserCommand::Disable { name } => disable(&db, &name, true).await,
                UserCommand::Enable { name } => disable(&db, &name, false).await,
                UserCommand::Passwd { name } => {
                    use crate::service::accounts::{id_of, reset_password, Actor};
                    let (secret, generated) = read_password()?;
                    let id = id_of(&db, &name).await?;
                    reset_password(&db, Actor::CommandLine, id, Some(secret.clone())).await?;
                    announce(&name, &secret, generated, "password changed");
                    Ok(())
                }
            }
        }
    }
}

async fn disable(db: &Db, name: &str, off: bool) -> anyhow::Result<()> {
    use crate::service::accounts::{id_of, set_disabled, Actor};
    let id = id_of(db, name).await?;
    set_disabled(db, Actor::CommandLine, id, off).await?;
    println!("{name} {}", if off { "disabled" } else { "enabled" });
    Ok(())
}

async fn verify_audit() -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    let db = Db::connect(&settings.database_url, 2).await?;
    db.migrate().await?;
    crate::db::audit_trail::chain_unchained(&db).await?;
    let found = crate::service::audit::verify(&db).await?;
    let described = found.described();
    for line in &described {
        println!("{line}");
    }
    if described.is_empty() {
        println!(
            "The audit trail is intact: {} events of {} requests, and {} administration events.",
            found.events, found.requests, found.admin_events
        );
        Ok(())
    } else {
        bail!(
            "the audit trail was altered behind the portal's back: {} of {} requests{}",
            found.findings.len(),
            found.requests,
            if found.admin_finding.is_some() {
                ", and the administration trail"
            } else {
                ""
            }
        )
    }
}

async fn serve() -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    crate::telemetry::init(&settings);
    let public_url = settings.public_url.clone();
    let demo = settings.demo;
    let app = Application::build(settings).await?;
    tracing::info!(port = app.port(), "Runway is listening");
    println!("Runway is ready at {public_url}");
    if demo {
        println!(
            "Demo logins (password \"{}\"): {}",
            crate::demo::PASSWORD,
            crate::demo::USERS
                .iter()
                .map(|u| format!("{} ({})", u.username, u.role))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    app.run_until_stopped().await
}

struct NewPerson<'a> {
    name: &'a str,
    teams: &'a [String],
    admin: bool,
    display_name: Option<String>,
    email: Option<String>,
}

async fn add_user(db: &Db, settings: &Settings, person: NewPerson<'_>) -> anyhow::Result<()> {
    let NewPerson {
        name,
        teams,
        admin,
        display_name,
        email,
    } = person;
    use crate::service::accounts::{create, Actor, NewAccount};
    use crate::service::error::Error;
    let file = crate::startup::read_catalog(settings)?;
    let catalog = CatalogStore::open(db, file).await?.current();
    let (secret, generated) = read_password()?;
    let form = NewAccount {
        username: name.to_owned(),
        display_name: display_name.unwrap_or_else(|| name.to_owned()),
        email: email.unwrap_or_default(),
        teams: teams.to_vec(),
        admin,
        password: Some(secret.clone()),
    };
    match create(db, &catalog.catalog, Actor::CommandLine, form).await {
        Ok(_) => {}
        Err(Error::Invalid(fields)) => bail!("{}", Error::field_words(&fields, "; ")),
        Err(e) => return Err(e.into()),
    }
    announce(name, &secret, generated, "user created");
    Ok(())
}

/// The first line of standard input, or a generated password when there is none.
fn read_password() -> anyhow::Result<(String, bool)> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        let line = line.trim_end_matches(['\r', '\n']).to_owned();
        if line.chars().count() > password::MAX_LEN {
            bail!(
                "the password is too long ({} characters at most)",
                password::MAX_LEN
            );
        }
        if !line.is_empty() {
            if line.chars().count() < 8 {
                bail!("the password is too short (8 characters at least)");
            }
            return Ok((line, false));
        }
    }
    Ok((password::generate(), true))
}

fn announce(name: &str, secret: &str, generated: bool, what: &str) {
    if generated {
        println!("{what}: {name}\ngenerated password (shown once): {secret}");
    } else {
        println!("{what}: {name}");
    }
}
