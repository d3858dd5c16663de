//! `runway serve | user add | user passwd | user disable | user enable | catalog check | audit
//! verify`.

use crate::auth::{password, MAX_USERNAME_LEN};
use crate::catalog::store::CatalogStore;
use crate::config::Settings;
use crate::db::{users, Db};
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
                    let (secret, generated) = read_password()?;
                    let hash = password::hash_blocking(secret.clone()).await?;
                    if !users::set_password(&db, &name, &hash).await? {
                        bail!("no user is named {name}");
                    }
                    announce(&name, &secret, generated, "password changed");
                    Ok(())
                }
            }
        }
    }
}

async fn disable(db: &Db, name: &str, off: bool) -> anyhow::Result<()> {
    let at = off.then(crate::db::now_ms);
    if !users::set_disabled(db, name, at).await? {
        bail!("no user is named {name}");
    }
    println!("{name} {}", if off { "disabled" } else { "enabled" });
    Ok(())
}

async fn verify_audit() -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    let db = Db::connect(&settings.database_url, 2).await?;
    db.migrate().await?;
    crate::db::audit_trail::chain_unchained(&db).await?;
    let found = crate::service::audit::verify(&db).await?;
    for (request, finding) in &found.findings {
        println!("{}", finding.describe(*request));
    }
    if found.findings.is_empty() {
        println!(
            "The audit trail is intact: {} events of {} requests.",
            found.events, found.requests
        );
        Ok(())
    } else {
        bail!(
            "the audit trail was altered behind the portal's back: {} of {} requests",
            found.findings.len(),
            found.requests
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
    if let Some(problem) = email
        .as_deref()
        .and_then(crate::domain::text::email_problem)
    {
        bail!("--email: {problem}");
    }
    let valid_name = !name.is_empty()
        && name.len() <= MAX_USERNAME_LEN
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c));
    if !valid_name {
        bail!("user name {name:?} is not valid: 1 to {MAX_USERNAME_LEN} letters, digits, '.', '_', '-' or '@'");
    }
    let file = crate::startup::read_catalog(settings)?;
    let catalog = CatalogStore::open(db, file).await?.current();
    if catalog.version.is_some() {
        let unknown: Vec<&String> = teams
            .iter()
            .filter(|t| catalog.catalog.team(t).is_none())
            .collect();
        if !unknown.is_empty() {
            let known: Vec<&str> = catalog
                .catalog
                .teams
                .iter()
                .map(|t| t.id.as_str())
                .collect();
            bail!(
                "unknown team {unknown:?} (the catalog has: {})",
                known.join(", ")
            );
        }
    }
    let (secret, generated) = read_password()?;
    let hash = password::hash_blocking(secret.clone()).await?;
    let display = display_name.unwrap_or_else(|| name.to_owned());
    users::create(db, name, &display, &hash, admin, teams)
        .await
        .context("cannot create the user")?;
    if let Some(email) = &email {
        users::set_email(db, name, email).await?;
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
